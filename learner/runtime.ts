/**
 * The learner process, wired from its components (docs/design.md §2):
 *   run-state     where it starts (checkpoint or fresh; run id, learner epoch; --fresh sets the ledger aside)
 *   server        actors' WebSockets: auth, validation, slot integrity, exactly-once commit into the ledger, acks
 *   ingest        committed records -> task-book slots, decoded rows of live groups; ledger replay on restart;
 *                 unusable ledgered records to the quarantine
 *   scheduler     leases, lockstep cohorts, the admission rule, lessee lifecycle, lease expiry
 *   trainer-loop  collect B groups -> update (trainer worker) -> publish; evaluation and checkpoint schedule
 *   evaluator     the fixed validation list
 *   checkpointer  atomic checkpoints of model, optimizer and learner state
 *   progress      progress line and metrics
 *   observatory   metric sinks, Prometheus, actor table, stall diagnosis, readiness; http serves it, endpoints
 *                 names the listeners in the run directory (docs/observability.md)
 * This file only connects them; each component's job is in its own header.
 */
import { toTensor } from '../proto/messages.js';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { ProcessProbe } from '../shared/process-probe.js';
import type { ModelConfig } from '../shared/model/config.js';
import { policyOnly } from '../shared/model/manifest.js';
import type { WordTokenizer } from '../shared/model/tokenizer.js';
import type { RunDir } from '../shared/run-dir.js';
import type { Authenticator } from './auth.js';
import { Checkpointer } from './checkpointer.js';
import { EndpointsFile } from './endpoints.js';
import { type HttpSide, startHttpSide } from './http.js';
import { Observatory } from './observatory.js';
import { CheckpointStore } from './checkpoint-store.js';
import { Evaluator } from './evaluator.js';
import { Ingest } from './ingest.js';
import { Ledger } from './ledger.js';
import { ProgressReporter, reliabilityMetrics } from './progress.js';
import { PolicyPublisher } from './publisher.js';
import { Quarantine } from './quarantine.js';
import { applyRetention } from './retention.js';
import { type LearnerState, type ResumeInfo, resumeOrStart } from './run-state.js';
import { Scheduler } from './scheduler.js';
import { createLearnerServer, type LearnerServer } from './server.js';
import { TaskBook } from './task-book.js';
import { TrainerClient } from './trainer-client.js';
import { type StopReason, TrainerLoop } from './trainer-loop.js';
import { Waker } from './waker.js';

export type { EvalResult, ResumeInfo } from './run-state.js';

/**
 * Whether a learner stopping for this reason ends the run for its actors (`bye`: they stop). A signal (Ctrl-C, a
 * restart, preemption, a rolling update) or a failed start does not: the server's GOING_AWAY close makes remote
 * actors reconnect to the next incarnation (they give up only after `giveUpAfterMs` without a learner).
 */
export function runEnded(stoppedBy: StopReason | null): boolean {
  return stoppedBy !== null && stoppedBy !== 'signal';
}

/** Interval of the `process stats` log line (memory, fds, event-loop lag; read back by lamer soak). */
const PROCESS_STATS_MS = 15_000;

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

export interface LearnerSummary {
  runId: string;
  policyVersion: number;
  learnerEpoch: number;
  trialsCommitted: number;
  trialsTrained: number;
  evals: LearnerState['evals'];
  /** This invocation's wall time and rate (trials trained by this process per second). */
  wallSeconds: number;
  trialsPerSec: number;
  /** All invocations of the run directory (the budget `run.minutes` counts this total). */
  totalWallSeconds: number;
  trialsPerSecAllTime: number;
  /** Policy version this invocation started at (0 for a new run). */
  startVersion: number;
  stoppedBy: StopReason;
}

export class LearnerRuntime {
  private server!: LearnerServer;
  private ledger!: Ledger;
  private trainer!: TrainerClient;
  private publisher!: PolicyPublisher;
  private scheduler!: Scheduler;
  /** The components a status view or a test may read (wiring stays here). */
  book!: TaskBook;
  ingest!: Ingest;
  loop!: TrainerLoop;
  private progress!: ProgressReporter;
  private state!: LearnerState;
  private progressTimer: NodeJS.Timeout | null = null;
  private probe: ProcessProbe | null = null;
  private obs!: Observatory;
  private http: HttpSide | null = null;
  private endpoints!: EndpointsFile;
  private readonly t0 = Date.now();
  private readonly waker = new Waker();
  private prior = { seconds: 0, version: 0, trials: 0 };
  private resumeInfo: ResumeInfo | null = null;
  private saveCheckpoint: (params: Float32Array) => Promise<void> = async () => {};

  private constructor(private readonly o: LearnerRuntimeOptions) {}

  get url(): string {
    return this.server.url;
  }

  /** The HTTP side's URL (dashboard, /metrics), or null when `observe.listen` is 'off'. */
  get httpUrl(): string | null {
    return this.http?.url ?? null;
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

  static async start(o: LearnerRuntimeOptions): Promise<LearnerRuntime> {
    const r = new LearnerRuntime(o);
    try {
      await r.init();
    } catch (e) {
      // The HTTP side listens from the start: a failed start must not leave a process that only answers probes.
      await r.close().catch(() => undefined);
      throw e;
    }
    return r;
  }

  private async init(): Promise<void> {
    const { config: cfg, runDir, logger } = this.o;
    // The HTTP side listens before the resume: health and readiness are visible while a large checkpoint loads.
    const obs = (this.obs = new Observatory({ config: cfg, runDir, logger, t0: this.t0 }));
    this.endpoints = new EndpointsFile(runDir.path);
    if (cfg.observe.listen !== 'off') {
      const i = cfg.observe.listen.lastIndexOf(':');
      this.http = await startHttpSide({
        host: cfg.observe.listen.slice(0, i).replace(/^\[|\]$/g, ''),
        port: Number(cfg.observe.listen.slice(i + 1)),
        auth: this.o.auth,
        observatory: obs,
        logger,
        openPaths: cfg.observe.openPaths,
      });
      this.endpoints.update({ http: this.http.url });
    }
    const store = new CheckpointStore(runDir.file('checkpoints'), { keep: cfg.learner.keepCheckpoints });
    const start = await resumeOrStart({
      config: cfg,
      runDir,
      logger,
      store,
      vocabulary: this.o.vocabulary,
      initModel: this.o.initModel,
    });
    const { modelConfig, tokenizer } = start;
    const state = (this.state = start.state);
    this.prior = start.prior;
    this.resumeInfo = start.resumedFrom;
    const book = (this.book = new TaskBook(
      {
        seed: cfg.run.seed,
        groupSize: cfg.env.groupSize,
        attempts: cfg.env.attempts,
        evalTasks: cfg.run.evalTasks,
        evalAttempts: cfg.run.evalAttempts,
        evalSeed: cfg.run.evalSeed || cfg.run.seed,
      },
      state.taskBook,
    ));
    book.reopenAll(); // leases of a previous learner process are unknown: re-lease every unfilled slot
    // wall_s continues across resumes (the earlier invocations' training time comes first).
    obs.setWallOrigin(this.t0 - this.prior.seconds * 1000);
    const metrics = obs.fanout;
    const emit = (line: string) => (this.o.onProgress ? this.o.onProgress(line) : logger.info(line));

    this.progress = new ProgressReporter(
      cfg.run,
      metrics,
      {
        version: () => state.policyVersion,
        totalSeconds: (now) => this.loop.totalSeconds(now),
        firstUpdate: () => this.loop.firstUpdate,
        lastEval: () => state.evals[state.evals.length - 1],
        lag: () => this.loop.lag,
        actors: () => this.server.connections().length,
        reliability: () =>
          reliabilityMetrics(this.server, this.publisher, this.ledger, {
            quarantined: quarantine.size,
            leasesExpired: this.scheduler.leasesExpired,
          }),
        stall: () => obs.stall.check()?.message ?? null,
      },
      emit,
    );
    const quarantine = Quarantine.open(runDir.file('quarantine'));
    const modelShape = { vocabSize: modelConfig.vocabSize, contextLength: modelConfig.nCtx };
    const ingest = (this.ingest = new Ingest({
      book,
      quarantine,
      modelShape,
      counters: state.counters,
      logger,
      // Groups an earlier learner process may have opened past the checkpoint's task-stream position.
      adoptWindow: (cfg.learner.checkpointEvery + cfg.algo.eta + 2) * cfg.algo.groupsPerUpdate,
      onLiveTrial: (t) => {
        this.progress.noteTrial(t);
        obs.noteTrial(t);
      },
      onSlotFilled: () => this.waker.kick(),
    }));
    this.ledger = await Ledger.open(runDir.file('ledger'), {
      segmentBytes: cfg.ledger.segmentMB * (1 << 20),
      archiveDir: cfg.ledger.archiveDir || undefined,
      syncTimeoutMs: cfg.learner.ioTimeoutSec * 1000,
      onRecovery: (r) => logger.warn(r, 'ledger: truncated a torn tail left by a crash'),
      lock: {
        onWait: (holder, staleInMs) =>
          logger.info({ holder, staleInMs }, 'ledger: waiting for the lock of another pid namespace to go stale'),
      },
    });
    state.ledgerOffset = await ingest.replay(this.ledger, state.ledgerOffset);
    obs.ready.resumed = true;

    this.trainer = await TrainerClient.start({
      config: modelConfig,
      params: start.params,
      optimizerState: start.optimizerState,
      optimizer: { lr: cfg.algo.lr, weightDecay: cfg.algo.weightDecay, clipNorm: cfg.algo.clipNorm },
      batchSize: cfg.algo.miniBatchRows,
      seqLen: modelConfig.nCtx,
      padId: tokenizer.pad,
      callTimeoutMs: cfg.learner.workerTimeoutSec * 1000,
      prewarm: cfg.learner.prewarmTrainer,
      logger,
    });
    obs.ready.trainer = true;
    this.scheduler = new Scheduler({
      config: cfg,
      book,
      logger,
      version: () => state.policyVersion,
      acceptingNewGroups: () => !this.loop.stopped,
      connections: () => this.server.connections(),
      connection: (id) => this.server.connection(id),
      onChange: () => this.waker.kick(),
    });
    this.server = await createLearnerServer({
      host: cfg.learner.host,
      port: cfg.learner.port,
      runId: state.runId,
      auth: this.o.auth,
      tls: this.o.tls,
      maxPayload: cfg.learner.maxPayload,
      heartbeatMs: cfg.learner.heartbeatMs,
      sendTimeoutMs: cfg.learner.sendTimeoutSec * 1000,
      ledger: this.ledger,
      logger,
      policyState: () => ({ learnerEpoch: state.learnerEpoch, policyVersion: state.policyVersion }),
      modelShape: () => modelShape,
      // Slot integrity: the record must be for a slot leased to the incarnation that numbered it, with its task.
      checkTrial: (t) =>
        t.envId !== cfg.env.id
          ? `envId ${t.envId} is not this run's ${cfg.env.id}`
          : book.checkDelivery(t, `${t.key.actorId}/${t.key.incarnation}`),
      onTrialCommitted: (t, info) => ingest.commit(t, info.offset),
      onTrialRejected: (t, reason, conn) => this.scheduler.onRejected(t, reason, conn),
      onReady: (conn) => {
        obs.fleet.connected(conn);
        this.scheduler.onReady(conn);
        this.publisher.sweep();
      },
      onMessage: (msg, conn) => {
        if (msg.type === 'leaseRequest') this.scheduler.onLeaseRequest(conn, msg.want);
      },
      onClose: (conn) => {
        obs.fleet.gone(conn);
        this.scheduler.onGone(conn);
      },
    });
    this.publisher = new PolicyPublisher({ peers: () => this.server.connections() });
    const publish = (params: Float32Array) => {
      // Actors only generate: a critic's value head (ppo) stays with the learner, so actors see the policy alone.
      const policy = policyOnly(modelConfig, params);
      return this.publisher.publish({
        policyVersion: state.policyVersion,
        learnerEpoch: state.learnerEpoch,
        // Actors rebuild the identical tokenizer from the non-special words (WordTokenizer puts the 4 specials first).
        config: { ...policy.config, vocabulary: tokenizer.words.slice(4) },
        weights: toTensor(policy.params),
      });
    };
    const checkpointer = new Checkpointer(store, logger, cfg.learner.ioTimeoutSec * 1000);
    const evaluator = new Evaluator({
      config: cfg,
      book,
      ingest,
      metrics,
      logger,
      waker: this.waker,
      t0: this.t0,
      emit,
      actors: () => this.server.connections().length,
      pushEvalCohorts: () => this.scheduler.pushCohorts('eval'),
      stopSignalled: () => this.loop.stopped === 'signal',
      reporter: obs.stall,
    });
    this.loop = new TrainerLoop(
      {
        config: cfg,
        state,
        book,
        ingest,
        evaluator,
        trainer: this.trainer,
        metrics,
        logger,
        waker: this.waker,
        t0: this.t0,
        priorSeconds: this.prior.seconds,
        model: { nCtx: modelConfig.nCtx, padId: tokenizer.pad },
        pushTrainCohorts: () => this.scheduler.pushCohorts('train'),
        publish,
        checkpoint: (params) => this.saveCheckpoint(params),
        reporter: obs.stall,
        onUpdate: (u) => obs.prometheus.observeLags(u.lags),
      },
      start.params,
    );
    this.saveCheckpoint = async (params) => {
      state.taskBook = book.snapshot();
      state.ledgerOffset = this.ledger.offset;
      state.trainSeconds = this.loop.totalSeconds();
      const replayFrom = Math.min(book.minLiveOffset() ?? state.ledgerOffset, state.ledgerOffset);
      await checkpointer.save(
        state,
        { config: modelConfig, params, optimizer: await this.trainer.optimizerState(), tokenizer },
        replayFrom,
      );
      await applyRetention(this.ledger, store, cfg.ledger.retention, logger);
    };
    publish(start.params);
    obs.attach({
      runId: () => state.runId,
      policyVersion: () => state.policyVersion,
      groups: () => book.groups,
      trialsCommitted: () => state.counters.trialsCommitted,
      trialsTrained: () => state.counters.trialsTrained,
      trialsRejected: () => this.server.metrics().rejected,
      ledgerBytes: () => this.ledger.offset,
      connections: () => this.server.connections().length,
      lastEval: () => state.evals[state.evals.length - 1],
    });
    obs.ready.accepting = true;
    obs.start();
    this.endpoints.update({ ws: this.server.url, runId: state.runId });
    logger.info({ url: this.server.url, runId: state.runId, policyVersion: state.policyVersion }, 'learner listening');
  }

  /** Writes a checkpoint of the current weights now (the loop also checkpoints on its schedule and at the end). */
  async checkpoint(): Promise<void> {
    await this.saveCheckpoint(await this.trainer.params());
  }

  /** Stops the run at the next opportunity (SIGINT/SIGTERM). */
  requestStop(): void {
    this.obs.markStopping();
    this.loop.requestStop();
  }

  async run(): Promise<LearnerSummary> {
    this.progressTimer = setInterval(() => this.progress.tick(), this.o.config.run.progressSec * 1000);
    this.progressTimer.unref();
    this.probe = new ProcessProbe().logEvery(this.o.logger, PROCESS_STATS_MS);
    const stoppedBy = await this.loop.run();
    this.progress.tick();
    return { ...this.summary(), stoppedBy };
  }

  summary(): LearnerSummary {
    const wall = (Date.now() - this.t0) / 1000;
    const total = this.prior.seconds + wall;
    const trained = this.state.counters.trialsTrained;
    return {
      runId: this.state.runId,
      policyVersion: this.state.policyVersion,
      learnerEpoch: this.state.learnerEpoch,
      trialsCommitted: this.state.counters.trialsCommitted,
      trialsTrained: trained,
      evals: this.state.evals,
      wallSeconds: wall,
      trialsPerSec: (trained - this.prior.trials) / wall,
      totalWallSeconds: total,
      trialsPerSecAllTime: trained / total,
      startVersion: this.prior.version,
      stoppedBy: this.loop?.stopped ?? 'signal',
    };
  }

  /** Whether close() told the connected actors that the run is over (`bye`). */
  get saidBye(): boolean {
    return this.byeSent;
  }
  private byeSent = false;

  /** Closes everything; tells actors to stop only if the run is over (runEnded). */
  async close(): Promise<void> {
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.probe?.stop();
    this.obs?.markStopping();
    this.scheduler?.close();
    if (runEnded(this.loop?.stopped ?? null)) {
      this.byeSent = true;
      for (const c of this.server?.connections() ?? []) c.send({ type: 'bye', reason: 'training finished' });
    }
    await this.server?.close();
    this.publisher?.close();
    await this.trainer?.close();
    await this.ledger?.close();
    await this.http?.close();
    this.obs?.close();
    this.endpoints?.update({ stoppedAt: new Date().toISOString() });
  }
}
