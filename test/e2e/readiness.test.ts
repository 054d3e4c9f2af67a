/**
 * Health and readiness of a real learner through a resume and a shutdown: `lamer train` trains a tiny run to a
 * checkpoint, then `lamer learner` (a child process, the real CLI path) restarts on the same run directory while
 * the test polls `endpoints.json` -> /healthz and /readyz from the moment the HTTP side listens.
 *
 * The pre-resume window is held open by the test, not left to timing: the newest checkpoint's MANIFEST.json is
 * replaced by a named pipe holding nothing yet, so the learner's checkpoint read waits (as on a slow network
 * filesystem) until the test writes the same bytes into it. No test hook in the learner is involved.
 * The stopping window is held open by the learner's own rule, also not by timing: after SIGTERM the final
 * evaluation of the not yet evaluated newest version waits up to 10 s for its actors, and the only actor is frozen
 * (SIGSTOP), so it cannot finish it; the HTTP side closes only after that, the checkpoint and the other components.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deriveActorToken } from '../../learner/auth.js';
import { MANIFEST } from '../../learner/checkpoint-store.js';
import { type Endpoints, readEndpoints } from '../../learner/endpoints.js';
import type { StatusSnapshot } from '../../learner/observatory.js';
import { resolveRun } from '../../scripts/lib/run-config.js';
import { runTraining } from '../../scripts/lib/train-job.js';
import { until } from './live-run.js';
import { CLI } from '../fixtures/cli.js';

const tiny = [
  'env.groupSize=2',
  'algo.groupsPerUpdate=2',
  'run.evalTasks=2',
  'run.evalEvery=0',
  'learner.checkpointEvery=1',
  'model.dModel=16',
  'model.nLayer=1',
  'model.nHead=2',
  'model.nCtx=160',
  'model.init=random',
  'log.level=info',
];

interface Sample {
  t: number;
  health: number;
  ready: number;
  body: { ready: boolean; resumed: boolean; trainer: boolean; accepting: boolean; phase: string };
  /** The learner process had not exited when the answer arrived. */
  alive: boolean;
}

const children: ChildProcess[] = [];
let tmp = '';
afterAll(async () => {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.kill('SIGCONT');
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** /healthz and /readyz at once; null once the HTTP side no longer answers (closed, process gone). */
async function sample(http: string, child: ChildProcess): Promise<Sample | null> {
  try {
    const [h, r] = await Promise.all([fetch(`${http}/healthz`), fetch(`${http}/readyz`)]);
    await h.arrayBuffer();
    return {
      t: Date.now(),
      health: h.status,
      ready: r.status,
      body: (await r.json()) as Sample['body'],
      alive: child.exitCode === null && child.signalCode === null,
    };
  } catch {
    return null;
  }
}

const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve(c.exitCode)
    : new Promise<number | null>((r) => c.once('exit', (code) => r(code)));

describe('readiness through resume and shutdown (e2e)', () => {
  it('restarted learner: /healthz 200; /readyz 503 until the checkpoint loads, 200 after, 503 stopping', async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lamer-ready-'));
    const runDir = join(tmp, 'run');

    // 1. A tiny run to a checkpoint: the iteration budget stops it after a final evaluation and checkpoint at v2.
    const first = await runTraining(resolveRun({ runDir, iterations: '2', actors: '1', set: tiny }), { quiet: true });
    expect(first.policyVersion).toBe(2);
    const ckpts = readdirSync(join(runDir, 'checkpoints'))
      .filter((d) => /^ckpt-\d+$/.test(d))
      .sort();
    const newest = join(runDir, 'checkpoints', ckpts[ckpts.length - 1]);
    expect(newest).toMatch(/ckpt-0+2$/);

    // The newest manifest becomes an empty named pipe: the restarted learner's resume reads it and waits for us.
    const manifestPath = join(newest, MANIFEST);
    const manifest = readFileSync(manifestPath);
    expect(manifest.byteLength).toBeLessThan(1 << 16); // fits a pipe's buffer: one non-blocking write
    unlinkSync(manifestPath);
    execFileSync('mkfifo', [manifestPath]);

    // 2. Restart through the CLI on the same run directory, with budget left to train on.
    const learner = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, 'learner', '--listen', '127.0.0.1:0', '--run-dir', runDir, '--iterations', '1000'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(learner);
    let stdout = '';
    let stderr = '';
    learner.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    learner.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const gone = exited(learner);

    // endpoints.json of the first run is there already (stopped, another pid): wait for this process's entry.
    const ep = await until(
      'endpoints.json of the restarted learner',
      () => {
        if (learner.exitCode !== null) throw new Error(`learner exited with ${learner.exitCode}: ${stderr}`);
        if (!existsSync(join(runDir, 'endpoints.json'))) return null;
        let e: Endpoints;
        try {
          e = readEndpoints(runDir);
        } catch {
          return null; // written atomically, but be lenient while it changes
        }
        return e.pid === learner.pid && e.http ? e : null;
      },
      60_000,
    );
    const http = ep.http!;
    expect(ep.stoppedAt).toBeNull();
    expect(ep.ws).toBeNull(); // the actors' server listens only after the resume

    // The resume is blocked on the checkpoint read: sample for at least a second while it is.
    const before: Sample[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 1000 || before.length < 5) {
      const s = await sample(http, learner);
      expect(s, 'the HTTP side answers during the resume').not.toBeNull();
      before.push(s!);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const s of before) {
      expect(s.health).toBe(200);
      expect(s.ready).toBe(503);
      expect(s.body).toEqual({ ready: false, resumed: false, trainer: false, accepting: false, phase: 'starting' });
    }
    const starting = (await (await fetch(`${http}/status`)).json()) as StatusSnapshot;
    expect(starting.phase).toBe('starting');
    expect(readEndpoints(runDir).ws).toBeNull();

    // The learner is at the checkpoint read: a non-blocking open for writing fails (ENXIO) while nobody reads.
    const pipe = openSync(manifestPath, constants.O_WRONLY | constants.O_NONBLOCK);
    // Release the checkpoint: the same bytes through the pipe, then the regular file back in place for later reads
    // (the ledger's retention reads every manifest after each checkpoint).
    expect(writeSync(pipe, manifest)).toBe(manifest.byteLength);
    closeSync(pipe);
    writeFileSync(`${manifestPath}.tmp`, manifest);
    renameSync(`${manifestPath}.tmp`, manifestPath);

    const after: Sample[] = [];
    await until(
      '/readyz 200 after the resume',
      async () => {
        const s = await sample(http, learner);
        expect(s, 'the HTTP side answers through the resume').not.toBeNull();
        after.push(s!);
        return s!.ready === 200;
      },
      60_000,
    );
    for (const s of after) expect(s.health).toBe(200);
    // Readiness only moves forward while starting: a part once up stays up.
    for (let i = 1; i < after.length; i++)
      for (const k of ['resumed', 'trainer', 'accepting'] as const)
        if (after[i - 1].body[k]) expect(after[i].body[k], k).toBe(true);
    expect(after[after.length - 1].body).toEqual({
      ready: true,
      resumed: true,
      trainer: true,
      accepting: true,
      phase: 'ready',
    });

    // The resume loaded the checkpoint: same run, policy v2, in a new learner epoch.
    const resumed = (await (await fetch(`${http}/status`)).json()) as StatusSnapshot;
    expect(resumed.runId).toBe(first.runId);
    expect(resumed.policyVersion).toBe(2);
    expect(stdout).toContain(`resuming run ${first.runId} from v2 (${ckpts[ckpts.length - 1]})`);
    const ready = readEndpoints(runDir);
    expect(ready.runId).toBe(first.runId);
    expect(ready.ws).toMatch(/^ws:\/\//);

    // 3. An actor trains the resumed run on past v2, then freezes; SIGTERM the learner and watch it stop.
    const key = readFileSync(join(runDir, 'secrets', 'master.key'), 'utf8').trim();
    const actor = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'actor',
        '--learner',
        ready.ws!,
        '--actor-id',
        'r0',
        '--run-id',
        first.runId,
        '--outbox-dir',
        join(runDir, 'outbox', 'r0'),
        '--log-level',
        'error',
      ],
      { env: { ...process.env, LAMER_TOKEN: deriveActorToken(key, 'r0') }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    children.push(actor);
    const status = async () => (await (await fetch(`${http}/status`)).json()) as StatusSnapshot;
    // (Trials the first run committed past its checkpoint are replayed from the ledger and may train by themselves.)
    await until(
      'the resumed learner to train past v2 with trials of r0',
      async () => {
        const st = await status();
        const row = st.actors.find((a) => a.actorId === 'r0');
        return st.policyVersion >= 3 && row?.connected && row.trials > 0;
      },
      120_000,
    );

    actor.kill('SIGSTOP');
    const last = await sample(http, learner);
    expect(last).toMatchObject({ health: 200, ready: 200 });
    learner.kill('SIGTERM');
    const signalledAt = Date.now();
    const stopping: Sample[] = [];
    await until(
      'the HTTP side to close after SIGTERM',
      async () => {
        const s = await sample(http, learner);
        if (!s) return true;
        stopping.push(s);
        await new Promise((r) => setTimeout(r, 50));
        return false;
      },
      90_000,
    );
    const code = await gone;
    actor.kill('SIGCONT');
    actor.kill('SIGKILL');

    // A 200 can only precede the signal's delivery; from the first 503 on it is 'stopping' until the port closes.
    const firstStop = stopping.findIndex((s) => s.ready === 503);
    expect(firstStop, 'a 503 while stopping').toBeGreaterThanOrEqual(0);
    const during = stopping.slice(firstStop);
    // Promptly on the signal, not only once the learner closes its components (after the final evaluation).
    expect(during[0].t - signalledAt).toBeLessThan(5000);
    expect(during.length).toBeGreaterThanOrEqual(3);
    for (const s of stopping.slice(0, firstStop)) expect(s.body.phase).toBe('ready');
    for (const s of during) {
      expect(s.alive).toBe(true);
      expect(s.health).toBe(200);
      expect(s.ready).toBe(503);
      expect(s.body).toEqual({ ready: false, resumed: true, trainer: true, accepting: true, phase: 'stopping' });
    }
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/stopped by a signal at v\d+/);
    const end = readEndpoints(runDir);
    expect(end.pid).toBe(learner.pid);
    expect(end.stoppedAt).not.toBeNull();
  }, 300_000);
});
