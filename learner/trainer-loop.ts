/**
 * The learner's main loop: until the budget (iterations or minutes) is spent or a stop is requested, collect B
 * complete train groups, run one update (update.ts) in the trainer worker, publish the new weights, evaluate and
 * checkpoint on schedule; then a final evaluation and checkpoint. In sync mode the loop pushes lockstep cohorts
 * while it waits; in async mode actors pull leases and the admission rule bounds how far they run ahead.
 */
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { invalidFractions, passAtKCurve, trajectoryDiversity } from '../shared/rl/metrics.js';
import type { MetricsLog } from '../shared/metrics/sink.js';
import { episodeActions, type Evaluator } from './evaluator.js';
import type { Ingest } from './ingest.js';
import type { LearnerState } from './run-state.js';
import type { StageReporter } from './stall.js';
import type { GroupState, TaskBook } from './task-book.js';
import { runUpdate, type TrainerApi } from './update.js';
import type { Waker } from './waker.js';

/**
 * Why a run stopped. 'budget-spent': it was resumed with its iteration budget already reached, so it trained
 * nothing (the CLI exits 3 then, never 0: docs/long-runs.md).
 */
export type StopReason = 'iterations' | 'minutes' | 'signal' | 'budget-spent';

export interface TrainerLoopOptions {
  config: Config;
  state: LearnerState;
  book: TaskBook;
  ingest: Ingest;
  evaluator: Evaluator;
  /** `restarts` (watchdog restarts of the worker, trainer-client.ts) tells an interrupted update from a failed one. */
  trainer: TrainerApi & { params(): Promise<Float32Array>; readonly restarts?: number };
  metrics: MetricsLog;
  logger: Logger;
  waker: Waker;
  /** Run start (ms) of this process. */
  t0: number;
  /** Training seconds of earlier invocations: `run.minutes` is a total for the run directory. */
  priorSeconds: number;
  model: { nCtx: number; padId: number };
  /** Sync mode: hand out this version's train groups (and re-lease orphaned slots). */
  pushTrainCohorts(): void;
  /** New weights exist: broadcast them. */
  publish(params: Float32Array): void;
  checkpoint(params: Float32Array): Promise<void>;
  /** Stall diagnosis: what the loop waits on (optional). */
  reporter?: StageReporter;
  /** An update finished: the policy lag of every trained row (Prometheus histogram). */
  onUpdate?(u: { version: number; lags: readonly number[] }): void;
}

export class TrainerLoop {
  private stopReason: StopReason | null = null;
  private lastLag = { mean: 0, max: 0 };
  /** ms the loop waited for complete groups before the current update (learner idle time). */
  private waitMs = 0;
  /** This invocation's first update (time, version): the ETA's rate counts from it. */
  private first: { t: number; v: number } | null = null;

  constructor(
    private readonly o: TrainerLoopOptions,
    private params: Float32Array,
  ) {}

  private get cfg(): Config {
    return this.o.config;
  }

  get lag(): { mean: number; max: number } {
    return this.lastLag;
  }

  get stopped(): StopReason | null {
    return this.stopReason;
  }

  get firstUpdate(): { t: number; v: number } | null {
    return this.first;
  }

  /** Training seconds of the run directory: earlier invocations plus this one. */
  totalSeconds(now = Date.now()): number {
    return this.o.priorSeconds + (now - this.o.t0) / 1000;
  }

  /** Stops the run at the next opportunity (SIGINT/SIGTERM). */
  requestStop(): void {
    this.stopReason = 'signal';
    this.o.waker.kick();
  }

  budgetLeft(): boolean {
    const c = this.cfg.run;
    if (this.stopReason) return false;
    if (c.iterations > 0 && this.o.state.policyVersion >= c.iterations) {
      this.stopReason = 'iterations';
      return false;
    }
    if (c.minutes > 0 && this.totalSeconds() >= c.minutes * 60) {
      this.stopReason = 'minutes';
      return false;
    }
    return true;
  }

  async run(): Promise<StopReason> {
    const { state } = this.o;
    const its = this.cfg.run.iterations;
    if (its > 0 && state.policyVersion >= its) {
      this.stopReason = 'budget-spent';
      this.o.logger.warn(
        { policyVersion: state.policyVersion, iterations: its },
        `nothing to train: the checkpoint is at policy v${state.policyVersion}, ` +
          `run.iterations is ${its}; raise run.iterations to continue or pass --fresh to start over`,
      );
      return this.stopReason;
    }
    if (!state.evals.some((e) => e.version === state.policyVersion)) await this.evaluate(false);
    while (this.budgetLeft()) {
      const w0 = performance.now();
      const groups = await this.collect();
      this.waitMs = performance.now() - w0;
      if (!groups) break;
      if (!(await this.train(groups))) continue; // unusable records were quarantined: their slots fill again
      const v = state.policyVersion;
      this.first ??= { t: Date.now(), v };
      const evalDue = this.cfg.run.evalEvery > 0 && v % this.cfg.run.evalEvery === 0;
      if (evalDue && this.budgetLeft()) await this.evaluate(false);
      if (v % this.cfg.learner.checkpointEvery === 0) await this.o.checkpoint(this.params);
    }
    // Final evaluation (it runs even when the time budget is spent: a run always reports where it ended); after a
    // signal only if the connected actors finish it within a few seconds.
    if (!state.evals.some((e) => e.version === state.policyVersion))
      await this.evaluate(true, this.stopReason === 'signal' ? 10_000 : 5 * 60_000);
    await this.o.checkpoint(this.params);
    return this.stopReason ?? 'signal';
  }

  private async evaluate(final: boolean, finalWithinMs?: number): Promise<void> {
    const r = await this.o.evaluator.evaluate(this.o.state.policyVersion, final, finalWithinMs);
    if (r) this.o.state.evals.push(r);
  }

  /** Waits until B train groups are complete (oldest first); null when the budget ran out meanwhile. */
  private async collect(): Promise<GroupState[] | null> {
    const B = this.cfg.algo.groupsPerUpdate;
    const sync = this.cfg.run.mode === 'sync';
    for (;;) {
      if (!this.budgetLeft()) return null;
      if (sync) this.o.pushTrainCohorts(); // the admission rule (η = 0) decides how many new groups may start
      const ready = this.o.book.ready('train').sort((a, b) => a.index - b.index);
      if (ready.length >= B) {
        this.o.reporter?.done('learner');
        return ready.slice(0, B);
      }
      this.o.reporter?.waiting({ stage: 'learner', what: this.missing(B - ready.length) });
      await this.o.waker.sleep(sync ? 200 : 500);
    }
  }

  /** "2 train groups (3/8 trials)": the oldest unfinished groups the update needs and how full they are. */
  private missing(n: number): string {
    const open = this.o.book.groups
      .filter((g) => g.kind === 'train' && g.slots.some((s) => s === null))
      .sort((a, b) => a.index - b.index)
      .slice(0, n);
    const slots = open.flatMap((g) => g.slots);
    const trials = open.length
      ? ` (${slots.filter((s) => s !== null).length}/${slots.length} trials)`
      : ', none started';
    return `${n} train group${n === 1 ? '' : 's'}${trials}`;
  }

  /**
   * One policy update from complete groups. Defence in depth: every record is checked again against the model, and
   * the update refuses non-finite advantages; unusable records are quarantined, their slots leased again, and false
   * is returned (nothing trained).
   */
  async train(groups: GroupState[]): Promise<boolean> {
    const { state, ingest, book, logger, metrics } = this.o;
    const t0 = performance.now();
    const v = state.policyVersion;
    if (await ingest.setAsideUnusable(groups)) return false;
    const data = groups.map((g) => ingest.groupRows(g));
    this.o.reporter?.waiting({ stage: 'trainer', what: `the update to v${v + 1}` });
    const update = () =>
      runUpdate(this.o.trainer, data, v, this.cfg.algo, {
        nCtx: this.o.model.nCtx,
        padId: this.o.model.padId,
        seed: this.cfg.run.seed * 1_000_003 + v,
        sampling: this.cfg.sampling,
      });
    const restarts = this.o.trainer.restarts ?? 0;
    let res: Awaited<ReturnType<typeof runUpdate>>;
    try {
      res = await update();
    } catch (e) {
      // The watchdog replaced a stuck or dead worker with one holding the weights before this update: rerun it
      // once on the same groups (nothing was consumed yet). A second failure ends the run with its reason.
      if ((this.o.trainer.restarts ?? 0) === restarts) throw e;
      logger.warn(
        { version: v, cause: (e as Error).message },
        'update interrupted by a trainer worker restart; rerunning it on the same groups',
      );
      res = await update();
    }
    if (res.unusable.length > 0) {
      for (const u of res.unusable) await ingest.setAsideGroup(groups[u.group], u.reason);
      return false;
    }
    if (res.rowsDroppedNoLogp > 0) {
      logger.warn(
        { version: v, rows: res.rowsDroppedNoLogp },
        'not training on rows without behaviour log-probs (the inference server gave none)',
      );
    }
    this.params = await this.o.trainer.params();
    this.o.reporter?.done('trainer');
    // Rollout statistics of the consumed groups (training trials, sampled at T=1).
    const perGroup = groups.map((g) => ingest.trials(g));
    const trials = perGroup.flat();
    const curve = passAtKCurve(
      trials.map((t) => t.episodesWon),
      this.cfg.env.attempts,
    );
    const diversity = trajectoryDiversity(
      trials.length ? perGroup.map((ts) => ts.map((t) => episodeActions(t)[0])) : [[[]]],
    );
    const lags = data.flatMap((g) => g.trials.flatMap((t) => t.rows.map((r) => v - r.policyVersion)));
    this.o.onUpdate?.({ version: v + 1, lags });
    this.lastLag = { mean: lags.reduce((a, b) => a + b, 0) / Math.max(1, lags.length), max: Math.max(0, ...lags) };
    const ids = groups.map((g) => g.groupId);
    ingest.forget(ids);
    book.consume(ids);
    const cnt = state.counters;
    cnt.trialsTrained += trials.length;
    cnt.episodesTrained = (cnt.episodesTrained ?? 0) + trials.reduce((a, t) => a + t.episodesWon.length, 0);
    cnt.envStepsTrained = (cnt.envStepsTrained ?? 0) + trials.reduce((a, t) => a + t.stats.envSteps, 0);
    cnt.tokensTrained = (cnt.tokensTrained ?? 0) + trials.reduce((a, t) => a + t.stats.genTokens, 0);
    cnt.rowsDroppedStale += res.rowsDroppedStale;
    state.policyVersion = v + 1;
    // The ledger offsets this version consumed: lets a checker (lamer chaos) prove no record is trained twice.
    logger.info(
      {
        policyVersion: v + 1,
        learnerEpoch: state.learnerEpoch,
        offsets: groups.flatMap((g) => g.slots.map((s) => s!.offset)),
      },
      'trained',
    );
    this.o.publish(this.params);
    const elapsed = (Date.now() - this.o.t0) / 1000;
    metrics.log(state.policyVersion, {
      ...res.metrics,
      'perf/update_ms': performance.now() - t0,
      'perf/learner_wait_ms': this.waitMs,
      'perf/policy_lag_mean': this.lastLag.mean,
      'perf/policy_lag_max': this.lastLag.max,
      'rollout/trials_trained_total': cnt.trialsTrained,
      'rollout/episodes_trained_total': cnt.episodesTrained,
      'rollout/env_steps_trained_total': cnt.envStepsTrained,
      'rollout/tokens_trained_total': cnt.tokensTrained,
      'rollout/trials_per_s_total': cnt.trialsTrained / Math.max(1e-9, elapsed),
      ...Object.fromEntries(curve.map((p, k) => [`rollout/pass@${k + 1}`, p])),
      'rollout/diversity': diversity.mean,
      ...invalidFractions(data.flatMap((g) => g.trials.flatMap((t) => t.rows))),
    });
    this.o.waker.kick();
    return true;
  }
}
