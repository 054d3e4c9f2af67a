/** The soak's RSS-slope fit (the full soak is a long run: `lamer chaos --soak`, docs/reliability.md §7). */
import { describe, expect, it } from 'vitest';
import { lsSlope } from '../../scripts/chaos/soak.js';

describe('lsSlope', () => {
  it('recovers an exact line with zero error, and reports the error of a noisy one', () => {
    const xs = [0, 0.1, 0.2, 0.3, 0.4, 0.5];
    expect(
      lsSlope(
        xs,
        xs.map((x) => 200 + 30 * x),
      ),
    ).toEqual({ slope: expect.closeTo(30, 9), stderr: expect.closeTo(0, 9) });
    const noisy = lsSlope(xs, [200, 260, 190, 250, 195, 255]); // GC-like saw-tooth around a flat level
    expect(Math.abs(noisy.slope)).toBeLessThan(2 * noisy.stderr);
    expect(noisy.stderr).toBeGreaterThan(10);
  });

  it('is zero (not NaN) for too few points or no spread in time', () => {
    expect(lsSlope([1, 2], [3, 4])).toEqual({ slope: 0, stderr: 0 });
    expect(lsSlope([1, 1, 1], [3, 4, 5])).toEqual({ slope: 0, stderr: 0 });
  });
});
