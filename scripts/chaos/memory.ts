/**
 * Peak resident set (VmHWM) per process role over a chaos run: sampled every second and once more right before
 * each kill (a killed process takes its peak with it). An observer of the fleet.
 */
import type { ChaosObserver } from './observer.js';
import { type MemSample, type Proc, readMem } from './procs.js';

export class MemorySampler implements ChaosObserver {
  private readonly peak = new Map<string, number>();
  private readonly live = new Set<Proc>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly everyMs = 1000,
    private readonly read: (pid: number) => MemSample | null = readMem,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => {
      for (const p of this.live) if (!p.exited) this.sample(p);
    }, this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  spawned(p: Proc): void {
    this.live.add(p);
    void p.exit.then(() => this.live.delete(p));
  }

  killing(p: Proc): void {
    this.sample(p);
  }

  sample(p: Proc): void {
    const m = this.read(p.pid);
    if (m) this.peak.set(p.role, Math.max(this.peak.get(p.role) ?? 0, m.hwm));
  }

  /** Peak per role in MB, roles sorted. */
  maxRssMB(): Record<string, number> {
    return Object.fromEntries([...this.peak].sort().map(([k, v]) => [k, Math.round(v / 2 ** 20)]));
  }
}
