/**
 * A process's own health, logged periodically as a `process stats` line so a long run's memory, heap,
 * descriptors and event-loop lag can be read back from its log (lamer soak plots them): V8 heap and event-loop
 * delay are only visible from inside the process.
 */
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from './logger.js';

export interface ProcessStats {
  rssMB: number;
  heapUsedMB: number;
  /** Open file descriptors (null where /proc is absent). */
  fds: number | null;
  /** Event-loop delay since the previous sample, ms. */
  loopLagP99Ms: number;
  loopLagMaxMs: number;
}

export function openFds(pid: number | 'self' = 'self'): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

export class ProcessProbe {
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  private timer: NodeJS.Timeout | null = null;

  constructor() {
    this.lag.enable();
  }

  sample(): ProcessStats {
    const m = process.memoryUsage();
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const s: ProcessStats = {
      rssMB: r2(m.rss / 2 ** 20),
      heapUsedMB: r2(m.heapUsed / 2 ** 20),
      fds: openFds(),
      loopLagP99Ms: r2(this.lag.percentile(99) / 1e6),
      loopLagMaxMs: r2(this.lag.max / 1e6),
    };
    this.lag.reset();
    return s;
  }

  /** Logs a `process stats` line every `ms` (unref'd: never keeps the process alive). */
  logEvery(logger: Logger, ms: number): this {
    this.timer = setInterval(() => logger.info(this.sample(), 'process stats'), ms);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.lag.disable();
  }
}
