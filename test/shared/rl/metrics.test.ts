import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { passAtK, passAtKCurve, successByTaskType, trajectoryDiversity } from '../../../shared/rl/metrics.js';
import { FC } from './arbitraries.js';

describe('pass@k', () => {
  // Trials stop after a win, so they have fewer entries.
  const wins = [[true], [false, true], [false, false, false, false, true], [false, false, false, false, false], [false, false, true]];
  it('counts trials won within the first k episodes, for any k ≤ N (here N = 5)', () => {
    expect([1, 2, 3, 4, 5].map((k) => passAtK(wins, k, 5))).toEqual([1 / 5, 2 / 5, 3 / 5, 3 / 5, 4 / 5]);
    expect(passAtKCurve(wins, 5)).toEqual([1 / 5, 2 / 5, 3 / 5, 3 / 5, 4 / 5]);
  });
  it('curve agrees with passAtK and never decreases (random trials, N up to 8)', () => {
    const arb = fc.integer({ min: 1, max: 8 }).chain((N) => fc.tuple(fc.constant(N),
      fc.array(fc.integer({ min: 0, max: N }).map((firstWin) => Array.from({ length: firstWin < N ? firstWin + 1 : N }, (_, i) => i === firstWin)), { minLength: 1, maxLength: 30 })));
    fc.assert(fc.property(arb, ([N, w]) => {
      const curve = passAtKCurve(w, N);
      curve.forEach((v, i) => expect(v).toBe(passAtK(w, i + 1, N)));
      for (let i = 1; i < N; i++) expect(curve[i]).toBeGreaterThanOrEqual(curve[i - 1]);
    }), FC);
  });
  it('rejects k outside [1, N] and trials longer than N', () => {
    expect(() => passAtK(wins, 6, 5)).toThrow(/k must be an integer in \[1, 5\]/);
    expect(() => passAtK(wins, 0, 5)).toThrow(/k must be an integer/);
    expect(() => passAtK(wins, 1, 3)).toThrow(/trial 2 has 5 episodes, more than attempts = 3/);
    expect(() => passAtK([], 1, 3)).toThrow(/no trials/);
  });
});

describe('trajectory diversity', () => {
  it('entropy of the distinct action sequences per task, averaged over tasks', () => {
    const r = trajectoryDiversity([
      [['up', 'left'], ['up', 'left'], ['down'], ['right']], // p = 1/2, 1/4, 1/4
      [['a'], ['a']], // one trajectory: 0
    ]);
    const h0 = -(0.5 * Math.log(0.5) + 2 * 0.25 * Math.log(0.25));
    expect(r.perTask[0]).toBeCloseTo(h0, 12);
    expect(r.perTask[1]).toBe(0);
    expect(r.mean).toBeCloseTo(h0 / 2, 12);
    expect(r.normalized[0]).toBeCloseTo(h0 / Math.log(4), 12);
  });
  it('does not confuse sequences that would join to the same string', () => {
    expect(trajectoryDiversity([[['a,b'], ['a', 'b']]]).perTask[0]).toBeCloseTo(Math.log(2), 12);
  });
  it('all-different episodes give ln K and normalised 1', () => {
    const r = trajectoryDiversity([[['1'], ['2'], ['3']]]);
    expect(r.perTask[0]).toBeCloseTo(Math.log(3), 12);
    expect(r.normalized[0]).toBeCloseTo(1, 12);
    expect(() => trajectoryDiversity([[]])).toThrow(/task 0 has no episodes/);
  });
});

describe('success per task type', () => {
  it('counts and rates per type, keys sorted', () => {
    const r = successByTaskType([
      { taskType: 'pick', success: true }, { taskType: 'cool', success: false }, { taskType: 'pick', success: false }, { taskType: 'pick', success: true },
    ]);
    expect(Object.keys(r)).toEqual(['cool', 'pick']);
    expect(r.pick).toEqual({ n: 3, successes: 2, rate: 2 / 3 });
    expect(r.cool).toEqual({ n: 1, successes: 0, rate: 0 });
  });
});
