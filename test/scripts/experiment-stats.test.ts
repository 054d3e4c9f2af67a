import { describe, expect, it } from 'vitest';
import {
  aggregateCurves,
  describeCiMethods,
  mean,
  sampleSd,
  t975,
  tInterval95,
  wilson95,
} from '../../scripts/lib/experiment-stats.js';

describe('experiment confidence intervals', () => {
  it('uses Student-t quantiles for few seeds and the normal quantile beyond the table', () => {
    expect(t975(1)).toBeCloseTo(12.706, 3);
    expect(t975(2)).toBeCloseTo(4.303, 3);
    expect(t975(30)).toBeCloseTo(2.042, 3);
    expect(t975(100)).toBe(1.96);
    expect(() => t975(0)).toThrow(/degrees of freedom/);
  });

  it('computes the t-interval of the mean over seeds, clipped to [0, 1]', () => {
    const xs = [0.2, 0.3, 0.4];
    expect(mean(xs)).toBeCloseTo(0.3, 12);
    expect(sampleSd(xs)).toBeCloseTo(0.1, 12);
    const half = (4.303 * 0.1) / Math.sqrt(3); // 0.2484
    const [lo, hi] = tInterval95(xs);
    expect(lo).toBeCloseTo(0.3 - half, 4);
    expect(hi).toBeCloseTo(0.3 + half, 4);
    expect(tInterval95([0.0, 0.05, 0.1])[0]).toBe(0); // would be negative
    expect(tInterval95([0.5, 0.5])).toEqual([0.5, 0.5]); // no spread, no width
    expect(() => tInterval95([0.5])).toThrow(/at least 2 seeds/);
  });

  it('computes the Wilson interval over tasks', () => {
    const [lo, hi] = wilson95(0.5, 100);
    expect(lo).toBeCloseTo(0.4038, 3);
    expect(hi).toBeCloseTo(0.5962, 3);
    const [lo0, hi0] = wilson95(0, 128);
    expect(lo0).toBe(0);
    expect(hi0).toBeGreaterThan(0.02); // zero successes still leave room above 0
    expect(() => wilson95(1.5, 10)).toThrow(/rate in \[0, 1\]/);
  });

  it('aggregates pass@k curves: t over seeds when >= 2 seeds, Wilson over tasks for one seed', () => {
    const a = aggregateCurves(
      [
        [0.1, 0.2, 0.3],
        [0.2, 0.3, 0.4],
        [0.3, 0.4, 0.5],
      ],
      128,
    );
    expect(a.method).toBe('t-interval over seeds');
    expect(a.pass.map((p) => +p.toFixed(6))).toEqual([0.2, 0.3, 0.4]);
    a.ci95.forEach(([lo, hi], k) => {
      expect(lo).toBeLessThan(a.pass[k]);
      expect(hi).toBeGreaterThan(a.pass[k]);
    });
    const one = aggregateCurves([[0.25, 0.5]], 64);
    expect(one.method).toMatch(/Wilson/);
    expect(one.ci95[0]).toEqual(wilson95(0.25, 64));
    expect(() => aggregateCurves([[0.1, 0.2], [0.1]], 10)).toThrow(/different lengths/);
    expect(() => aggregateCurves([], 10)).toThrow(/no seeds/);
  });

  it('seeds that all gave the same curve get the Wilson interval over tasks, not a t-interval of width 0', () => {
    const same = aggregateCurves(
      [
        [0.25, 0.5],
        [0.25, 0.5],
        [0.25, 0.5],
      ],
      128,
    );
    expect(same.method).toBe('Wilson interval over validation tasks (seeds identical)');
    expect(same.ci95).toEqual([wilson95(0.25, 128), wilson95(0.5, 128)]);
    expect(same.ci95[0][1] - same.ci95[0][0]).toBeGreaterThan(0.1);
    // One differing value anywhere in the curves makes it a spread over seeds again.
    const differ = aggregateCurves(
      [
        [0.25, 0.5],
        [0.25, 0.5],
        [0.25, 0.51],
      ],
      128,
    );
    expect(differ.method).toBe('t-interval over seeds');
    expect(differ.ci95[0]).toEqual([0.25, 0.25]);
  });

  it("describes a table's CI methods: the common one, or the main one with the rows that differ", () => {
    expect(describeCiMethods([{ row: 'rl', method: 't-interval over seeds' }])).toBe('t-interval over seeds');
    expect(
      describeCiMethods([
        { row: 'zeroshot', method: 'Wilson interval over validation tasks (seeds identical)' },
        { row: 'reflexion', method: 'Wilson interval over validation tasks (seeds identical)' },
        { row: 'rl', method: 't-interval over seeds' },
      ]),
    ).toBe('t-interval over seeds (zeroshot, reflexion: Wilson interval over validation tasks (seeds identical))');
  });
});
