/**
 * The learner process: serves actors over WebSockets, commits trial records exactly once, assembles task groups,
 * bounds staleness by admission control, trains in a worker thread, publishes versioned weights, evaluates on a
 * fixed validation list, and checkpoints (resume by default). Data flow: design.md §2.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { decodeTrial } from '../proto/codec.js';
import { fromTensor, toTensor, type Lease, type Trial, type TrialOptions } from '../proto/messages.js';
import type { Config } from '../shared/config.js';
import { LamerError } from '../shared/errors.js';
import { evalDefinition } from '../shared/eval-definition.js';
import { atomicWrite } from '../shared/fsutil.js';
import type { Logger } from '../shared/logger.js';
import { parseModel, serializeModel } from '../shared/model/checkpoint-files.js';
import type { ModelConfig } from '../shared/model/config.js';
import { buildManifest, initParams } from '../shared/model/manifest.js';
import { WordTokenizer } from '../shared/model/tokenizer.js';
import { groupsThatMayStart } from '../shared/rl/admission.js';
import { invalidFractions, passAtKCurve, trajectoryDiversity } from '../shared/rl/metrics.js';
import type { Group } from '../shared/rl/types.js';
import { MetricsCsv, type RunDir } from '../shared/run-dir.js';
import type { Authenticator } from './auth.js';
import { CheckpointStore } from './checkpoint-store.js';
import { Ledger } from './ledger.js';
import { PolicyPublisher } from './publisher.js';
import { createLearnerServer, type ActorConnection, type LearnerServer } from './server.js';
import { TaskBook, type GroupState, type TaskBookState } from './task-book.js';
import { TrainerClient } from './trainer-client.js';
import { runUpdate, type RecordedRow } from './update.js';

export interface LearnerRuntimeOptions {
  config: Config;
  runDir: RunDir;
  logger: Logger;
  auth: Authenticator;
  /** Words of the compact prompt vocabulary (the tokenizer of a fresh model). */
  vocabulary: readonly string[];
  /** Starting weights when there is no checkpoint (a base model); random init otherwise. */
  initModel?: { params: Float32Array; config: ModelConfig; tokenizer?: WordTokenizer };
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Progress line sink (the CLI prints it); default: the logger. */
  onProgress?: (line: string) => void;
}

export interface EvalResult {
  version: number;
  pass: number[];
  diversity: number;
  tasks: number;
  wall: number;
}

export interface LearnerSummary {
  runId: string;
  policyVersion: number;
  learnerEpoch: number;
  trialsCommitted: number;
  trialsTrained: number;
  evals: EvalResult[];
  /** This invocation's wall time and rate (trials trained by this process per second). */
  wallSeconds: number;
  trialsPerSec: number;
  /** All invocations of the run directory (the budget `run.minutes` counts this total). */
  totalWallSeconds: number;
  trialsPerSecAllTime: number;
  /** Policy version this invocation started at (0 for a new run). */
  startVersion: number;
  stoppedBy: 'iterations' | 'minutes' | 'signal';
}

/** Where a resumed learner continues from (for the "resuming run X from vN" line). */
export interface ResumeInfo {
  version: number;
  checkpoint: string;
  /** Training minutes the run directory had used before this invocation (run.minutes is a total). */
  minutesUsed: number;
}

interface LearnerState {
  runId: string;
  policyVersion: number;
  learnerEpoch: number;
  taskBook: TaskBookState;
  ledgerOffset: number;
  counters: {
    trialsCommitted: number; trialsTrained: number; surplus: number; rowsDroppedStale: number;
    /** Trained episodes (trajectories), env steps and generated tokens; absent in checkpoints of older versions. */
    episodesTrained?: number; envStepsTrained?: number; tokensTrained?: number;
  };
  evals: EvalResult[];
  /** Training wall seconds of all earlier invocations up to this checkpoint; absent in older checkpoints. */
  trainSeconds?: number;
}

const STATE_FILE = 'learner.json';

/** Each episode's action sequence (the trajectory key of the diversity metric). */
function episodeActions(t: Trial): string[][] {
  const eps: string[][] = [];
  for (const r of t.rows) if (r.phase === 'play') (eps[r.episode] ??= []).push(r.actionText ?? '');
  return eps.filter((e) => e !== undefined);
}

/** Trial rows decoded from the wire into the learner's arrays. */
function rowsOf(t: Trial): RecordedRow[] {
  // The winning turn is the last play row of a won episode (a won episode ends on it).
  const lastPlay = new Map<number, number>();
  t.rows.forEach((r, i) => r.phase === 'play' && lastPlay.set(r.episode, i));
  return t.rows.map((r, i) => ({
    phase: r.phase, episode: r.episode, turn: r.turn, reward: r.reward, valid: r.valid, anchor: r.anchor,
    won: r.phase === 'play' && t.episodesWon[r.episode] === true && lastPlay.get(r.episode) === i,
    policyVersion: r.policyVersion, prompt: fromTensor(r.prompt), response: fromTensor(r.response), behavLogp: fromTensor(r.behavLogp),
    external: t.policy?.backend === 'openai',
  }));
}

export class LearnerRuntime {
  private server!: LearnerServer;
  private ledger!: Ledger;
  private trainer!: TrainerClient;
  private publisher!: PolicyPublisher;
  private store!: CheckpointStore;
  private metrics!: MetricsCsv;
  private book!: TaskBook;
  private state!: LearnerState;
  private modelConfig!: ModelConfig;
  private tokenizer!: WordTokenizer;
  private params!: Float32Array;
  /** Decoded trials of live groups: groupId -> slot -> trial. */
  private readonly trials = new Map<string, Map<number, { trial: Trial; rows: RecordedRow[] }>>();
  /** Lessees that disconnected: release their leases unless they come back with the same incarnation. */
  private readonly goneTimers = new Map<string, NodeJS.Timeout>();
  private readonly t0 = Date.now();
  /** Seconds, version and trials the run had before this invocation; the first update's time and version (ETA rate). */
  private prior = { seconds: 0, version: 0, trials: 0 };
  private firstUpdate: { t: number; v: number } | null = null;
  private resumeInfo: ResumeInfo | null = null;
  private stopReason: LearnerSummary['stoppedBy'] | null = null;
  private wake: (() => void) | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  private window = { trials: 0, tokens: 0, envSteps: 0, fill: 0, fillN: 0, t: Date.now() };
  private lastLag = { mean: 0, max: 0 };
  /** Per actor process: its engine-busy and uptime counters (latest report and at the window's start). */
  private readonly actorClocks = new Map<string, { busy: number; up: number; busy0: number; up0: number; silent: number }>();
  /** ms the main loop waited for complete groups before the current update (learner idle time). */
  private waitMs = 0;
  private syncCohort = 0;

  private constructor(private readonly o: LearnerRuntimeOptions) {}

  get url(): string {
    return this.server.url;
  }

  get runId(): string {
    return this.state.runId;
  }

  get policyVersion(): number {
    return this.state.policyVersion;
  }

  /** Non-null when this learner continued from a checkpoint. */
  get resumedFrom(): ResumeInfo | null {
    return this.resumeInfo;
  }

  /** Training seconds of the run directory: earlier invocations plus this one. */
  private totalSeconds(now = Date.now()): number {
    return this.prior.seconds + (now - this.t0) / 1000;
  }

  static async start(o: LearnerRuntimeOptions): Promise<LearnerRuntime> {
    const r = new LearnerRuntime(o);
    await r.init();
    return r;
  }

  private get cfg(): Config {
    return this.o.config;
  }

  // ---- startup: checkpoint or fresh, ledger replay, server ------------------------------------------------
  private async init(): Promise<void> {
    const { config: cfg, runDir, logger } = this.o;
    this.store = new CheckpointStore(runDir.file('checkpoints'), { keep: cfg.learner.keepCheckpoints });
    if (cfg.run.fresh) await this.store.clear();
    const loaded = await this.store.loadLatest();
    // learnerEpoch must grow on EVERY start, also when two starts resume from the same checkpoint: the process in
    // between may have published newer versions before it died, and actors keep a same-epoch policy whose version
    // is higher (a dead timeline's weights). So the last started epoch is kept in its own durable file.
    const epochFile = runDir.file('learner-epoch');
    const lastEpoch = existsSync(epochFile) ? Number.parseInt(readFileSync(epochFile, 'utf8'), 10) : -1;
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) throw new LamerError('RL_ERR_CHECKPOINT', `${epochFile} does not hold an epoch number`);
    for (const s of loaded?.skipped ?? []) logger.warn({ checkpoint: s.dir, reason: s.reason }, 'skipped a corrupt checkpoint, falling back to the previous one');
    let optimizerState;
    if (loaded) {
      const model = parseModel(loaded.files);
      const saved = JSON.parse(Buffer.from(loaded.files.get(STATE_FILE)!).toString('utf8')) as LearnerState;
      this.modelConfig = model.config;
      this.params = model.params;
      this.tokenizer = model.tokenizer!;
      optimizerState = model.optimizer;
      this.state = { ...saved, learnerEpoch: Math.max(saved.learnerEpoch, lastEpoch) + 1 };
      this.prior = { seconds: saved.trainSeconds ?? 0, version: saved.policyVersion, trials: saved.counters.trialsTrained };
      this.resumeInfo = { version: saved.policyVersion, checkpoint: basename(loaded.dir), minutesUsed: this.prior.seconds / 60 };
      logger.info({
        checkpoint: loaded.dir, policyVersion: saved.policyVersion, learnerEpoch: this.state.learnerEpoch, optimizerStep: model.optimizer?.step ?? null,
      }, 'resumed from checkpoint');
    } else {
      this.tokenizer = this.o.initModel?.tokenizer ?? new WordTokenizer([...this.o.vocabulary]);
      this.modelConfig = this.o.initModel?.config ?? {
        vocabSize: this.tokenizer.vocabSize, nCtx: cfg.model.nCtx, dModel: cfg.model.dModel, nLayer: cfg.model.nLayer, nHead: cfg.model.nHead,
      };
      this.params = this.o.initModel?.params ?? initParams(buildManifest(this.modelConfig), cfg.run.seed);
      const runIdFile = runDir.file('run-id');
      const runId = existsSync(runIdFile) ? readFileSync(runIdFile, 'utf8').trim() : `run-${randomBytes(6).toString('hex')}`;
      writeFileSync(runIdFile, runId + '\n');
      this.state = {
        runId, policyVersion: 0, learnerEpoch: lastEpoch + 1, taskBook: { nextIndex: 0, nextLease: 0, groups: [], trainedGroups: 0 }, ledgerOffset: 0,
        counters: { trialsCommitted: 0, trialsTrained: 0, surplus: 0, rowsDroppedStale: 0 }, evals: [],
      };
    }
    await atomicWrite(epochFile, `${this.state.learnerEpoch}\n`);
    this.book = new TaskBook({
      seed: cfg.run.seed, groupSize: cfg.env.groupSize, attempts: cfg.env.attempts, evalTasks: cfg.run.evalTasks, evalAttempts: cfg.run.evalAttempts,
      evalSeed: cfg.run.evalSeed || cfg.run.seed,
    }, this.state.taskBook);
    this.book.reopenAll(); // leases of a previous learner process are unknown: re-lease every unfilled slot
    // wall_s continues across resumes (the earlier invocations' training time comes first).
    this.metrics = new MetricsCsv(runDir.file('metrics.csv'), this.t0 - this.prior.seconds * 1000);

    this.ledger = await Ledger.open(runDir.file('ledger'), {
      onRecovery: (r) => logger.warn(r, 'ledger: truncated a torn tail left by a crash'),
    });
    await this.replayLedger();

    this.trainer = await TrainerClient.start({
      config: this.modelConfig, params: this.params, optimizerState,
      optimizer: { lr: cfg.algo.lr, weightDecay: cfg.algo.weightDecay, clipNorm: cfg.algo.clipNorm },
      batchSize: cfg.algo.miniBatchRows, seqLen: this.modelConfig.nCtx, padId: this.tokenizer.pad,
    });

    this.server = await createLearnerServer({
      host: cfg.learner.host, port: cfg.learner.port, runId: this.state.runId, auth: this.o.auth, tls: this.o.tls,
      maxPayload: cfg.learner.maxPayload, heartbeatMs: cfg.learner.heartbeatMs, ledger: this.ledger, logger,
      policyState: () => ({ learnerEpoch: this.state.learnerEpoch, policyVersion: this.state.policyVersion }),
      checkTrial: (t) => (t.envId !== this.cfg.env.id ? `envId ${t.envId} is not this run's ${this.cfg.env.id}` : null),
      onTrialCommitted: (t, info) => this.onCommitted(t, info.offset),
      onTrialRejected: (t, reason, conn) => this.onRejected(t, reason, conn),
      onReady: (conn) => this.onReady(conn),
      onMessage: (msg, conn) => {
        if (msg.type === 'leaseRequest') this.onLeaseRequest(conn, msg.want);
      },
      onClose: (conn) => this.onActorGone(conn),
    });
    this.publisher = new PolicyPublisher({ peers: () => this.server.connections() });
    this.publish();
    logger.info({ url: this.server.url, runId: this.state.runId, policyVersion: this.state.policyVersion }, 'learner listening');
  }

  /** Reloads the rows of live groups and re-applies records committed after the checkpoint (acked, not yet trained). */
  private async replayLedger(): Promise<void> {
    const live = new Map<number, { groupId: string; slot: number }>();
    for (const g of this.book.groups) g.slots.forEach((s, i) => s && live.set(s.offset, { groupId: g.groupId, slot: i }));
    const from = Math.min(this.book.minLiveOffset() ?? this.state.ledgerOffset, this.state.ledgerOffset);
    let replayed = 0;
    for await (const rec of this.ledger.iterate(from)) {
      const d = decodeTrial(rec.bytes);
      if (!d.ok) throw new LamerError('RL_ERR_CHECKPOINT', `ledger record at offset ${rec.offset} does not decode: ${d.reason}`);
      const ref = live.get(rec.offset);
      if (ref) this.keepTrial(ref.groupId, ref.slot, d.trial);
      else if (rec.offset >= this.state.ledgerOffset) {
        this.onCommitted(d.trial, rec.offset, true);
        replayed++;
      }
    }
    if (replayed) this.o.logger.info({ replayed }, 'replayed ledger records committed after the checkpoint');
    this.state.ledgerOffset = this.ledger.offset;
  }

  private keepTrial(groupId: string, slot: number, trial: Trial): void {
    if (!this.trials.has(groupId)) this.trials.set(groupId, new Map());
    this.trials.get(groupId)!.set(slot, { trial, rows: rowsOf(trial) });
  }

  // ---- ingest -------------------------------------------------------------------------------------------------
  private onCommitted(t: Trial, offset: number, replay = false): void {
    this.state.counters.trialsCommitted++;
    if (!replay) {
      this.window.trials++;
      this.window.tokens += t.stats.genTokens;
      this.window.envSteps += t.stats.envSteps;
      if (t.stats.batchFill !== undefined) {
        this.window.fill += t.stats.batchFill;
        this.window.fillN++;
      }
      this.noteActorStats(t);
    }
    this.book.adopt(t.groupId);
    const r = this.book.fill(t.groupId, t.trialIndex, { offset, actorId: t.key.actorId });
    if (r === 'surplus') {
      this.state.counters.surplus++;
      return;
    }
    this.keepTrial(t.groupId, t.trialIndex, t);
    this.kick();
  }

  /** Actor idle-time counters and publish-to-switch latencies, carried by trial stats. */
  private noteActorStats(t: Trial): void {
    const { actorBusyMs, actorUpMs, weightSwitch } = t.stats;
    if (actorBusyMs !== undefined && actorUpMs !== undefined) {
      const id = `${t.key.actorId}/${t.key.incarnation}`;
      const c = this.actorClocks.get(id) ?? { busy: 0, up: 0, busy0: 0, up0: 0, silent: 0 };
      c.busy = Math.max(c.busy, actorBusyMs);
      c.up = Math.max(c.up, actorUpMs);
      this.actorClocks.set(id, c);
    }
    if (weightSwitch) this.metrics.log(weightSwitch.policyVersion, { 'perf/weight_switch_ms': weightSwitch.ms, 'perf/weight_swap_ms': weightSwitch.swapMs });
  }

  // ---- leases ---------------------------------------------------------------------------------------------------
  private lessee(conn: ActorConnection): string {
    return `${conn.actorId}/${conn.incarnation}`;
  }

  private onReady(conn: ActorConnection): void {
    const t = this.goneTimers.get(this.lessee(conn));
    if (t) {
      clearTimeout(t);
      this.goneTimers.delete(this.lessee(conn));
    }
    // A new incarnation of this actor id: the old process is dead, its unfinished slots go back to the pool.
    const released = this.book.release((l) => l.startsWith(`${conn.actorId}/`) && l !== this.lessee(conn));
    if (released) this.o.logger.info({ actorId: conn.actorId, released }, 'released slots of a previous incarnation');
    this.publisher.sweep();
    if (this.cfg.run.mode === 'sync') this.kick();
  }

  /** A rejected trial will never fill its slot: hand the slot out again instead of waiting for the actor to leave. */
  private onRejected(t: Trial, reason: string, conn: ActorConnection): void {
    if (!this.book.releaseSlot(t.groupId, t.trialIndex, this.lessee(conn))) return;
    this.o.logger.info({ actorId: conn.actorId, groupId: t.groupId, trialIndex: t.trialIndex, reason }, 're-opened the slot of a rejected trial');
    this.kick();
  }

  private onActorGone(conn: ActorConnection): void {
    const id = this.lessee(conn);
    if (this.goneTimers.has(id)) return;
    // Give a briefly disconnected actor (same process) time to come back before its slots are re-leased.
    const t = setTimeout(() => {
      this.goneTimers.delete(id);
      if (this.server.connection(conn.actorId)?.incarnation === conn.incarnation) return;
      const n = this.book.release((l) => l === id);
      if (n) this.o.logger.info({ lessee: id, released: n }, 'released slots of a disconnected actor');
      this.kick();
    }, Math.max(3 * this.cfg.learner.heartbeatMs, 2000));
    t.unref();
    this.goneTimers.set(id, t);
  }

  private trialOptions(kind: 'train' | 'eval', cohort?: { id: string; size: number }): TrialOptions {
    const c = this.cfg;
    return {
      template: c.env.template, maxTurns: c.env.maxTurns, reflect: c.env.reflect,
      temperature: kind === 'eval' ? c.sampling.evalTemperature : c.sampling.temperature,
      topP: kind === 'eval' ? c.sampling.evalTopP : c.sampling.topP,
      maxActionTokens: c.sampling.maxActionTokens, maxReflectTokens: c.sampling.maxReflectTokens,
      ...(cohort ? { cohort: cohort.id, cohortSize: cohort.size } : {}),
    };
  }

  private leaseMessage(g: { leaseId: string; groupId: string; kind: 'train' | 'eval'; taskSeed: number; groupSize: number; attempts: number; trialIndices: number[]; policyVersion: number }, cohort?: { id: string; size: number }): Lease {
    return {
      type: 'lease', leaseId: g.leaseId, groupId: g.groupId, envId: this.cfg.env.id, taskSeed: g.taskSeed, groupSize: g.groupSize,
      attempts: g.attempts, mode: g.kind, memory: this.cfg.env.memory, trialIndices: g.trialIndices,
      policyVersionAtLease: g.policyVersion, envOptions: this.cfg.env.options as Lease['envOptions'],
      trial: this.trialOptions(g.kind, cohort),
    };
  }

  private admission = (a: { accepted: number; running: number; version: number }): number =>
    groupsThatMayStart({ ...a, eta: this.cfg.algo.eta, groupsPerUpdate: this.cfg.algo.groupsPerUpdate });

  private onLeaseRequest(conn: ActorConnection, want: number): void {
    if (this.cfg.run.mode === 'sync') return; // sync mode pushes cohorts (pushCohorts)
    // Once the budget is spent only the final evaluation's slots are handed out.
    const grants = this.book.grant(this.lessee(conn), want, this.state.policyVersion, this.admission, !this.stopReason);
    for (const g of grants) conn.send(this.leaseMessage(g));
  }

  // ---- the main loop ------------------------------------------------------------------------------------------
  private kick(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private budgetLeft(): boolean {
    const c = this.cfg.run;
    if (this.stopReason) return false;
    if (c.iterations > 0 && this.state.policyVersion >= c.iterations) {
      this.stopReason = 'iterations';
      return false;
    }
    if (c.minutes > 0 && this.totalSeconds() >= c.minutes * 60) {
      this.stopReason = 'minutes';
      return false;
    }
    return true;
  }

  /** Stops the run at the next opportunity (SIGINT/SIGTERM). */
  requestStop(): void {
    this.stopReason = 'signal';
    this.kick();
  }

  async run(): Promise<LearnerSummary> {
    this.progressTimer = setInterval(() => this.progress(), this.cfg.run.progressSec * 1000);
    this.progressTimer.unref();
    if (!this.state.evals.some((e) => e.version === this.state.policyVersion)) await this.evaluate();
    while (this.budgetLeft()) {
      const w0 = performance.now();
      const groups = this.cfg.run.mode === 'sync' ? await this.syncCollect() : await this.asyncCollect();
      this.waitMs = performance.now() - w0;
      if (!groups) break;
      await this.train(groups);
      const v = this.state.policyVersion;
      this.firstUpdate ??= { t: Date.now(), v };
      const evalDue = this.cfg.run.evalEvery > 0 && v % this.cfg.run.evalEvery === 0;
      if (evalDue && this.budgetLeft()) await this.evaluate();
      if (v % this.cfg.learner.checkpointEvery === 0) await this.checkpoint();
    }
    // Final evaluation (it runs even when the time budget is spent: a run always reports where it ended); after a
    // signal only if the connected actors finish it within a few seconds.
    if (!this.state.evals.some((e) => e.version === this.state.policyVersion)) await this.evaluate(true, this.stopReason === 'signal' ? 10_000 : 5 * 60_000);
    await this.checkpoint();
    this.progress();
    return this.summary();
  }

  /** Async: wait until B train groups are complete (admission keeps actors from running ahead more than η). */
  private async asyncCollect(): Promise<GroupState[] | null> {
    const B = this.cfg.algo.groupsPerUpdate;
    for (;;) {
      if (!this.budgetLeft()) return null;
      const ready = this.book.ready('train').sort((a, b) => a.index - b.index);
      if (ready.length >= B) return ready.slice(0, B);
      await this.sleep(500);
    }
  }

  /** Sync: lease exactly B groups for this version, split over the connected actors as lockstep cohorts; wait for all. */
  private async syncCollect(): Promise<GroupState[] | null> {
    const B = this.cfg.algo.groupsPerUpdate;
    while (this.server.connections().length === 0) {
      if (!this.budgetLeft()) return null;
      await this.sleep(200);
    }
    this.pushCohorts('train', B);
    for (;;) {
      if (!this.budgetLeft()) return null;
      const ready = this.book.ready('train');
      if (ready.length >= B) return ready.sort((a, b) => a.index - b.index).slice(0, B);
      this.pushCohorts('train', 0); // re-lease orphaned slots (an actor died mid-cohort)
      await this.sleep(200);
    }
  }

  /**
   * Sync mode: creates up to `newGroups` new groups (or eval groups already open) and pushes every open slot
   * to the connected actors round-robin, one cohort per actor.
   */
  private pushCohorts(kind: 'train' | 'eval', newGroups: number): void {
    const conns = this.server.connections();
    if (conns.length === 0) return;
    const perActor = new Map<ActorConnection, ReturnType<TaskBook['grant']>>();
    let i = 0;
    const next = () => conns[i++ % conns.length];
    if (kind === 'train') {
      for (let n = 0; n < newGroups; n++) {
        const c = next();
        const g = this.book.grant(this.lessee(c), 1, this.state.policyVersion, () => 1, true).filter((x) => x.kind === 'train');
        perActor.set(c, [...(perActor.get(c) ?? []), ...g]);
      }
    }
    for (;;) {
      const c = next();
      const g = this.book.grant(this.lessee(c), 1, this.state.policyVersion, () => 0, false).filter((x) => x.kind === kind);
      if (g.length === 0) break;
      perActor.set(c, [...(perActor.get(c) ?? []), ...g]);
    }
    for (const [c, grants] of perActor) {
      if (grants.length === 0) continue;
      const cohort = { id: `c${this.syncCohort++}`, size: grants.length };
      for (const g of grants) c.send(this.leaseMessage(g, cohort));
    }
  }

  private groupRows(g: GroupState): Group<RecordedRow> {
    const slots = this.trials.get(g.groupId)!;
    return {
      groupId: g.groupId,
      trials: g.slots.map((_, i) => ({ trialId: `${g.groupId}/${i}`, rows: slots.get(i)!.rows })),
    };
  }

  private async train(groups: GroupState[]): Promise<void> {
    const t0 = performance.now();
    const v = this.state.policyVersion;
    const data = groups.map((g) => this.groupRows(g));
    const res = await runUpdate(this.trainer, data, v, this.cfg.algo, {
      nCtx: this.modelConfig.nCtx, padId: this.tokenizer.pad, seed: this.cfg.run.seed * 1_000_003 + v, sampling: this.cfg.sampling,
    });
    if (res.rowsDroppedNoLogp > 0) {
      this.o.logger.warn({ version: v, rows: res.rowsDroppedNoLogp }, 'not training on rows without behaviour log-probs (the inference server gave none)');
    }
    this.params = await this.trainer.params();
    // Rollout statistics of the consumed groups (training trials, sampled at T=1).
    const trials = groups.flatMap((g) => [...this.trials.get(g.groupId)!.values()].map((x) => x.trial));
    const wins = trials.map((t) => t.episodesWon);
    const curve = passAtKCurve(wins, this.cfg.env.attempts);
    const diversity = trajectoryDiversity(trials.length ? groups.map((g) => [...this.trials.get(g.groupId)!.values()].map((x) => episodeActions(x.trial)[0])) : [[[]]]);
    const lags = data.flatMap((g) => g.trials.flatMap((t) => t.rows.map((r) => v - r.policyVersion)));
    this.lastLag = { mean: lags.reduce((a, b) => a + b, 0) / Math.max(1, lags.length), max: Math.max(0, ...lags) };
    for (const g of groups) this.trials.delete(g.groupId);
    this.book.consume(groups.map((g) => g.groupId));
    this.state.counters.trialsTrained += trials.length;
    const cnt = this.state.counters;
    cnt.episodesTrained = (cnt.episodesTrained ?? 0) + trials.reduce((a, t) => a + t.episodesWon.length, 0);
    cnt.envStepsTrained = (cnt.envStepsTrained ?? 0) + trials.reduce((a, t) => a + t.stats.envSteps, 0);
    cnt.tokensTrained = (cnt.tokensTrained ?? 0) + trials.reduce((a, t) => a + t.stats.genTokens, 0);
    this.state.counters.rowsDroppedStale += res.rowsDroppedStale;
    this.state.policyVersion = v + 1;
    // The ledger offsets this version consumed: lets a checker (lamer chaos) prove no record is trained twice.
    this.o.logger.info({ policyVersion: v + 1, learnerEpoch: this.state.learnerEpoch, offsets: groups.flatMap((g) => g.slots.map((s) => s!.offset)) }, 'trained');
    this.publish();
    const elapsed = (Date.now() - this.t0) / 1000;
    this.metrics.log(this.state.policyVersion, {
      ...res.metrics,
      'perf/update_ms': performance.now() - t0,
      'perf/learner_wait_ms': this.waitMs,
      'perf/policy_lag_mean': this.lastLag.mean,
      'perf/policy_lag_max': this.lastLag.max,
      'rollout/trials_trained_total': this.state.counters.trialsTrained,
      'rollout/episodes_trained_total': cnt.episodesTrained,
      'rollout/env_steps_trained_total': cnt.envStepsTrained,
      'rollout/tokens_trained_total': cnt.tokensTrained,
      'rollout/trials_per_s_total': this.state.counters.trialsTrained / Math.max(1e-9, elapsed),
      ...Object.fromEntries(curve.map((p, k) => [`rollout/pass@${k + 1}`, p])),
      'rollout/diversity': diversity.mean,
      ...invalidFractions(data.flatMap((g) => g.trials.flatMap((t) => t.rows))),
    });
    this.kick();
  }

  private publish(): void {
    this.publisher.publish({
      policyVersion: this.state.policyVersion, learnerEpoch: this.state.learnerEpoch,
      // Actors rebuild the identical tokenizer from the non-special words (WordTokenizer puts the 4 specials first).
      config: { ...this.modelConfig, vocabulary: this.tokenizer.words.slice(4) },
      weights: toTensor(this.params),
    });
  }

  // ---- evaluation ------------------------------------------------------------------------------------------------
  /** Runs the fixed validation list with the current weights (training pauses meanwhile, so the version is exact). */
  private async evaluate(final = false, finalWithinMs = 5 * 60_000): Promise<void> {
    const v = this.state.policyVersion;
    const t0 = Date.now();
    // A round of this version left open by an interrupted evaluation is finished, not opened twice (same group ids).
    if (!this.book.evalPending(v)) this.book.openEvalRound(v);
    const deadline = final ? Date.now() + finalWithinMs : Infinity;
    // A signal aborts a periodic evaluation; the final one runs until its deadline.
    const aborted = () => (this.stopReason === 'signal' && !final) || Date.now() > deadline;
    while (this.server.connections().length === 0 && !aborted()) await this.sleep(200);
    for (;;) {
      const open = this.book.groups.filter((g) => g.kind === 'eval' && g.evalVersion === v);
      const pending = open.filter((g) => g.slots.some((s) => s === null));
      if (pending.length === 0) break;
      if (aborted()) return;
      // Sync: push eval cohorts. Async: actors poll for work and eval slots are granted before any train slot.
      if (this.cfg.run.mode === 'sync') this.pushCohorts('eval', 0);
      await this.sleep(200);
    }
    const groups = this.book.ready('eval').filter((g) => g.evalVersion === v);
    const trials = groups.map((g) => this.trials.get(g.groupId)!.get(0)!.trial);
    const pass = passAtKCurve(trials.map((t) => t.episodesWon), this.cfg.run.evalAttempts);
    const diversity = trajectoryDiversity(trials.map((t) => episodeActions(t)));
    for (const g of groups) this.trials.delete(g.groupId);
    this.book.consume(groups.map((g) => g.groupId));
    const result: EvalResult = { version: v, pass, diversity: diversity.mean, tasks: trials.length, wall: (Date.now() - this.t0) / 1000 };
    this.state.evals.push(result);
    this.metrics.log(v, { ...Object.fromEntries(pass.map((p, k) => [`eval/pass@${k + 1}`, p])), 'eval/diversity': diversity.mean, 'eval/seconds': (Date.now() - t0) / 1000 });
    this.o.logger.info({ version: v, pass: pass.map((p) => +p.toFixed(3)), tasks: trials.length }, 'evaluation');
    this.emit(`eval v${v}: ${pass.map((p, k) => `pass@${k + 1} ${(100 * p).toFixed(1)}%`).join('  ')}  (${evalDefinition(this.cfg).name}, ${trials.length} tasks, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }

  // ---- checkpoints ------------------------------------------------------------------------------------------------
  private async checkpoint(): Promise<void> {
    this.state.taskBook = this.book.snapshot();
    this.state.ledgerOffset = this.ledger.offset;
    this.state.trainSeconds = this.totalSeconds();
    const files = serializeModel({
      config: this.modelConfig, params: this.params, optimizer: await this.trainer.optimizerState(), tokenizer: this.tokenizer,
    });
    files.set(STATE_FILE, Buffer.from(JSON.stringify(this.state)));
    const dir = await this.store.save(this.state.policyVersion, files, {
      policyVersion: this.state.policyVersion, learnerEpoch: this.state.learnerEpoch, ledgerOffset: this.state.ledgerOffset, runId: this.state.runId,
    });
    this.o.logger.info({ dir, policyVersion: this.state.policyVersion }, 'checkpoint saved');
  }

  // ---- reporting ------------------------------------------------------------------------------------------------------
  private emit(line: string): void {
    if (this.o.onProgress) this.o.onProgress(line);
    else this.o.logger.info(line);
  }

  private progress(): void {
    const now = Date.now();
    const dt = Math.max(1e-3, (now - this.window.t) / 1000);
    const c = this.cfg.run;
    const v = this.state.policyVersion;
    const last = this.state.evals[this.state.evals.length - 1];
    const eta = etaSeconds({
      now, totalSeconds: this.totalSeconds(now), version: v, iterations: c.iterations, minutes: c.minutes, firstUpdate: this.firstUpdate,
    });
    const fmt = (s: number) => (Number.isFinite(s) ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : '?');
    const tps = this.window.trials / dt;
    const fill = this.window.fillN ? this.window.fill / this.window.fillN : NaN;
    let busy = 0;
    let up = 0;
    for (const [id, c] of this.actorClocks) {
      // Forget actor processes silent for many windows (gone): keeps the map bounded over days of restarts.
      c.silent = c.up === c.up0 ? c.silent + 1 : 0;
      if (c.silent >= 30) this.actorClocks.delete(id);
      busy += c.busy - c.busy0;
      up += c.up - c.up0;
      c.busy0 = c.busy;
      c.up0 = c.up;
    }
    this.metrics.log(v, {
      'rollout/trials_per_s': tps, 'rollout/tokens_per_s': this.window.tokens / dt, 'rollout/env_steps_per_s': this.window.envSteps / dt,
      'rollout/batch_fill': fill, 'perf/actors': this.server.connections().length,
      ...this.reliabilityMetrics(),
      'perf/actor_idle_frac': up > 0 ? Math.max(0, 1 - busy / up) : NaN,
    });
    this.emit(
      `iter ${v}${c.iterations ? `/${c.iterations}` : ''} | ${tps.toFixed(1)} trials/s | ${(this.window.tokens / dt).toFixed(0)} tok/s | ` +
      `fill ${Number.isFinite(fill) ? fill.toFixed(2) : '-'} | lag ${this.lastLag.mean.toFixed(2)}/${this.lastLag.max} | ` +
      `eval@v${last?.version ?? '-'} p@1 ${last ? (100 * last.pass[0]).toFixed(1) : '-'}% p@${last?.pass.length ?? 3} ${last ? (100 * last.pass[last.pass.length - 1]).toFixed(1) : '-'}% | ` +
      `actors ${this.server.connections().length} | ${fmt(this.totalSeconds(now))} elapsed, ETA ${fmt(eta)}`,
    );
    this.window = { trials: 0, tokens: 0, envSteps: 0, fill: 0, fillN: 0, t: now };
  }

  /** Delivery and memory-bound counters (docs/reliability.md §6), cumulative for this process except the gauges. */
  private reliabilityMetrics(): Record<string, number> {
    const n = this.server.metrics();
    const p = this.publisher.stats();
    const l = this.ledger.stats();
    const mem = process.memoryUsage();
    return {
      'net/connections_live': n.connectionsLive, 'net/dup_suppressed': n.dupSuppressed, 'net/conflicts': n.conflicts,
      'net/rejected': n.rejected, 'net/heartbeat_timeouts': n.heartbeatTimeouts, 'net/closed_protocol': n.decodeErr + n.schemaErr + n.protocolErr + n.textFrames,
      'net/credit_violations': n.creditViolations, 'net/decode_budget_exceeded': n.decodeBudgetExceeded, 'net/over_limit': n.overLimit,
      'mem/weights_peers_behind': p.behind, 'mem/weights_max_buffered_bytes': p.maxBufferedAfterSend, 'mem/weights_superseded': p.superseded,
      'mem/rss_mb': mem.rss / 2 ** 20, 'mem/heap_used_mb': mem.heapUsed / 2 ** 20,
      'ledger/entries': l.entries, 'ledger/fsyncs': l.fsyncs,
    };
  }

  summary(): LearnerSummary {
    const wall = (Date.now() - this.t0) / 1000;
    const total = this.totalSeconds();
    const trained = this.state.counters.trialsTrained;
    return {
      runId: this.state.runId, policyVersion: this.state.policyVersion, learnerEpoch: this.state.learnerEpoch,
      trialsCommitted: this.state.counters.trialsCommitted, trialsTrained: trained,
      evals: this.state.evals, wallSeconds: wall, trialsPerSec: (trained - this.prior.trials) / wall,
      totalWallSeconds: total, trialsPerSecAllTime: trained / total, startVersion: this.prior.version,
      stoppedBy: this.stopReason ?? 'signal',
    };
  }

  /** Tells actors to stop, closes everything. */
  async close(): Promise<void> {
    if (this.progressTimer) clearInterval(this.progressTimer);
    for (const t of this.goneTimers.values()) clearTimeout(t);
    for (const c of this.server?.connections() ?? []) c.send({ type: 'bye', reason: 'training finished' });
    await this.server?.close();
    this.publisher?.close();
    await this.trainer?.close();
    await this.ledger?.close();
  }
}

/**
 * Seconds left: the measured update rate of this invocation (from its first update on, so start-up and the initial
 * evaluation do not count) towards `iterations`, or the minutes left, whichever ends first. Infinity = unknown.
 */
export function etaSeconds(a: {
  now: number; totalSeconds: number; version: number; iterations: number; minutes: number; firstUpdate: { t: number; v: number } | null;
}): number {
  const f = a.firstUpdate;
  const rate = f && a.version > f.v && a.now > f.t ? (a.version - f.v) / ((a.now - f.t) / 1000) : NaN;
  const byIter = a.iterations > 0 ? (a.version >= a.iterations ? 0 : Number.isFinite(rate) ? (a.iterations - a.version) / rate : Infinity) : Infinity;
  const byMin = a.minutes > 0 ? a.minutes * 60 - a.totalSeconds : Infinity;
  return Math.max(0, Math.min(byIter, byMin));
}
