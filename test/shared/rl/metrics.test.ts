import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  passAtK,
  passAtKCurve,
  retryStats,
  successByTaskType,
  trajectoryDiversity,
} from '../../../shared/rl/metrics.js';
import { FC } from './arbitraries.js';

describe('pass@k', () => {
  // Trials stop after a win, so they have fewer entries.
  const wins = [
    [true],
    [false, true],
    [false, false, false, false, true],
    [false, false, false, false, false],
    [false, false, true],
  ];
  it('counts trials won within the first k episodes, for any k ≤ N (here N = 5)', () => {
    expect([1, 2, 3, 4, 5].map((k) => passAtK(wins, k, 5))).toEqual([1 / 5, 2 / 5, 3 / 5, 3 / 5, 4 / 5]);
    expect(passAtKCurve(wins, 5)).toEqual([1 / 5, 2 / 5, 3 / 5, 3 / 5, 4 / 5]);
  });
  it('curve agrees with passAtK and never decreases (random trials, N up to 8)', () => {
    const arb = fc.integer({ min: 1, max: 8 }).chain((N) =>
      fc.tuple(
        fc.constant(N),
        fc.array(
          fc
            .integer({ min: 0, max: N })
            .map((firstWin) => Array.from({ length: firstWin < N ? firstWin + 1 : N }, (_, i) => i === firstWin)),
          { minLength: 1, maxLength: 30 },
        ),
      ),
    );
    fc.assert(
      fc.property(arb, ([N, w]) => {
        const curve = passAtKCurve(w, N);
        curve.forEach((v, i) => expect(v).toBe(passAtK(w, i + 1, N)));
        for (let i = 1; i < N; i++) expect(curve[i]).toBeGreaterThanOrEqual(curve[i - 1]);
      }),
      FC,
    );
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

describe('retry stats', () => {
  const L = (visited: string[], fatal?: string) => ({ won: false, visited, fatal });
  const W = (visited: string[]) => ({ won: true, visited });
  it('win rate of attempt k given attempts 1..k−1 lost, and fatal repeats (hand-computed)', () => {
    const trials = [
      [W(['1 1'])], // won at once: no retry
      [L(['2 2', '3 3'], '3 3'), W(['2 2', '4 4'])], // avoided its mine and won at attempt 2
      [L(['1 2'], '1 2'), L(['1 2'], '1 2'), L(['5 5'])], // repeated the mine at attempt 2, not at 3 (timeout)
      // timeout first (no fatal key); attempt 3 won through the cell that killed 2
      [L(['6 6']), L(['6 6'], '6 1'), W(['6 1'])],
    ];
    const r = retryStats(trials, 3);
    // attempt 2: trials 2, 3, 4 reached it after a loss; trial 2 won → 1/3. attempt 3: trials 3, 4; trial 4 won → 1/2.
    expect(r.reachedAfterLoss).toEqual([3, 2]);
    expect(r.winAfterLoss[0]).toBeCloseTo(1 / 3, 12);
    expect(r.winAfterLoss[1]).toBe(0.5);
    // later attempts with an earlier fatal key: t2 a2 (no repeat), t3 a2 (repeat), t3 a3 (no), t4 a3 (repeat) → 2/4.
    expect(r.fatalRepeatOf).toBe(4);
    expect(r.fatalRepeat).toBe(0.5);
  });
  it('null where nothing qualifies; rejects trials longer than attempts', () => {
    const r = retryStats([[W(['a'])]], 3);
    expect(r.winAfterLoss).toEqual([null, null]);
    expect(r.fatalRepeat).toBeNull();
    expect(retryStats([[L(['a'])]], 1).winAfterLoss).toEqual([]);
    expect(() => retryStats([[L([]), L([])]], 1)).toThrow(/trial 0 has 2 episodes, more than attempts = 1/);
  });
});

describe('success per task type', () => {
  it('counts and rates per type, keys sorted', () => {
    const r = successByTaskType([
      { taskType: 'pick', success: true },
      { taskType: 'cool', success: false },
      { taskType: 'pick', success: false },
      { taskType: 'pick', success: true },
    ]);
    expect(Object.keys(r)).toEqual(['cool', 'pick']);
    expect(r.pick).toEqual({ n: 3, successes: 2, rate: 2 / 3 });
    expect(r.cool).toEqual({ n: 1, successes: 0, rate: 0 });
  });
});
