/** The chaos fault injector against a fleet of fake processes: what each fault does and what it reports. */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultInjector } from '../../../scripts/chaos/faults.js';
import { ChaosFleet } from '../../../scripts/chaos/fleet.js';
import { fanOut } from '../../../scripts/chaos/observer.js';
import { FaultTally } from '../../../scripts/chaos/report.js';
import type { FaultEvent } from '../../../scripts/chaos/schedule.js';
import { createRng } from '../../../shared/rng.js';
import { fakeSpawner } from './fake-proc.js';

let root = '';
let fleet: ChaosFleet | null = null;
afterEach(async () => {
  await fleet?.stopAll();
  if (root) rmSync(root, { recursive: true, force: true });
});

function setup() {
  root = mkdtempSync(join(tmpdir(), 'lamer-faults-'));
  const runDir = join(root, 'run');
  mkdirSync(join(runDir, 'logs'), { recursive: true });
  const tally = new FaultTally();
  const killing: string[] = [];
  const observer = fanOut([tally, { killing: (p) => killing.push(p.role) }]);
  const s = fakeSpawner();
  fleet = new ChaosFleet({
    root,
    runDir,
    host: '127.0.0.1',
    port: 1,
    actors: 2,
    seed: 1,
    endAt: Date.now() + 60_000,
    minutes: 1,
    observer,
    spawn: s.spawn,
  });
  fleet.startLearner();
  fleet.startActors('run-1', '00112233445566778899aabbccddeeff');
  const faults = new FaultInjector({ fleet, rng: createRng(4), runDir, net: null, observer });
  return { fleet, faults, tally, killing, started: s.started, runDir };
}

describe('FaultInjector', () => {
  it('an actor kill SIGKILLs one actor, counts it by mode and restarts it', async () => {
    const { fleet, faults, tally, killing, started } = setup();
    await faults.inject({ at: 0, type: 'actorKill', mode: 'random' });
    expect(tally.actorKills).toBe(1);
    expect(tally.actorKillModes).toEqual({ random: 1 });
    const victim = started.find((p) => p.signals.includes('SIGKILL'));
    expect(victim?.role).toMatch(/^a[01]$/);
    expect(killing).toEqual([victim?.role]);
    expect(started).toHaveLength(4); // the restart
    expect(started[3].role).toBe(victim?.role);
    expect(fleet.actors.every((a) => a.proc && !a.proc.exited)).toBe(true);
  });

  it('a triggered actor kill waits for its trigger (a new done line) and hits the longest-running actor', async () => {
    const { faults, tally, started } = setup();
    const log = join(root, 'trials', 'a0.jsonl');
    mkdirSync(join(root, 'trials'));
    writeFileSync(log, '');
    setTimeout(() => appendFileSync(log, '{"t":"done"}\n'), 20);
    await faults.inject({ at: 0, type: 'actorKill', mode: 'after-done' });
    expect(tally.actorKillModes).toEqual({ 'after-done': 1 });
    expect(started[1].signals).toEqual(['SIGKILL']); // a0 started first
  });

  it('an actor that is already gone is a skipped fault, not a kill', async () => {
    const { faults, tally, started } = setup();
    started[1].crash(1);
    started[2].crash(1);
    await faults.inject({ at: 0, type: 'actorKill', mode: 'random' });
    expect(tally.actorKills).toBe(0);
    expect(tally.faultsSkipped).toBe(1);
  });

  it('a stop pauses and continues its target', async () => {
    const { faults, tally, started } = setup();
    await faults.inject({ at: 0, type: 'stop', target: 'learner', ms: 5 });
    expect(started[0].signals).toEqual(['SIGSTOP', 'SIGCONT']);
    expect(tally.stops).toBe(1);
  });

  it('a plain learner kill restarts the learner and records what it must resume from', async () => {
    const { fleet, faults, tally, started, runDir } = setup();
    writeFileSync(
      join(runDir, 'logs', 'learner.log'),
      `${JSON.stringify({ msg: 'trained', learnerEpoch: 1, policyVersion: 6, offsets: [], time: 1 })}\n`,
    );
    await faults.inject({ at: 0, type: 'learnerKill', kind: 'plain' });
    expect(started[0].signals).toEqual(['SIGKILL']);
    expect(fleet.learner).toBe(started[3]);
    expect(tally.restarts).toEqual([
      expect.objectContaining({ kind: 'plain', pid: started[3].pid, versionBeforeKill: 6, expectedVersion: null }),
    ]);
    started[3].crash(0); // lets the optimizer watch finish
    await faults.settled();
    expect(tally.restarts[0].optimizerAdvanced).toBeNull();
    fleet.checkLearnerAfterFaults();
    expect(tally.unexpectedExits).toEqual(['learner: 0']);
  });

  it('run restarts crashed processes before each fault and skips what is left once out of time', async () => {
    const { faults, tally, started } = setup();
    started[1].crash(9);
    const ev: FaultEvent[] = [
      { at: 0, type: 'stop', target: 'learner', ms: 1 },
      { at: Date.now() + 80, type: 'stop', target: 'learner', ms: 1 },
      { at: Date.now() + 90, type: 'stop', target: 'learner', ms: 1 },
    ];
    await faults.run(ev, Date.now() + 40);
    expect(tally.unexpectedExits).toEqual(['a0: 9']);
    expect(started.map((p) => p.role)).toEqual(['learner', 'a0', 'a1', 'a0']);
    expect(tally.stops).toBe(1);
    expect(tally.faultsSkipped).toBe(2);
  });

  it('refuses a network fault without namespaces', async () => {
    const { faults } = setup();
    await expect(faults.inject({ at: 0, type: 'net', fault: 'loss', ms: 1 })).rejects.toThrow(/network namespaces/);
  });
});
