import { describe, expect, it } from 'vitest';
import { MetricHistory } from '../../learner/metric-history.js';

describe('MetricHistory', () => {
  it('keeps the newest `capacity` points per metric, oldest first, and the last one', () => {
    const h = new MetricHistory(3);
    expect(h.last('a')).toBeUndefined();
    for (let i = 1; i <= 5; i++) h.push('a', i / 10, i, i * i);
    h.push('b', 0.5, 7, -1);
    expect(h.snapshot()).toEqual({
      a: [
        [0.3, 3, 9],
        [0.4, 4, 16],
        [0.5, 5, 25],
      ],
      b: [[0.5, 7, -1]],
    });
    expect(h.last('a')).toEqual([0.5, 5, 25]);
  });

  it('before it wraps, holds exactly what was pushed', () => {
    const h = new MetricHistory(4);
    h.push('x', 1, 1, 10);
    h.push('x', 2, 2, 20);
    expect(h.snapshot().x).toEqual([
      [1, 1, 10],
      [2, 2, 20],
    ]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new MetricHistory(0)).toThrow(/positive integer/);
    expect(() => new MetricHistory(2.5)).toThrow(/positive integer/);
  });
});
