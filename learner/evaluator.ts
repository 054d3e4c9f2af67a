/**
 * Evaluation on the fixed validation list: opens one group per validation task for the current version, waits
 * until actors have filled them (sync mode pushes them as cohorts; in async mode eval slots are granted before
 * any train slot), and reports pass@k and trajectory diversity. Training pauses meanwhile, so the evaluated
 * version is exact.
 */
import type { Trial } from '../proto/messages.js';
import { alfworldEvalMetrics, alfworldEvalReport } from '../shared/alfworld-splits.js';
import type { Config } from '../shared/config.js';
import { evalDefinition } from '../shared/eval-definition.js';
import type { Logger } from '../shared/logger.js';
import { passAtKCurve, trajectoryDiversity } from '../shared/rl/metrics.js';
import type { MetricsLog } from '../shared/metrics/sink.js';
import type { Ingest } from './ingest.js';
import type { EvalResult } from './run-state.js';
import type { StageReporter } from './stall.js';
import type { TaskBook } from './task-book.js';
import type { Waker } from './waker.js';

const ALFWORLD_ID = 'lamer/ALFWorld-v0';

/**
 * Env-specific groupings of a validation round, as metrics: ALFWorld pass@k per task type and per ID/OOD split
 * (`eval/alfworld/<Type>/pass@k`, `eval/alfworld/id/pass@k`, ...). Generated households only: a loaded game's type
 * does not follow from its seed (the env's `dataDir` option), so those runs log pass@k alone.
 */
export function envEvalMetrics(config: Config, trials: readonly Trial[]): Record<string, number> {
  if (config.env.id !== ALFWORLD_ID || config.env.options.dataDir !== undefined || trials.length === 0) return {};
  const outcomes = trials.map((t) => ({ seed: t.taskSeed, episodesWon: t.episodesWon }));
  return alfworldEvalMetrics(alfworldEvalReport(outcomes, config.run.evalAttempts));
}

/** Each episode's action sequence (the trajectory key of the diversity metric). */
export function episodeActions(t: Trial): string[][] {
  const eps: string[][] = [];
  for (const r of t.rows) if (r.phase === 'play') (eps[r.episode] ??= []).push(r.actionText ?? '');
  return eps.filter((e) => e !== undefined);
}

export interface EvaluatorOptions {
  config: Config;
  book: TaskBook;
  ingest: Ingest;
  metrics: MetricsLog;
  logger: Logger;
  waker: Waker;
  /** Run start (ms): evaluation wall times are reported from it. */
  t0: number;
  actors(): number;
  /** Sync mode: hand the open eval slots to the actors. */
  pushEvalCohorts(): void;
  /** True once a stop signal arrived: an evaluation in progress is abandoned. */
  stopSignalled(): boolean;
  emit(line: string): void;
  /** Stall diagnosis: what the evaluation waits on (optional). */
  reporter?: StageReporter;
}

export class Evaluator {
  constructor(private readonly o: EvaluatorOptions) {}

  /**
   * Evaluates `version`. A stop signal abandons a periodic evaluation; the final one runs until its deadline
   * (`finalWithinMs`, default 5 minutes for actors to (re)connect and finish). Returns null when abandoned.
   */
  async evaluate(version: number, final = false, finalWithinMs = 5 * 60_000): Promise<EvalResult | null> {
    const { book, waker } = this.o;
    const t0 = Date.now();
    // A round of this version left open by an interrupted evaluation is finished, not opened twice (same group ids).
    if (!book.groups.some((g) => g.kind === 'eval' && g.evalVersion === version)) book.openEvalRound(version);
    const deadline = final ? Date.now() + finalWithinMs : Infinity;
    const aborted = () => (this.o.stopSignalled() && !final) || Date.now() > deadline;
    while (this.o.actors() === 0 && !aborted()) {
      this.o.reporter?.waiting({ stage: 'evaluator', what: `an actor to connect (validation of v${version})` });
      await waker.sleep(200);
    }
    for (;;) {
      const open = book.groups.filter((g) => g.kind === 'eval' && g.evalVersion === version);
      const pending = open.filter((g) => g.slots.some((s) => s === null));
      if (pending.length === 0) break;
      if (aborted()) {
        this.o.reporter?.done('evaluator');
        return null;
      }
      const slots = pending.flatMap((g) => g.slots);
      this.o.reporter?.waiting({
        stage: 'evaluator',
        what:
          `${pending.length} validation group${pending.length === 1 ? '' : 's'} of ` +
          `v${version} (${slots.filter((s) => s !== null).length}/${slots.length} trials)`,
      });
      if (this.o.config.run.mode === 'sync') this.o.pushEvalCohorts();
      await waker.sleep(200);
    }
    this.o.reporter?.done('evaluator');
    const groups = book.ready('eval').filter((g) => g.evalVersion === version);
    const trials = groups.map((g) => this.o.ingest.trials(g)[0]);
    const pass = passAtKCurve(
      trials.map((t) => t.episodesWon),
      this.o.config.run.evalAttempts,
    );
    const diversity = trajectoryDiversity(trials.map((t) => episodeActions(t)));
    const ids = groups.map((g) => g.groupId);
    this.o.ingest.forget(ids);
    book.consume(ids);
    const result: EvalResult = {
      version,
      pass,
      diversity: diversity.mean,
      tasks: trials.length,
      wall: (Date.now() - this.o.t0) / 1000,
    };
    this.o.metrics.log(version, {
      ...Object.fromEntries(pass.map((p, k) => [`eval/pass@${k + 1}`, p])),
      ...envEvalMetrics(this.o.config, trials),
      'eval/diversity': diversity.mean,
      'eval/seconds': (Date.now() - t0) / 1000,
    });
    this.o.logger.info({ version, pass: pass.map((p) => +p.toFixed(3)), tasks: trials.length }, 'evaluation');
    const name = evalDefinition(this.o.config).name;
    this.o.emit(
      `eval v${version}: ${pass.map((p, k) => `pass@${k + 1} ${(100 * p).toFixed(1)}%`).join('  ')}  ` +
        `(${name}, ${trials.length} tasks, ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
    return result;
  }
}
