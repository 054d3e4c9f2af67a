/**
 * The learner's Prometheus registry (prom-client): a metric sink that turns logged metrics into named series,
 * gauges read live at scrape time (counters of the run state, ledger bytes, connections, the current stall),
 * the policy-lag histogram fed per trained row, and prom-client's process metrics (RSS, heap, event-loop lag).
 * Every logged metric is also exported as `lamer_metric{name="train/loss"}`, so nothing logged is missing here.
 */
import client from 'prom-client';
import type { MetricSink } from '../shared/metrics/sink.js';
import { dashboardBusySeconds } from './dashboard-cost.js';

export interface LiveSources {
  policyVersion(): number;
  trialsCommitted(): number;
  trialsTrained(): number;
  trialsRejected(): number;
  ledgerBytes(): number;
  connections(): number;
  /** Seconds the current stall has lasted (0 when progressing). */
  stallSeconds(): number;
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Logged name -> histogram in seconds (the logged value is in ms). */
const HISTOGRAMS_MS: Record<string, { name: string; help: string }> = {
  'perf/learner_wait_ms': {
    name: 'lamer_learner_wait_seconds',
    help: 'time the learner waited for complete groups before an update',
  },
  'perf/update_ms': { name: 'lamer_update_seconds', help: 'time of one policy update (trainer worker, incl. publish)' },
  'perf/weight_switch_ms': {
    name: 'lamer_publish_to_switch_seconds',
    help: "from the learner's publish to an actor generating with the new weights",
  },
};

/** Logged name -> gauge (optionally one label taken from the name). */
const GAUGES: Array<{ match: RegExp; name: string; help: string; label?: string }> = [
  {
    match: /^perf\/actor_idle_frac$/,
    name: 'lamer_actor_idle_fraction',
    help: 'fraction of actor uptime the policy engine was not generating (last window)',
  },
  {
    match: /^train\/clip_frac$/,
    name: 'lamer_is_clip_fraction',
    help: 'fraction of tokens whose importance ratio was clipped (last update)',
  },
  {
    match: /^train\/ess$/,
    name: 'lamer_effective_sample_size',
    help: 'effective sample size of the importance weights, normalised (last update)',
  },
  {
    match: /^train\/kl_behav$/,
    name: 'lamer_kl_behaviour_policy',
    help: 'KL(mu||pi) between behaviour and proximal policy (last update)',
  },
  {
    match: /^rollout\/invalid_(?:(play|reflect)_)?frac$/,
    name: 'lamer_invalid_reply_fraction',
    help: 'fraction of invalid replies in trained rows (phase=all|play|reflect)',
    label: 'phase',
  },
  {
    match: /^eval\/pass@(\d+)$/,
    name: 'lamer_eval_pass_at_k',
    help: 'validation pass@k of the newest evaluation',
    label: 'k',
  },
  {
    match: /^rollout\/pass@(\d+)$/,
    name: 'lamer_rollout_pass_at_k',
    help: 'pass@k of the trials of the last update (T=1)',
    label: 'k',
  },
  {
    match: /^rollout\/trials_per_s$/,
    name: 'lamer_trials_per_second',
    help: 'committed trials per second (last progress window)',
  },
  {
    match: /^rollout\/tokens_per_s$/,
    name: 'lamer_tokens_per_second',
    help: 'generated tokens per second (last progress window)',
  },
  {
    match: /^perf\/policy_lag_mean$/,
    name: 'lamer_policy_lag_mean',
    help: 'mean policy lag of the rows of the last update',
  },
];

/**
 * prom-client's process metrics, once per process: each collector set starts a GC observer and an event-loop
 * monitor that are never released, and `lamer experiment` runs many learners in one process.
 */
let processRegistry: client.Registry | null = null;
function processMetrics(): client.Registry {
  if (!processRegistry) {
    processRegistry = new client.Registry();
    client.collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 20 });
  }
  return processRegistry;
}

export class LearnerPrometheus {
  readonly registry = new client.Registry();
  private readonly histograms = new Map<string, client.Histogram>();
  private readonly gauges = new Map<string, client.Gauge>();
  private readonly any: client.Gauge;
  private readonly lag: client.Histogram;

  constructor(live: LiveSources) {
    const r = this.registry;
    const liveGauge = (name: string, help: string, read: () => number) =>
      new client.Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(read());
        },
      });
    // Counters of the durable run state: set at scrape time (they survive restarts, so they are not process counters).
    const liveCounter = (name: string, help: string, read: () => number) =>
      new client.Counter({
        name,
        help,
        registers: [r],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    liveGauge('lamer_policy_version', 'current policy version', live.policyVersion);
    liveCounter('lamer_trials_committed_total', 'trials committed to the ledger (whole run)', live.trialsCommitted);
    liveCounter('lamer_trials_trained_total', 'trials consumed by policy updates (whole run)', live.trialsTrained);
    liveCounter('lamer_trials_rejected_total', 'trials acked rejected (this learner process)', live.trialsRejected);
    liveGauge('lamer_ledger_bytes', 'size of the trial ledger', live.ledgerBytes);
    liveGauge('lamer_connections', 'connected actors', live.connections);
    // A process counter (not durable run state): what the dashboard has cost this learner process.
    new client.Counter({
      name: 'lamer_dashboard_busy_seconds_total',
      help: 'time this learner process spent serving the dashboard (pages, history, status, event streams)',
      registers: [r],
      collect() {
        this.reset();
        this.inc(dashboardBusySeconds());
      },
    });
    liveGauge(
      'lamer_stall_seconds',
      'seconds without progress of the stage now waiting (0 = progressing)',
      live.stallSeconds,
    );
    this.lag = new client.Histogram({
      name: 'lamer_policy_lag',
      help: 'policy lag (versions) of each trained row',
      buckets: [0, 1, 2, 3, 4, 6, 8, 12, 16],
      registers: [r],
    });
    for (const h of Object.values(HISTOGRAMS_MS)) {
      this.histograms.set(
        h.name,
        new client.Histogram({ name: h.name, help: h.help, buckets: SECONDS, registers: [r] }),
      );
    }
    for (const g of GAUGES)
      this.gauges.set(
        g.name,
        new client.Gauge({ name: g.name, help: g.help, labelNames: g.label ? [g.label] : [], registers: [r] }),
      );
    this.any = new client.Gauge({
      name: 'lamer_metric',
      help: 'latest value of every logged metric (metrics.csv name)',
      labelNames: ['name'],
      registers: [r],
    });
  }

  /** Policy lag of every row of one update. */
  observeLags(lags: readonly number[]): void {
    for (const l of lags) this.lag.observe(l);
  }

  readonly sink: MetricSink = {
    name: 'prometheus',
    write: (_wall, _version, values) => {
      for (const [k, v] of Object.entries(values)) {
        this.any.set({ name: k }, v);
        const h = HISTOGRAMS_MS[k];
        if (h) this.histograms.get(h.name)!.observe(v / 1000);
        for (const g of GAUGES) {
          const m = g.match.exec(k);
          if (!m) continue;
          const gauge = this.gauges.get(g.name)!;
          if (g.label) gauge.set({ [g.label]: m[1] ?? 'all' }, v);
          else gauge.set(v);
        }
      }
    },
  };

  /** This learner's series and the process metrics, in Prometheus text format. */
  metrics(): Promise<string> {
    return client.Registry.merge([processMetrics(), this.registry]).metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
