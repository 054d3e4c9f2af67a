/**
 * What a running learner reports every `run.progressSec`: rollout throughput of the last window, policy lag,
 * the newest evaluation, connected actors, actor idle time (from the engine-busy/uptime counters actors send in
 * trial stats), and the delivery/memory counters of docs/reliability.md §6 — as one progress line and as
 * metrics rows.
 */
import type { Trial } from '../proto/messages.js';
import type { Config } from '../shared/config.js';
import type { MetricsLog } from '../shared/metrics/sink.js';
import type { Ledger } from './ledger.js';
import type { PolicyPublisher } from './publisher.js';
import type { EvalResult } from './run-state.js';
import type { LearnerServer } from './server.js';

/** Delivery and memory-bound counters (docs/reliability.md §6), cumulative for this process except the gauges. */
export function reliabilityMetrics(
  server: LearnerServer,
  publisher: PolicyPublisher,
  ledger: Ledger,
  extra: { quarantined: number; leasesExpired: number },
): Record<string, number> {
  const n = server.metrics();
  const p = publisher.stats();
  const l = ledger.stats();
  const mem = process.memoryUsage();
  return {
    'net/connections_live': n.connectionsLive,
    'net/dup_suppressed': n.dupSuppressed,
    'net/conflicts': n.conflicts,
    'net/rejected': n.rejected,
    'net/heartbeat_timeouts': n.heartbeatTimeouts,
    'net/closed_protocol': n.decodeErr + n.schemaErr + n.protocolErr + n.textFrames,
    'net/credit_violations': n.creditViolations,
    'net/decode_budget_exceeded': n.decodeBudgetExceeded,
    'net/over_limit': n.overLimit,
    'mem/weights_peers_behind': p.behind,
    'mem/weights_max_buffered_bytes': p.maxBufferedAfterSend,
    'mem/weights_superseded': p.superseded,
    'mem/rss_mb': mem.rss / 2 ** 20,
    'mem/heap_used_mb': mem.heapUsed / 2 ** 20,
    'ledger/entries': l.entries,
    'ledger/fsyncs': l.fsyncs,
    'ledger/quarantined': extra.quarantined,
    'net/slow_readers': n.slowReaders,
    'net/upgrade_timeouts': n.upgradeTimeouts,
    'net/send_timeouts': n.sendTimeouts,
    'sched/leases_expired': extra.leasesExpired,
  };
}

/**
 * Seconds left: the measured update rate of this invocation (from its first update on, so start-up and the initial
 * evaluation do not count) towards `iterations`, or the minutes left, whichever ends first. Infinity = unknown.
 */
export function etaSeconds(a: {
  now: number;
  totalSeconds: number;
  version: number;
  iterations: number;
  minutes: number;
  firstUpdate: { t: number; v: number } | null;
}): number {
  const f = a.firstUpdate;
  const rate = f && a.version > f.v && a.now > f.t ? (a.version - f.v) / ((a.now - f.t) / 1000) : NaN;
  const byIter =
    a.iterations > 0
      ? a.version >= a.iterations
        ? 0
        : Number.isFinite(rate)
          ? (a.iterations - a.version) / rate
          : Infinity
      : Infinity;
  const byMin = a.minutes > 0 ? a.minutes * 60 - a.totalSeconds : Infinity;
  return Math.max(0, Math.min(byIter, byMin));
}

export interface ProgressSources {
  version(): number;
  /** Training seconds of the run directory so far (earlier invocations included). */
  totalSeconds(now: number): number;
  /** This invocation's first update, for the rate behind the ETA. */
  firstUpdate(): { t: number; v: number } | null;
  lastEval(): EvalResult | undefined;
  lag(): { mean: number; max: number };
  actors(): number;
  reliability(): Record<string, number>;
  /** The current stall message, if any (appended to the progress line). */
  stall?(): string | null;
}

export class ProgressReporter {
  private window = { trials: 0, tokens: 0, envSteps: 0, fill: 0, fillN: 0, t: Date.now() };
  /** Per actor process: its engine-busy and uptime counters (latest report and at the window's start). */
  private readonly actorClocks = new Map<
    string,
    { busy: number; up: number; busy0: number; up0: number; silent: number }
  >();

  constructor(
    private readonly run: Config['run'],
    private readonly metrics: MetricsLog,
    private readonly sources: ProgressSources,
    private readonly emit: (line: string) => void,
  ) {}

  /** A live committed trial: window counters, actor clocks, publish-to-switch latency. */
  noteTrial(t: Trial): void {
    this.window.trials++;
    this.window.tokens += t.stats.genTokens;
    this.window.envSteps += t.stats.envSteps;
    if (t.stats.batchFill !== undefined) {
      this.window.fill += t.stats.batchFill;
      this.window.fillN++;
    }
    const { actorBusyMs, actorUpMs, weightSwitch } = t.stats;
    if (actorBusyMs !== undefined && actorUpMs !== undefined) {
      const id = `${t.key.actorId}/${t.key.incarnation}`;
      const c = this.actorClocks.get(id) ?? { busy: 0, up: 0, busy0: 0, up0: 0, silent: 0 };
      c.busy = Math.max(c.busy, actorBusyMs);
      c.up = Math.max(c.up, actorUpMs);
      this.actorClocks.set(id, c);
    }
    // A switch to a version this learner has not published (a dead process's weights, or a false report) would put
    // a metric row at a version that does not exist: it is left out; the trial itself is judged by its rows.
    if (weightSwitch && weightSwitch.policyVersion <= this.sources.version()) {
      this.metrics.log(weightSwitch.policyVersion, {
        'perf/weight_switch_ms': weightSwitch.ms,
        'perf/weight_swap_ms': weightSwitch.swapMs,
      });
    }
  }

  /** Writes the window's metrics and the progress line, then starts a new window. */
  tick(): void {
    const now = Date.now();
    const dt = Math.max(1e-3, (now - this.window.t) / 1000);
    const c = this.run;
    const v = this.sources.version();
    const total = this.sources.totalSeconds(now);
    const last = this.sources.lastEval();
    const lag = this.sources.lag();
    const actors = this.sources.actors();
    const eta = etaSeconds({
      now,
      totalSeconds: total,
      version: v,
      iterations: c.iterations,
      minutes: c.minutes,
      firstUpdate: this.sources.firstUpdate(),
    });
    const fmt = (s: number) =>
      Number.isFinite(s) ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : '?';
    const tps = this.window.trials / dt;
    const fill = this.window.fillN ? this.window.fill / this.window.fillN : NaN;
    let busy = 0;
    let up = 0;
    for (const [id, clock] of this.actorClocks) {
      // Forget actor processes silent for many windows (gone): keeps the map bounded over days of restarts.
      clock.silent = clock.up === clock.up0 ? clock.silent + 1 : 0;
      if (clock.silent >= 30) this.actorClocks.delete(id);
      busy += clock.busy - clock.busy0;
      up += clock.up - clock.up0;
      clock.busy0 = clock.busy;
      clock.up0 = clock.up;
    }
    this.metrics.log(v, {
      'rollout/trials_per_s': tps,
      'rollout/tokens_per_s': this.window.tokens / dt,
      'rollout/env_steps_per_s': this.window.envSteps / dt,
      'rollout/batch_fill': fill,
      'perf/actors': actors,
      ...this.sources.reliability(),
      'perf/actor_idle_frac': up > 0 ? Math.max(0, 1 - busy / up) : NaN,
    });
    this.emit(
      `iter ${v}${c.iterations ? `/${c.iterations}` : ''} | ${tps.toFixed(1)} trials/s | ` +
        `${(this.window.tokens / dt).toFixed(0)} tok/s | ` +
        `fill ${Number.isFinite(fill) ? fill.toFixed(2) : '-'} | lag ${lag.mean.toFixed(2)}/${lag.max} | ` +
        `eval@v${last?.version ?? '-'} p@1 ${last ? (100 * last.pass[0]).toFixed(1) : '-'}% ` +
        `p@${last?.pass.length ?? 3} ${last ? (100 * last.pass[last.pass.length - 1]).toFixed(1) : '-'}% | ` +
        `actors ${actors} | ${fmt(total)} elapsed, ETA ${fmt(eta)}${this.stallSuffix()}`,
    );
    this.window = { trials: 0, tokens: 0, envSteps: 0, fill: 0, fillN: 0, t: now };
  }

  private stallSuffix(): string {
    const s = this.sources.stall?.();
    return s ? ` | STALLED: ${s}` : '';
  }
}
