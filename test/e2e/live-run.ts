/** A short real run for observability tests: a learner in this process (HTTP side on) and real actor processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVocabulary } from '../../actor/envs/prompt.js';
import { createAuthenticator, deriveActorToken } from '../../learner/auth.js';
import { LearnerRuntime } from '../../learner/runtime.js';
import { resolveConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { RunDir } from '../../shared/run-dir.js';
import { CLI } from '../fixtures/cli.js';

const MASTER = 'observe-e2e-master-key-0123456789';

export interface LiveRun {
  dir: string;
  run: RunDir;
  learner: LearnerRuntime;
  logFile: string;
  /** Progress lines printed so far. */
  lines: string[];
  actors: ChildProcess[];
  /** Resolves when the learner's loop ends. */
  done: Promise<unknown>;
  stop(): Promise<void>;
}

/** Starts the learner, then `actors` actor processes, and runs the loop (until stop() or 3 minutes). */
export async function startLiveRun(o: { actors: number; config: Record<string, unknown> }): Promise<LiveRun> {
  const dir = join(mkdtempSync(join(tmpdir(), 'lamer-live-')), 'run');
  const run = new RunDir(dir);
  const config = resolveConfig(
    {
      env: { groupSize: 2 },
      algo: { groupsPerUpdate: 2 },
      run: { evalTasks: 2, evalEvery: 0, iterations: 0, minutes: 3, progressSec: 1 },
      model: { dModel: 16, nLayer: 1, nHead: 2, nCtx: 160, init: 'random' },
      log: { level: 'info' },
    },
    o.config,
  );
  const logFile = run.file('logs', 'learner.log');
  const lines: string[] = [];
  const learner = await LearnerRuntime.start({
    config,
    runDir: run,
    logger: createLogger({ level: 'info', destination: logFile }),
    auth: createAuthenticator(MASTER),
    vocabulary: compactVocabulary(config.env.id),
    onProgress: (l) => lines.push(l),
  });
  const actors = Array.from({ length: o.actors }, (_, i) =>
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'actor',
        '--learner',
        learner.url,
        '--actor-id',
        `a${i}`,
        '--run-id',
        learner.runId,
        '--outbox-dir',
        run.file('outbox', `a${i}`),
        '--log-level',
        'error',
      ],
      {
        env: { ...process.env, LAMER_TOKEN: deriveActorToken(MASTER, `a${i}`) },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    ),
  );
  const done = learner.run();
  return {
    dir,
    run,
    learner,
    logFile,
    lines,
    actors,
    done,
    async stop() {
      for (const a of actors) a.kill('SIGCONT');
      learner.requestStop();
      for (const a of actors) a.kill('SIGTERM');
      await done;
      await learner.close();
      await Promise.all(
        actors.map((a) =>
          a.exitCode === null && a.signalCode === null ? new Promise((r) => a.once('exit', r)) : null,
        ),
      );
    },
  };
}

export async function until<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs: number,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
