/**
 * Faults against real processes: a learner (`lamer learner`) and two actors (`lamer actor`) over WebSockets.
 * An actor is SIGKILLed mid-run and restarted (new incarnation, same durable outbox); the learner is SIGKILLed
 * and restarted on the same port. Checks: the learner resumes at its checkpointed version in a new epoch, actors
 * reconnect by themselves, the run finishes, and the ledger holds every trial key once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../fixtures/ports.js';
import { exited, until } from '../../scripts/lib/processes.js';
import { deriveActorToken } from '../../learner/auth.js';
import { Ledger } from '../../learner/ledger.js';
import { decodeTrial } from '../../proto/codec.js';
import { trialKeyString } from '../../proto/messages.js';
import { TINY as CHAOS_TINY } from '../../scripts/chaos/fleet.js';
import { CLI } from '../fixtures/cli.js';

// The chaos runs' tiny configuration (scripts/chaos/fleet.ts).
const TINY = CHAOS_TINY.flatMap((s) => ['--set', s]);

const children: ChildProcess[] = [];

/** A CLI process; its stdout is drained (an unread pipe would block it) and kept for assertions. */
function cli(args: string[], env: Record<string, string> = {}, errFile?: string): ChildProcess & { out: () => string } {
  const err = errFile ? openSync(errFile, 'a') : 'ignore';
  const p = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', err],
  });
  if (typeof err === 'number') closeSync(err);
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  children.push(p);
  return Object.assign(p, { out: () => out });
}

afterEach(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  children.length = 0;
});

function checkpoints(runDir: string): number[] {
  const d = join(runDir, 'checkpoints');
  return existsSync(d)
    ? readdirSync(d)
        .filter((x) => /^ckpt-\d+$/.test(x) && existsSync(join(d, x, 'MANIFEST.json')))
        .map((x) => Number(x.slice(5)))
    : [];
}

describe('faults (e2e, real processes)', () => {
  it('survives an actor SIGKILL and a learner SIGKILL: ' +
    'resumes at the checkpoint, no trial committed twice', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lamer-faults-'));
    const runDir = join(root, 'run');
    const port = await freePort();
    const learnerArgs = (minutes: string) => [
      'learner',
      '--listen',
      `127.0.0.1:${port}`,
      '--run-dir',
      runDir,
      '--iterations',
      '0',
      '--minutes',
      minutes,
      ...TINY,
    ];
    let learner = cli(learnerArgs('0.4'));
    const runId = await until(
      'run id',
      () => existsSync(join(runDir, 'run-id')) && readFileSync(join(runDir, 'run-id'), 'utf8').trim(),
    );
    const key = readFileSync(join(runDir, 'secrets', 'master.key'), 'utf8').trim();
    const startActor = (id: string) =>
      cli(
        [
          'actor',
          '--learner',
          `ws://127.0.0.1:${port}`,
          '--actor-id',
          id,
          '--run-id',
          runId,
          '--outbox-dir',
          join(root, 'outbox', id),
        ],
        { LAMER_TOKEN: deriveActorToken(key, id) },
        join(root, `${id}.stderr`),
      );
    let a0 = startActor('a0');
    const a1 = startActor('a1');

    // Actor SIGKILL mid-run, then a fresh process (new incarnation) with the same outbox.
    await until('checkpoint 2', () => Math.max(0, ...checkpoints(runDir)) >= 2);
    a0.kill('SIGKILL');
    await exited(a0);
    a0 = startActor('a0');

    // Learner SIGKILL after a later checkpoint; restart on the same port.
    await until('checkpoint 4', () => Math.max(0, ...checkpoints(runDir)) >= 4);
    learner.kill('SIGKILL');
    await exited(learner);
    const saved = Math.max(...checkpoints(runDir));
    // --minutes is a total over the run directory's invocations: the restart gets a larger one to train on.
    learner = cli(learnerArgs('0.8'));
    const code = await exited(learner);
    expect(code).toBe(0);
    expect(learner.out()).toMatch(
      new RegExp(`resuming run ${runId} from v${saved} \\(ckpt-0*${saved}\\), \\d+\\.\\d of 0\\.8 minutes used`),
    );
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    expect(summary.stoppedBy).toBe('minutes');
    expect(summary.policyVersion).toBeGreaterThan(saved);
    expect(summary.learnerEpoch).toBe(1);
    const log = readFileSync(join(runDir, 'logs', 'learner.log'), 'utf8');
    const resumed = log
      .split('\n')
      .filter((l) => l.includes('resumed from checkpoint'))
      .map((l) => JSON.parse(l));
    expect(resumed).toHaveLength(1);
    expect(resumed[0].policyVersion).toBe(saved);
    // Actors reconnected by themselves and exit when the learner says bye.
    expect(await exited(a0)).toBe(0);
    expect(await exited(a1)).toBe(0);

    // Exactly once: every ledger key appears once; every trial record decodes. Both actors delivered trials
    // sampled with weights published after the restart (they reconnected and took the new policy).
    const ledger = await Ledger.open(join(runDir, 'ledger'));
    const keys = new Set<string>();
    const afterRestart = new Set<string>();
    let records = 0;
    for await (const rec of ledger.iterate(0)) {
      const d = decodeTrial(rec.bytes);
      expect(d.ok).toBe(true);
      if (d.ok && d.trial.rows.some((r) => r.policyVersion > saved)) afterRestart.add(rec.key.actorId);
      const k = trialKeyString(rec.key);
      expect(keys.has(k), `duplicate ${k}`).toBe(false);
      keys.add(k);
      records++;
    }
    await ledger.close();
    expect([...afterRestart].sort()).toEqual(['a0', 'a1']);
    expect(records).toBeGreaterThanOrEqual(summary.trialsTrained);
    // Nothing left unacked in the actors' durable outboxes once the run is over.
    for (const id of ['a0', 'a1']) {
      const dir = join(root, 'outbox', id);
      const left = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.msgpack')) : [];
      expect(left, `outbox of ${id}`).toEqual([]);
    }
  }, 300_000);
});
