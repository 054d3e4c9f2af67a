import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { throughputPanels, type ThroughputResult } from '../../../scripts/bench/throughput.js';
import { plotRunDir } from '../../../scripts/lib/plots.js';
import { readMetricsCsv } from '../../../shared/run-dir.js';

describe('lamer plot', () => {
  it('draws the PNG of a run that is still writing metrics.csv (a half-written last line is skipped)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-plot-'));
    const lines = ['wall_s,version,name,value'];
    for (let v = 1; v <= 20; v++) lines.push(`${v},${v},rollout/pass@1,${v % 2}`, `${v},${v},train/loss,${1 / v}`);
    writeFileSync(join(dir, 'metrics.csv'), lines.join('\n') + '\n21,21,train/lo');
    expect(readMetricsCsv(join(dir, 'metrics.csv')).has('train/lo')).toBe(false);
    expect(readMetricsCsv(join(dir, 'metrics.csv')).get('train/loss')).toHaveLength(20);
    const out = plotRunDir(dir);
    expect(out).toBe(join(dir, 'learning-curve.png'));
    expect(readFileSync(out).subarray(1, 4).toString()).toBe('PNG');
    expect(() => plotRunDir(join(dir, 'missing'))).toThrow(/metrics\.csv does not exist/);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });
});

describe('bench throughput chart', () => {
  it('compares configurations as grouped bars with their names, not lines over indices', () => {
    const c = (tps: number) => ({
      algo: 'metarl',
      mode: 'sync',
      actors: 1,
      legs: 1,
      trialsPerSec: tps,
      trajectoriesPerSec: 3 * tps,
      envStepsPerSec: 10,
      tokensPerSec: 100,
      learnerIdleFrac: 0.4,
      actorIdleFrac: 0.2,
    });
    const r = {
      configs: { 'metarl-sync': c(1), 'metarl-async': c(2), 'rl-sync': c(3), 'rl-async': c(4) },
    } as unknown as ThroughputResult;
    const panels = throughputPanels(r);
    expect(panels.every((p) => p.kind === 'bars')).toBe(true);
    const first = panels[0] as Extract<(typeof panels)[number], { kind: 'bars' }>;
    expect(first.categories).toEqual(['Meta-RL', 'RL']);
    expect(first.series).toEqual([
      { name: 'sync', values: [1, 3] },
      { name: 'async', values: [2, 4] },
    ]);
    expect((panels[2] as typeof first).categories).toEqual(['Meta-RL sync', 'Meta-RL async', 'RL sync', 'RL async']);
  });
});
