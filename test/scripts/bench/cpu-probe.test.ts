import { describe, expect, it } from 'vitest';
import { probeParallelism } from '../../../scripts/bench/cpu-probe.js';

describe('cpu parallelism probe', () => {
  it('times one worker and then two at once, and reports 2 x solo / pair', async () => {
    const p = await probeParallelism(50);
    expect(p.soloMs).toBeGreaterThan(0);
    expect(p.pairMs).toBeGreaterThan(0);
    expect(p.parallelism).toBeCloseTo((2 * p.soloMs) / p.pairMs, 1);
  });
});
