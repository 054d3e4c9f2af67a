/**
 * Everything the learner shows about itself while it runs, in one place: the metric sinks (fan-out), the
 * Prometheus registry, the per-actor table, the stall watch, recent warnings, a bounded history of every metric
 * for the dashboard's first paint, readiness, and the status snapshot served to the dashboard and `lamer status`.
 * Components only report into it (MetricsLog, StageReporter, the fleet's callbacks); it never drives training.
 */
import { existsSync } from 'node:fs';
import type { Trial } from '../proto/messages.js';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { csvSink, jsonlSink } from '../shared/metrics/files.js';
import { MetricsFanout, type MetricSink } from '../shared/metrics/sink.js';
import { tensorboardSink } from '../shared/metrics/tensorboard.js';
import { MetricsCsv, readMetricsCsv, type RunDir } from '../shared/run-dir.js';
import { MetricHistory, type Point } from './metric-history.js';
import { Fleet, type ActorRow } from './fleet.js';
import { LearnerPrometheus, type LiveSources } from './prometheus.js';
import { type Stall, StallWatch } from './stall.js';
import type { GroupState } from './task-book.js';

export interface Readiness {
  resumed: boolean;
  trainer: boolean;
  accepting: boolean;
}

export interface Warning {
  at: string;
  message: string;
}

/** Live figures the observatory reads from the running learner (set once the components exist). */
export interface RunView extends Omit<LiveSources, 'stallSeconds'> {
  runId(): string;
  groups(): readonly GroupState[];
  lastEval(): { version: number; pass: number[] } | undefined;
}

export interface StatusSnapshot {
  runId: string;
  pid: number;
  phase: 'starting' | 'ready' | 'stopping';
  ready: Readiness;
  uptimeSec: number;
  policyVersion: number;
  iterations: number;
  trialsCommitted: number;
  trialsTrained: number;
  connections: number;
  lastEval: { version: number; pass: number[] } | null;
  /** Newest value of the headline metrics. */
  latest: Record<string, number>;
  actors: ActorRow[];
  stall: Stall | null;
  warnings: Warning[];
  sinkFailures: ReturnType<MetricsFanout['failed']>;
}

const HISTORY_PER_METRIC = 4000;
/** A restarted learner seeds the history from about this much of the newest metrics.csv (cost independent of age). */
const SEED_BYTES = 8 << 20;
const WARNINGS_KEPT = 50;
const HEADLINE = [
  'rollout/trials_per_s',
  'rollout/tokens_per_s',
  'perf/policy_lag_mean',
  'perf/policy_lag_max',
  'perf/actor_idle_frac',
  'perf/learner_wait_ms',
  'perf/update_ms',
  'train/loss',
];

export class Observatory {
  readonly fanout: MetricsFanout;
  readonly prometheus: LearnerPrometheus;
  readonly fleet = new Fleet();
  readonly stall: StallWatch;
  readonly ready: Readiness = { resumed: false, trainer: false, accepting: false };
  private stopping = false;
  private view: RunView | null = null;
  private readonly history = new MetricHistory(HISTORY_PER_METRIC);
  private readonly warnings: Warning[] = [];
  private stallTimer: NodeJS.Timeout | null = null;

  /** Moves the metrics' wall-clock origin once the resume is known (training time of earlier invocations first). */
  setWallOrigin(t0: number): void {
    this.fanout.setOrigin(t0);
  }

  constructor(private readonly o: { config: Config; runDir: RunDir; logger: Logger; t0: number }) {
    const { config: cfg, runDir, t0 } = o;
    const live: LiveSources = {
      policyVersion: () => this.view?.policyVersion() ?? 0,
      trialsCommitted: () => this.view?.trialsCommitted() ?? 0,
      trialsTrained: () => this.view?.trialsTrained() ?? 0,
      trialsRejected: () => this.view?.trialsRejected() ?? 0,
      ledgerBytes: () => this.view?.ledgerBytes() ?? 0,
      connections: () => this.view?.connections() ?? 0,
      stallSeconds: () => this.stall.check()?.quietSec ?? 0,
    };
    this.prometheus = new LearnerPrometheus(live);
    const csvPath = runDir.file('metrics.csv');
    this.seedHistory(csvPath);
    const sinks: MetricSink[] = [];
    const rotate = { maxBytes: Math.round(cfg.log.metricsMaxMB * (1 << 20)), keep: cfg.log.metricsKeep };
    for (const name of cfg.observe.sinks) {
      if (name === 'csv') sinks.push(csvSink(new MetricsCsv(csvPath, t0, rotate)));
      if (name === 'jsonl') sinks.push(jsonlSink(runDir.file('metrics.jsonl'), rotate));
      if (name === 'tensorboard') sinks.push(tensorboardSink(runDir.file('tensorboard'), t0, rotate));
    }
    sinks.push(this.prometheus.sink);
    this.fanout = new MetricsFanout(sinks, t0, o.logger);
    this.fanout.subscribe((wall, version, values) => {
      for (const [k, v] of Object.entries(values)) this.history.push(k, wall, version, v);
    });
    this.stall = new StallWatch({ stallSec: cfg.observe.stallSec, actors: () => this.actors() });
  }

  /** The running learner's figures (components exist from here on). */
  attach(view: RunView): void {
    this.view = view;
  }

  /** Logs each new stall once (warn) and keeps it in the recent warnings. */
  start(): void {
    const every = Math.max(250, Math.min(5000, (this.o.config.observe.stallSec * 1000) / 4));
    this.stallTimer = setInterval(() => {
      const s = this.stall.newStall();
      if (s) this.warn(`stalled: ${s.message}`, { stage: s.stage, waitingSec: Math.round(s.waitingSec) });
    }, every);
    this.stallTimer.unref();
  }

  /** A warning for the log and the dashboard's list. */
  warn(message: string, fields: Record<string, unknown> = {}): void {
    this.o.logger.warn(fields, message);
    this.warnings.push({ at: new Date().toISOString(), message });
    if (this.warnings.length > WARNINGS_KEPT) this.warnings.shift();
  }

  noteTrial(t: Trial): void {
    this.fleet.trial(t);
    this.stall.progressed();
  }

  actors(): ActorRow[] {
    return this.fleet.rows(this.view?.groups() ?? []);
  }

  isReady(): boolean {
    return !this.stopping && this.ready.resumed && this.ready.trainer && this.ready.accepting;
  }

  markStopping(): void {
    this.stopping = true;
  }

  status(): StatusSnapshot {
    const v = this.view;
    const latest: Record<string, number> = {};
    for (const k of HEADLINE) {
      const p = this.history.last(k);
      if (p) latest[k] = p[2];
    }
    return {
      runId: v?.runId() ?? '',
      pid: process.pid,
      phase: this.stopping ? 'stopping' : this.isReady() ? 'ready' : 'starting',
      ready: { ...this.ready },
      uptimeSec: (Date.now() - this.o.t0) / 1000,
      policyVersion: v?.policyVersion() ?? 0,
      iterations: this.o.config.run.iterations,
      trialsCommitted: v?.trialsCommitted() ?? 0,
      trialsTrained: v?.trialsTrained() ?? 0,
      connections: v?.connections() ?? 0,
      lastEval: v?.lastEval() ?? null,
      latest,
      actors: this.actors(),
      stall: this.stall.check(),
      warnings: [...this.warnings],
      sinkFailures: this.fanout.failed(),
    };
  }

  /** Every metric's recent points as name -> [[wall, version, value], ...] (the dashboard's first paint). */
  historySnapshot(): Record<string, Point[]> {
    return this.history.snapshot();
  }

  close(): void {
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.fanout.close();
  }

  /** A resumed run's dashboard starts with the curves so far (wall times of earlier processes are kept as logged). */
  private seedHistory(csvPath: string): void {
    if (!existsSync(csvPath)) return;
    try {
      for (const [name, pts] of readMetricsCsv(csvPath, { tailBytes: SEED_BYTES }))
        for (const p of pts.slice(-HISTORY_PER_METRIC)) this.history.push(name, p.wall, p.version, p.value);
    } catch (e) {
      this.o.logger.warn({ err: (e as Error).message }, 'could not read metrics.csv for the dashboard history');
    }
  }
}
