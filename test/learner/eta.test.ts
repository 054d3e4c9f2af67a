import { describe, expect, it } from 'vitest';
import { etaSeconds } from '../../learner/progress.js';

describe('etaSeconds', () => {
  const t = 1_000_000;
  it('follows the measured update rate when the iterations budget ends first', () => {
    // 10 updates in 20 s since the first update: 2 s each; 40 left -> 80 s, well inside a 10-minute budget.
    expect(
      etaSeconds({
        now: t + 20_000,
        totalSeconds: 60,
        version: 11,
        iterations: 51,
        minutes: 10,
        firstUpdate: { t, v: 1 },
      }),
    ).toBeCloseTo(80, 6);
  });

  it('follows the minutes left when they end first', () => {
    expect(
      etaSeconds({
        now: t + 20_000,
        totalSeconds: 540,
        version: 11,
        iterations: 1000,
        minutes: 10,
        firstUpdate: { t, v: 1 },
      }),
    ).toBeCloseTo(60, 6);
  });

  it(
    'counts minutes used by earlier invocations (budgets ' + 'are totals) and uses only this invocation for the rate',
    () => {
      // Resumed at v100 after 5 minutes; this invocation made 10 updates in 10 s -> 40 left = 40 s, 300 s of budget
      // left.
      expect(
        etaSeconds({
          now: t + 10_000,
          totalSeconds: 320,
          version: 110,
          iterations: 150,
          minutes: 10,
          firstUpdate: { t, v: 100 },
        }),
      ).toBeCloseTo(40, 6);
    },
  );

  it('is unknown before a rate exists unless minutes bound it, and 0 once a budget is spent', () => {
    expect(etaSeconds({ now: t, totalSeconds: 5, version: 0, iterations: 150, minutes: 0, firstUpdate: null })).toBe(
      Infinity,
    );
    expect(etaSeconds({ now: t, totalSeconds: 5, version: 0, iterations: 150, minutes: 10, firstUpdate: null })).toBe(
      595,
    );
    expect(etaSeconds({ now: t, totalSeconds: 700, version: 3, iterations: 150, minutes: 10, firstUpdate: null })).toBe(
      0,
    );
    expect(
      etaSeconds({
        now: t + 5000,
        totalSeconds: 5,
        version: 150,
        iterations: 150,
        minutes: 0,
        firstUpdate: { t, v: 1 },
      }),
    ).toBe(0);
  });
});
