/**
 * Metric sinks behind one interface. Components log `(version, {name: value})` to one {@link MetricsLog}; a
 * {@link MetricsFanout} hands every finite value to each sink (CSV, JSON lines, TensorBoard, Prometheus, ...). A
 * sink that throws is counted and reported once, and never stops training: observability must not be the thing
 * that kills a days-long run (a full disk for the TensorBoard file is not a reason to lose the update).
 */
import type { Logger } from '../logger.js';

/** What components log to: one call per event, values keyed by metric name (`train/loss`, `perf/update_ms`). */
export interface MetricsLog {
  log(version: number, values: Record<string, number | null | undefined>): void;
}

/** One destination. `wall` is seconds since the run (process) start; values are finite. */
export interface MetricSink {
  readonly name: string;
  write(wall: number, version: number, values: Record<string, number>): void;
  /** Flushes and releases files; called once at the end of the run. */
  close?(): void;
}

export interface SinkFailure {
  sink: string;
  failures: number;
  lastError: string;
}

export class MetricsFanout implements MetricsLog {
  private readonly failures = new Map<string, SinkFailure>();
  private readonly listeners: Array<(wall: number, version: number, values: Record<string, number>) => void> = [];

  constructor(
    private readonly sinks: readonly MetricSink[],
    private t0: number,
    private readonly logger?: Logger,
  ) {}

  log(version: number, values: Record<string, number | null | undefined>): void {
    const clean: Record<string, number> = {};
    let n = 0;
    for (const [k, v] of Object.entries(values)) {
      if (typeof v === 'number' && Number.isFinite(v)) {
        clean[k] = v;
        n++;
      }
    }
    if (n === 0) return;
    const wall = (Date.now() - this.t0) / 1000;
    for (const s of this.sinks) this.guard(s.name, () => s.write(wall, version, clean));
    for (const l of this.listeners) this.guard('listener', () => l(wall, version, clean));
  }

  /** Live consumers (the dashboard's event stream) get every logged row; they are guarded like sinks. */
  /** Moves the wall-clock origin (a resumed run continues its earlier invocations' training time). */
  setOrigin(t0: number): void {
    this.t0 = t0;
  }

  subscribe(fn: (wall: number, version: number, values: Record<string, number>) => void): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Sinks that failed at least once (also shown by the dashboard and `lamer status`). */
  failed(): SinkFailure[] {
    return [...this.failures.values()];
  }

  close(): void {
    for (const s of this.sinks) this.guard(s.name, () => s.close?.());
  }

  private guard(name: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      const f = this.failures.get(name) ?? { sink: name, failures: 0, lastError: '' };
      f.failures++;
      f.lastError = e instanceof Error ? e.message : String(e);
      this.failures.set(name, f);
      // Once per sink, then every 1000th: a broken sink must not flood the log either.
      if (f.failures === 1 || f.failures % 1000 === 0)
        this.logger?.warn(
          { sink: name, failures: f.failures, err: f.lastError },
          'metric sink failed; training continues',
        );
    }
  }
}
