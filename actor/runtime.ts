/**
 * The actor process: a learner client, the policy worker pool, and the trial scheduler that keeps many task
 * groups in flight and feeds every trial's generation requests into shared batched decode calls. Async mode:
 * one batcher for everything, leases requested as capacity frees up. Sync mode: leases arrive as cohorts that
 * start together and advance in lockstep (docs/design.md §4).
 */
import { fromTensor, type Lease, type Policy, type TrialBody } from '../proto/messages.js';
import { toWireRow } from '../proto/rows.js';
import type { Logger } from '../shared/logger.js';
import { ProcessProbe } from '../shared/process-probe.js';
import { parseModelConfig, type ModelConfig } from '../shared/model/config.js';
import { PolicyPool } from '../shared/model/policy-pool.js';
import { WordTokenizer } from '../shared/model/tokenizer.js';
import { deriveSeed } from '../shared/rng.js';
import { evalSampleSeed } from '../shared/eval-definition.js';
import { Batcher, type Generator } from './batcher.js';
import { LearnerClient } from './learner-client.js';
import { Outbox } from './outbox.js';
import { TrialLog } from './trial-log.js';
import { batcherPolicy, runTrialWith, serverPolicy, trialDeps } from './trial-deps.js';
import type { TextPolicy } from './backends/openai.js';

export interface ActorRuntimeOptions {
  url: string;
  actorId: string;
  token: string;
  runId: string;
  logger: Logger;
  /** Durable outbox directory (completed trials survive a crash and are resent under their original keys). */
  outboxDir?: string;
  /** Decode worker threads. */
  threads: number;
  /** Task groups run concurrently in async mode. */
  groupsInFlight: number;
  maxBatch: number;
  tls?: { ca: string | Buffer };
  /**
   * Stop when the learner has been unreachable this long (0 = never). Covers an actor that missed the learner's
   * final `bye`: without it a standalone actor would retry forever. Default 10 minutes, well above a learner restart.
   */
  giveUpAfterMs?: number;
  /** Deadline of each send to the learner; past it the connection is closed 4005 and re-made (default 60 s). */
  sendTimeoutMs?: number;
  /** Append-only log of completed trials and their acks (for external checkers such as `lamer chaos`). */
  trialLog?: string;
  /**
   * Generate with an OpenAI-compatible server instead of the embedded model (policy.backend=openai). The learner's
   * published policy then only supplies the tokenizer (prompt/response ids) and the version stamped on rows; no
   * decode workers start. Records say `policy.backend: openai` and whether each row has log-probs.
   */
  backend?: TextPolicy;
}

export interface ActorStats {
  trialsDone: number;
  trialsFailed: number;
  leases: number;
  policyVersion: number;
  batches: number;
  meanBatchFill: number;
  busyMs: number;
}

/** The policy behind the batcher: a pool that is (re)built when the architecture changes and hot-swapped otherwise. */
class PolicyHolder implements Generator {
  private pool: PolicyPool | null = null;
  private config: ModelConfig | null = null;
  tokenizer: WordTokenizer | null = null;
  version = -1;
  private ready: Promise<void>;
  private markReady!: () => void;

  /** `tokenizerOnly`: a text backend generates; keep the tokenizer and version, start no decode workers. */
  constructor(
    private readonly threads: number,
    private readonly tokenizerOnly = false,
  ) {
    this.ready = new Promise((r) => (this.markReady = r));
  }

  async update(p: Policy): Promise<void> {
    const { vocabulary, ...arch } = p.config as Record<string, unknown>;
    const config = parseModelConfig(arch);
    const params = fromTensor(p.weights) as Float32Array;
    const sameArch = this.config && JSON.stringify(this.config) === JSON.stringify(config);
    if (this.tokenizerOnly) {
      this.config = config;
      this.tokenizer = new WordTokenizer(vocabulary as string[]);
    } else if (this.pool && sameArch) {
      await this.pool.setWeights(params, p.policyVersion);
    } else {
      const old = this.pool;
      this.pool = await PolicyPool.create({ config, params, version: p.policyVersion, threads: this.threads });
      this.config = config;
      this.tokenizer = new WordTokenizer(vocabulary as string[]);
      await old?.close();
    }
    this.version = p.policyVersion;
    this.markReady();
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  get nCtx(): number {
    return this.config!.nCtx;
  }

  /** Engine busy time: the union of intervals with at least one generate call in flight (actor idle fraction). */
  busyMs = 0;
  private inFlight = 0;
  private busySince = 0;

  async generate(reqs: Parameters<PolicyPool['generate']>[0]) {
    if (this.inFlight++ === 0) this.busySince = performance.now();
    try {
      return await this.pool!.generate(reqs);
    } finally {
      if (--this.inFlight === 0) this.busyMs += performance.now() - this.busySince;
    }
  }

  /** Busy ms so far, including a generate call still running. */
  busyNow(): number {
    return this.busyMs + (this.inFlight > 0 ? performance.now() - this.busySince : 0);
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}

export class ActorRuntime {
  private client!: LearnerClient;
  private readonly policy: PolicyHolder;
  private readonly asyncBatcher: Batcher;
  private readonly cohorts = new Map<string, { leases: Lease[]; size: number }>();
  private activeLeases = 0;
  private stopping = false;
  private finished!: Promise<void>;
  private finish!: () => void;
  private poll: NodeJS.Timeout | null = null;
  private readonly running = new Set<Promise<void>>();
  readonly stats: ActorStats = {
    trialsDone: 0,
    trialsFailed: 0,
    leases: 0,
    policyVersion: -1,
    batches: 0,
    meanBatchFill: 0,
    busyMs: 0,
  };

  /** The actor's and its learner client's counters (the actor's own /metrics endpoint). */
  figures(): Record<string, unknown> {
    return {
      ...this.stats,
      ...(this.client
        ? Object.fromEntries(Object.entries(this.client.stats()).map(([k, v]) => [`client_${k}`, v]))
        : {}),
    };
  }
  private asyncMode = true;
  private trialLog: TrialLog | null = null;
  private probe: ProcessProbe | null = null;
  private readonly startedAt = performance.now();
  /** The latest weight switch, reported with the next trial (publish-to-switch latency). */
  private pendingSwitch: { policyVersion: number; ms: number; swapMs: number } | null = null;

  private constructor(private readonly o: ActorRuntimeOptions) {
    this.policy = new PolicyHolder(o.threads, o.backend !== undefined);
    this.asyncBatcher = new Batcher(this.policy, { maxBatch: o.maxBatch, concurrency: o.threads, lockstep: false });
    this.finished = new Promise((r) => (this.finish = r));
  }

  static async start(o: ActorRuntimeOptions): Promise<ActorRuntime> {
    const a = new ActorRuntime(o);
    const outbox = await Outbox.open({ dir: o.outboxDir });
    a.trialLog = o.trialLog ? await TrialLog.open(o.trialLog) : null;
    if (outbox.recovery.loaded)
      o.logger.info(
        { recovered: outbox.recovery.loaded },
        'outbox: resending completed trials from a previous process',
      );
    a.client = new LearnerClient({
      url: o.url,
      actorId: o.actorId,
      token: o.token,
      runId: o.runId,
      outbox,
      logger: o.logger,
      tls: o.tls,
      sendTimeoutMs: o.sendTimeoutMs,
      onLease: (l) => a.onLease(l),
      onPolicy: async (p) => {
        const arrived = Date.now();
        await a.policy.update(p);
        a.stats.policyVersion = p.policyVersion;
        const now = Date.now();
        if (p.publishedAt !== undefined)
          a.pendingSwitch = {
            policyVersion: p.policyVersion,
            ms: Math.max(0, now - p.publishedAt),
            swapMs: now - arrived,
          };
      },
      onFatal: (e) => {
        o.logger.error({ err: e.message }, 'learner refused this actor for good');
        a.stopping = true;
        a.finish();
      },
      onBye: () => void a.shutdown('learner said bye'),
      onAck: (ack) =>
        void a.trialLog?.acked(ack).catch((e: Error) => o.logger.error({ err: e.message }, 'trial log append failed')),
    });
    a.client.start();
    // Memory, fds and event-loop lag in the log every 15 s (lamer soak reads them back).
    a.probe = new ProcessProbe().logEvery(o.logger, 15_000);
    a.poll = setInterval(() => {
      a.requestWork();
      a.checkLearnerReachable();
    }, 250);
    return a;
  }

  /** Resolves when the learner ends the run (bye) or refuses this actor. */
  done(): Promise<void> {
    return this.finished;
  }

  private unreachableSince: number | null = null;

  private checkLearnerReachable(): void {
    const limit = this.o.giveUpAfterMs ?? 600_000;
    if (limit <= 0 || this.stopping) return;
    if (this.client.connectionState === 'ready') {
      this.unreachableSince = null;
      return;
    }
    const now = Date.now();
    this.unreachableSince ??= now;
    if (now - this.unreachableSince >= limit)
      void this.shutdown(`learner unreachable for ${Math.round(limit / 1000)} s`);
  }

  private requestWork(): void {
    if (this.stopping || this.policy.version < 0 || !this.asyncMode) return;
    const want = this.o.groupsInFlight - this.activeLeases;
    if (want > 0) this.client.requestLeases(want);
  }

  private onLease(l: Lease): void {
    if (this.stopping) return;
    this.stats.leases++;
    const cohort = l.trial.cohort;
    if (!cohort) {
      this.track(this.runLease(l, this.asyncBatcher));
      return;
    }
    this.asyncMode = false; // the learner runs the synchronous baseline: it pushes cohorts, we stop asking
    const c = this.cohorts.get(cohort) ?? { leases: [], size: l.trial.cohortSize ?? 1 };
    c.leases.push(l);
    this.cohorts.set(cohort, c);
    if (c.leases.length < c.size) return;
    this.cohorts.delete(cohort);
    const lockstep = new Batcher(this.policy, { maxBatch: this.o.maxBatch, concurrency: 1, lockstep: true });
    for (const lease of c.leases) this.track(this.runLease(lease, lockstep));
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  private async runLease(l: Lease, batcher: Batcher): Promise<void> {
    this.activeLeases++;
    await this.policy.whenReady();
    // All trials of the lease start in the same tick, so a lockstep cohort knows its full size before any batch.
    const trials = l.trialIndices.map((i) => this.runOne(l, i, batcher));
    await Promise.allSettled(trials);
    this.activeLeases--;
    this.requestWork();
  }

  /** A trial that throws (an env or engine failure) is retried on a fresh env with the same seed. */
  private async runOne(l: Lease, trialIndex: number, batcher: Batcher): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.runOnce(l, trialIndex, batcher);
      } catch (e) {
        this.stats.trialsFailed++;
        if (this.stopping) return;
        this.o.logger.error(
          { err: (e as Error).message, groupId: l.groupId, trialIndex, attempt },
          'trial failed; retrying on a fresh env',
        );
        if (attempt >= 3) return;
      }
    }
  }

  private async runOnce(l: Lease, trialIndex: number, batcher: Batcher): Promise<void> {
    const tok = this.policy.tokenizer!;
    const spec = {
      envId: l.envId,
      template: l.trial.template,
      memory: l.memory,
      attempts: l.attempts,
      maxTurns: l.trial.maxTurns,
      reflect: l.trial.reflect,
      taskSeed: l.taskSeed,
      nCtx: this.policy.nCtx,
      maxActionTokens: l.trial.maxActionTokens,
      maxReflectTokens: l.trial.maxReflectTokens,
    };
    let call = 0;
    // Evaluation trials use the shared evaluation definition's seeds (shared/eval-definition.ts): one model, one score.
    const seedOf = () =>
      l.mode === 'eval'
        ? evalSampleSeed(l.taskSeed, call++)
        : deriveSeed(l.taskSeed, l.groupId, trialIndex, l.mode, call++);
    const sampling = { temperature: l.trial.temperature, topP: l.trial.topP };
    const backend = this.o.backend;
    const deps = trialDeps(spec, {
      envOptions: l.envOptions,
      // A server has its own batching: no lockstep barrier, no decode pool; same seeds per call as the embedded path.
      policy: backend
        ? serverPolicy(backend, tok, sampling, seedOf, () => this.policy.version)
        : batcherPolicy(batcher, tok, sampling, seedOf, { phaseBarrier: true }),
    });
    const startedAt = Date.now();
    const fill0 = { b: batcher.stats.batches, f: batcher.stats.fillSum };
    const res = await runTrialWith(spec, deps, batcher);
    const nb = batcher.stats.batches - fill0.b;
    const body: TrialBody = {
      leaseId: l.leaseId,
      groupId: l.groupId,
      trialIndex,
      envId: l.envId,
      taskSeed: l.taskSeed,
      mode: l.mode,
      attempts: l.attempts,
      episodesWon: res.episodesWon,
      ...(backend ? { policy: { backend: 'openai' as const, model: backend.model.slice(0, 128) } } : {}),
      rows: res.rows.map(toWireRow),
      stats: {
        startedAt,
        finishedAt: Date.now(),
        envSteps: res.envSteps,
        genTokens: res.genTokens,
        ...(nb > 0 ? { batchFill: Math.min(1, (batcher.stats.fillSum - fill0.f) / nb) } : {}),
        actorBusyMs: this.policy.busyNow(),
        actorUpMs: performance.now() - this.startedAt,
        ...(this.pendingSwitch ? { weightSwitch: this.pendingSwitch } : {}),
        outboxDepth: this.client.stats().outbox,
      },
    };
    this.pendingSwitch = null;
    // Held in the outbox (on disk in durable mode) from here on; the client delivers and resends it.
    const { key } = await this.client.enqueueTrial(body);
    // Logged only once the outbox holds the record: a logged trial must reach the ledger (the chaos checker's
    // "completed").
    await this.trialLog?.completed(key, l.groupId, trialIndex);
    this.stats.trialsDone++;
  }

  async shutdown(reason: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.poll) clearInterval(this.poll);
    this.probe?.stop();
    this.o.logger.info({ reason }, 'actor stopping');
    const s = this.asyncBatcher.stats;
    Object.assign(this.stats, {
      batches: s.batches,
      meanBatchFill: s.batches ? s.fillSum / s.batches : 0,
      busyMs: s.busyMs,
    });
    await this.client.close(reason);
    await this.policy.close();
    await this.trialLog?.close();
    this.finish();
  }
}
