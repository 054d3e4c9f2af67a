/** The chaos process fleet with a fake spawner: arguments, restarts, crash detection, wind-down, stop. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChaosFleet } from '../../../scripts/chaos/fleet.js';
import type { ChaosObserver } from '../../../scripts/chaos/observer.js';
import { fakeSpawner } from './fake-proc.js';

const KEY = '00112233445566778899aabbccddeeff';

function fleet(observer: ChaosObserver = {}) {
  const s = fakeSpawner();
  const f = new ChaosFleet({
    root: '/r',
    runDir: '/r/run',
    host: '127.0.0.1',
    port: 4321,
    actors: 2,
    seed: 9,
    set: ['run.progressSec=1'],
    endAt: Date.now() + 120_000,
    minutes: 2,
    observer,
    spawn: s.spawn,
  });
  return { f, started: s.started };
}

describe('ChaosFleet', () => {
  it("starts the learner and the actors with their files, token and the run's total minutes", async () => {
    const spawned: string[] = [];
    const { f, started } = fleet({ spawned: (p) => spawned.push(p.role) });
    f.startLearner();
    f.startActors('run-x', KEY);
    expect(spawned).toEqual(['learner', 'a0', 'a1']);
    const [l, a0] = started;
    expect(l.spawnedWith.args).toContain('127.0.0.1:4321');
    expect(l.spawnedWith.args.join(' ')).toMatch(/--minutes 2\.000 /);
    expect(l.spawnedWith.args.join(' ')).toContain('--set run.progressSec=1');
    expect(l.spawnedWith.env?.LAMER_DEBUG_CHECKPOINT_DELAY_MS).toBe('25');
    expect(a0.spawnedWith.args).toEqual(expect.arrayContaining(['ws://127.0.0.1:4321', 'run-x', 'a0']));
    expect(a0.spawnedWith.args).toContain(join('/r', 'trials', 'a0.jsonl'));
    expect(a0.spawnedWith.env?.LAMER_TOKEN).toMatch(/\S/);
    expect(a0.spawnedWith.env?.LAMER_TOKEN).not.toBe(started[2].spawnedWith.env?.LAMER_TOKEN);
    await f.stopAll();
  });

  it('restarts a killed actor silently and a crashed one with a report', async () => {
    const crashes: string[] = [];
    const killing: string[] = [];
    const { f, started } = fleet({ crashed: (w) => crashes.push(w), killing: (p) => killing.push(p.role) });
    f.startLearner();
    f.startActors('run-x', KEY);
    const [, a0, a1] = started;
    f.markKilled(a0);
    a0.child.kill('SIGKILL');
    a1.crash(3);
    f.ensureActorsUp();
    expect(killing).toEqual(['a0']);
    expect(crashes).toEqual(['a1: 3']);
    expect(started.map((p) => p.role)).toEqual(['learner', 'a0', 'a1', 'a0', 'a1']);
    expect(f.actors[0].proc).toBe(started[3]);
    f.ensureActorsUp(); // all up: nothing to do
    expect(started).toHaveLength(5);
    await f.stopAll();
  });

  it('restarts a crashed learner during faults; after them, a learner down without a kill is a crash', async () => {
    const crashes: string[] = [];
    const { f, started } = fleet({ crashed: (w) => crashes.push(w) });
    f.startLearner();
    f.restartCrashedLearner();
    expect(started).toHaveLength(1);
    started[0].crash(1);
    f.restartCrashedLearner();
    expect(crashes).toEqual(['learner: 1']);
    expect(f.learner).toBe(started[1]);
    f.markKilled(f.learner);
    f.learner.child.kill('SIGKILL');
    f.checkLearnerAfterFaults();
    expect(crashes).toHaveLength(1);
    await f.stopAll();
  });

  it('until fails with the learner exit when the learner dies first', async () => {
    const { f, started } = fleet();
    f.startLearner();
    setTimeout(() => started[0].crash(2), 50);
    await expect(f.until('something', () => false, 5000)).rejects.toThrow(
      /learner exited \(code 2\) while waiting for something/,
    );
    await expect(f.until('a true thing', () => true, 10)).resolves.toBeUndefined();
    await f.stopAll();
  });

  it('finish reports how the learner exited; stopAll kills what is left, also paused processes', async () => {
    const { f, started } = fleet();
    f.startLearner();
    f.startActors('run-x', KEY);
    setTimeout(() => {
      started[0].crash(0);
      started[1].crash(0);
      started[2].crash(0);
    }, 20);
    expect(await f.finish(5000)).toBe('code 0');
    await f.stopAll();

    const g = fleet();
    g.f.startLearner();
    await g.f.stopAll();
    expect(g.started[0].signals).toEqual(['SIGCONT', 'SIGKILL']);
    expect(g.started[0].exited).toBe(true);
  });
});
