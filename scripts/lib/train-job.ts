/**
 * The training job behind `lamer train`: run directory, learner (this process), K supervised actor processes,
 * signals, the final summary and plots. Actors are separate processes so they behave exactly as on other machines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compactVocabulary } from '../../actor/envs/prompt.js';
import { createAuthenticator, deriveActorToken, generateMasterKey } from '../../learner/auth.js';
import { LearnerRuntime, type LearnerSummary } from '../../learner/runtime.js';
import { createLogger, logFileEnv } from '../../shared/logger.js';
import { loadModelDir } from '../../shared/model/checkpoint-files.js';
import { describeEval, evalDefinition } from '../../shared/eval-definition.js';
import { RunDir } from '../../shared/run-dir.js';
import { tsxUrl } from '../../shared/tsx-url.js';
import { writeRunPlots } from './plots.js';
import { runPretrain } from './pretrain-job.js';
import type { ResolvedRun } from './run-config.js';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));

/** Reads or creates the run's master key (mode 0600); actor tokens are derived from it per actor id. */
export function masterKeyFor(runDir: string): string {
  const dir = join(runDir, 'secrets');
  const file = join(dir, 'master.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = generateMasterKey();
  writeFileSync(file, key + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}

function hasCheckpoint(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((d) => d.startsWith('ckpt-'));
}

interface Supervised {
  id: string;
  child: ChildProcess | null;
  restarts: number;
}

export interface TrainOptions {
  quiet?: boolean;
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Where the progress lines go (default stdout). */
  out?: (line: string) => void;
  /** Aborting it stops the run as SIGINT/SIGTERM do (tests, embedding). */
  stop?: AbortSignal;
  /**
   * The run's master key from elsewhere (`lamer learner --key-file`, e.g. a mounted Kubernetes Secret) instead of
   * `<run>/secrets/master.key`; it is not copied into the run directory.
   */
  masterKey?: string | Uint8Array;
  /** Called once the learner listens (before actors start): benchmarks attach viewers here. */
  onStarted?(learner: LearnerRuntime): void | Promise<void>;
}

/** The command that continues a run directory (budgets are totals: raise them to train longer). */
export function resumeCommand(r: ResolvedRun, command = process.argv[2]): string {
  const dir = /\s/.test(r.runDir) ? JSON.stringify(r.runDir) : r.runDir;
  if (command === 'learner')
    return `npm run -s lamer -- learner --listen ${r.config.learner.host}:${r.config.learner.port} --run-dir ${dir}`;
  return `npm start -- --run-dir ${dir}`;
}

/** `resuming run X from v24 (ckpt-…), 1.1 of 10 minutes used, 24 of 150 iterations` — what a resume continues from. */
export function resumeLine(
  runId: string,
  from: { version: number; checkpoint: string; minutesUsed: number },
  run: { minutes: number; iterations: number },
): string {
  const minutes =
    run.minutes > 0
      ? `${from.minutesUsed.toFixed(1)} of ${run.minutes} minutes used`
      : `${from.minutesUsed.toFixed(1)} minutes used (no minute limit)`;
  const iters =
    run.iterations > 0
      ? `${from.version} of ${run.iterations} iterations done`
      : `${from.version} iterations done (no iteration limit)`;
  return `resuming run ${runId} from v${from.version} (${from.checkpoint}), ${minutes}, ${iters}`;
}

export async function runTraining(
  r: ResolvedRun,
  opts: TrainOptions = {},
): Promise<LearnerSummary & { runDir: string }> {
  const run = new RunDir(r.runDir);
  try {
    return await train(r, run, opts);
  } catch (e) {
    run.finish({ stoppedBy: 'error', error: e instanceof Error ? e.message : String(e) });
    throw e;
  }
}

async function train(r: ResolvedRun, run: RunDir, opts: TrainOptions): Promise<LearnerSummary & { runDir: string }> {
  const { config } = r;
  run.writeJson('config.json', config);
  const logRotation = { maxBytes: Math.round(config.log.maxMB * (1 << 20)), keep: config.log.keep };
  const logger = createLogger({
    level: config.log.level,
    destination: run.file('logs', 'learner.log'),
    rotate: logRotation,
  });
  const say = (line: string) => {
    if (opts.out) opts.out(line);
    else if (!opts.quiet) process.stdout.write(line + '\n');
  };
  const key = opts.masterKey ?? masterKeyFor(r.runDir);
  let initModel;
  if (config.model.init !== 'random' && !hasCheckpoint(run.file('checkpoints'))) {
    let dir = config.model.init;
    if (dir === 'base') {
      const report = await runPretrain(config, { log: say });
      say(
        `base model ${report.cached ? '(cached) ' : ''}${report.dir}` +
          (report.basePass.length
            ? `: pass@k ${report.basePass.map((p) => (100 * p).toFixed(1)).join('/')}% (${report.evalName})`
            : ''),
      );
      dir = report.dir;
    }
    const m = loadModelDir(dir);
    initModel = { params: m.params, config: m.config, tokenizer: m.tokenizer };
  }
  const learner = await LearnerRuntime.start({
    config,
    runDir: run,
    logger,
    auth: createAuthenticator(key),
    vocabulary: compactVocabulary(config.env.id),
    initModel,
    onProgress: say,
    tls: opts.tls,
  });
  const from = learner.resumedFrom;
  say(from ? resumeLine(learner.runId, from, config.run) : `new run ${learner.runId}`);
  say(
    `lamer train: run directory ${r.runDir}, learner at ${learner.url}, mode ${config.run.mode}; ` +
      `evaluation ${describeEval(evalDefinition(config))}`,
  );
  await opts.onStarted?.(learner);
  if (learner.httpUrl)
    say(`dashboard ${learner.httpUrl}/  (metrics ${learner.httpUrl}/metrics; \`lamer status --run-dir ${r.runDir}\`)`);

  // ---- actors: separate processes, restarted if they crash ---------------------------------------------------
  const count = config.actor.count || 0;
  const actors: Supervised[] = Array.from({ length: count }, (_, i) => ({ id: `a${i}`, child: null, restarts: 0 }));
  let stopping = false;
  const startActor = (a: Supervised) => {
    // The actor's pino log goes to its size-rotated file (LAMER_LOG_FILE); stderr keeps what is not pino output
    // (a crash's stack trace) in a file of its own, appended across restarts.
    const logFd = openSync(run.file('logs', `${a.id}.stderr.log`), 'a');
    const outbox = config.actor.outboxDir ? join(config.actor.outboxDir, a.id) : run.file('outbox', a.id);
    const child = spawn(
      process.execPath,
      [
        '--import',
        tsxUrl('tsx'),
        CLI,
        'actor',
        '--learner',
        learner.url,
        '--actor-id',
        a.id,
        '--run-id',
        learner.runId,
        '--threads',
        String(config.actor.threads),
        '--groups',
        String(config.actor.groupsInFlight),
        '--max-batch',
        String(config.actor.maxBatch),
        '--outbox-dir',
        outbox,
        '--send-timeout',
        String(config.learner.sendTimeoutSec),
        '--log-level',
        config.log.level,
        // policy.backend=openai: the actors generate with the configured server (the API key stays in the environment).
        ...(config.policy.backend === 'openai'
          ? Object.entries(config.policy).flatMap(([k, v]) => ['--set', `policy.${k}=${JSON.stringify(v)}`])
          : []),
      ],
      {
        // LAMER_SUPERVISED: the terminal's Ctrl-C reaches the actors too; they keep serving the final evaluation and
        // stop on the learner's goodbye (or our SIGTERM) instead.
        env: {
          ...process.env,
          LAMER_TOKEN: deriveActorToken(key, a.id),
          LAMER_SUPERVISED: '1',
          ...logFileEnv(run.file('logs', `${a.id}.log`), logRotation),
        },
        stdio: ['ignore', 'ignore', logFd],
      },
    );
    child.on('exit', (code, signal) => {
      a.child = null;
      if (stopping) return;
      a.restarts++;
      logger.warn({ actor: a.id, code, signal, restarts: a.restarts }, 'actor exited; restarting');
      setTimeout(() => !stopping && startActor(a), Math.min(10_000, 500 * 2 ** Math.min(a.restarts, 5))).unref();
    });
    closeSync(logFd); // the child holds its own copy
    if (config.actor.nice > 0 && child.pid !== undefined) {
      // Lower priority for local actors: they only need the CPU the learner (the bottleneck stage) leaves idle.
      try {
        setPriority(child.pid, Math.min(19, getPriority() + config.actor.nice));
      } catch (e) {
        logger.warn({ err: (e as Error).message }, 'could not lower the actor priority');
      }
    }
    a.child = child;
  };
  actors.forEach(startActor);

  const onSignal = () => {
    say(
      'stopping: finishing the current update, a final evaluation if it takes seconds, then checkpointing ' +
        '(Ctrl-C again forces)',
    );
    say(`to resume later: ${resumeCommand(r)}`);
    learner.requestStop();
    process.once('SIGINT', force);
  };
  const force = () => {
    for (const a of actors) a.child?.kill('SIGTERM');
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  opts.stop?.addEventListener('abort', onSignal, { once: true });

  let summary: LearnerSummary;
  try {
    summary = await learner.run();
  } finally {
    stopping = true;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    opts.stop?.removeEventListener('abort', onSignal);
    process.off('SIGINT', force);
    await learner.close();
    // Without a bye (a signal stop) the actors would wait to reconnect: stop them at once.
    const byeGraceMs = learner.saidBye ? 2000 : 0;
    await Promise.all(actors.map((a) => stopChild(a.child, byeGraceMs)));
  }
  run.writeJson('summary.json', summary);
  writeRunPlots(run);
  run.finish({ stoppedBy: summary.stoppedBy, fromVersion: summary.startVersion, toVersion: summary.policyVersion });
  say(finalTable(summary, r.runDir, config.run));
  say(describeEval(evalDefinition(config)));
  const longer =
    summary.stoppedBy === 'minutes' ? `minutes ${2 * config.run.minutes}` : `iterations ${2 * config.run.iterations}`;
  say(
    summary.stoppedBy === 'signal'
      ? `stopped by a signal at v${summary.policyVersion}; to resume: ${resumeCommand(r)}`
      : `budgets are totals for the run directory; to train longer: ${resumeCommand(r)} --${longer}`,
  );
  return { ...summary, runDir: r.runDir };
}

/** Waits `byeGraceMs` for the actor to stop on the learner's bye, then SIGTERM; SIGKILL after `graceMs`. */
function stopChild(child: ChildProcess | null, byeGraceMs: number, graceMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    // SIGTERM also covers an actor that was still connecting when the bye went out.
    setTimeout(() => child.exitCode === null && child.kill('SIGTERM'), byeGraceMs).unref();
  });
}

export function finalTable(s: LearnerSummary, runDir: string, budget: { minutes: number; iterations: number }): string {
  const rows = s.evals.map(
    (e) =>
      `  v${String(e.version).padEnd(5)} ${e.pass.map((p) => (100 * p).toFixed(1).padStart(6)).join(' ')}   ` +
      `${e.diversity.toFixed(3)}   ${e.tasks}`,
  );
  const k = s.evals[0]?.pass.length ?? 3;
  const resumed = s.startVersion > 0 || s.totalWallSeconds - s.wallSeconds > 1;
  const thisRun =
    `this invocation v${s.startVersion}→v${s.policyVersion}: ` +
    `${(s.trialsPerSec * s.wallSeconds).toFixed(0)} trials trained in ${(s.wallSeconds / 60).toFixed(1)} min ` +
    `(${s.trialsPerSec.toFixed(2)} trials/s)`;
  const allTime =
    `all invocations: ${s.trialsTrained} trials in ${(s.totalWallSeconds / 60).toFixed(1)}` +
    `${budget.minutes > 0 ? ` of ${budget.minutes}` : ''} min (${s.trialsPerSecAllTime.toFixed(2)} trials/s)`;
  return [
    '',
    `finished (${s.stoppedBy === 'signal' ? 'stopped by a signal' : `${s.stoppedBy} budget reached`}): ` +
      `policy v${s.policyVersion}${budget.iterations > 0 ? ` of ${budget.iterations}` : ''}`,
    resumed
      ? `  ${thisRun}\n  ${allTime}`
      : `  ${s.trialsTrained} trials trained in ${(s.wallSeconds / 60).toFixed(1)} min ` +
        `(${s.trialsPerSec.toFixed(2)} trials/s)`,
    `  version ${Array.from({ length: k }, (_, i) => `p@${i + 1}`.padStart(6)).join(' ')}   diversity   tasks`,
    ...rows,
    `run directory: ${runDir} (config.json, meta.json, metrics.csv, learning-curve.png, checkpoints/, logs/)`,
  ].join('\n');
}
