/** The progress line and window metrics (learner/progress.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProgressReporter } from '../../learner/progress.js';
import { MetricsCsv, readMetricsCsv } from '../../shared/run-dir.js';
import { sampleTrial } from '../proto/samples.js';
import { config } from './components.js';

let dir = '';
afterEach(() => {
  vi.useRealTimers();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ProgressReporter', () => {
  it('reports the window rate, lag, newest evaluation, actors and ETA, then starts a new window', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    dir = mkdtempSync(join(tmpdir(), 'lamer-progress-'));
    const metrics = new MetricsCsv(join(dir, 'm.csv'), Date.now());
    const lines: string[] = [];
    const t0 = Date.now();
    const p = new ProgressReporter(
      config({ run: { iterations: 10, minutes: 0 } }).run,
      metrics,
      {
        version: () => 5,
        totalSeconds: (now) => (now - t0) / 1000,
        firstUpdate: () => ({ t: t0, v: 0 }),
        lastEval: () => ({ version: 4, pass: [0.25, 0.5, 0.75], diversity: 0, tasks: 4, wall: 1 }),
        lag: () => ({ mean: 0.5, max: 2 }),
        actors: () => 3,
        reliability: () => ({ 'net/rejected': 7 }),
      },
      (l) => lines.push(l),
    );
    const t = sampleTrial(1);
    for (let i = 0; i < 20; i++)
      p.noteTrial({
        ...t,
        stats: { ...t.stats, genTokens: 10, batchFill: 0.5, actorBusyMs: 100 * i, actorUpMs: 200 * i },
      });
    vi.advanceTimersByTime(10_000);
    p.tick();
    // 5 of 10 versions in 10 s since the first update: 10 s left.
    expect(lines[0]).toBe(
      'iter 5/10 | 2.0 trials/s | 20 tok/s | fill 0.50 | lag 0.50/2 | ' +
        'eval@v4 p@1 25.0% p@3 75.0% | actors 3 | 0m10s elapsed, ETA 0m10s',
    );
    const m = readMetricsCsv(metrics.path);
    expect(m.get('rollout/trials_per_s')?.[0].value).toBe(2);
    expect(m.get('perf/actor_idle_frac')?.[0].value).toBeCloseTo(0.5);
    expect(m.get('net/rejected')?.[0].value).toBe(7);
    vi.advanceTimersByTime(10_000);
    p.tick();
    expect(lines[1]).toMatch(/^iter 5\/10 \| 0\.0 trials\/s/);
  });
});
