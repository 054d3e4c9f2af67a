import { describe, expect, it } from 'vitest';
import { offPolicyDiagnostics, offPolicyMetrics } from '../../../shared/rl/diagnostics.js';

const prox = [Math.log(0.5), Math.log(0.9), Math.log(0.3), 0];
const behav = [Math.log(0.5), Math.log(0.3), Math.log(0.6), 5]; // raw ratios 1, 3, 0.5; token 3 is padding
const mask = [1, 1, 1, 0];

describe('off-policy diagnostics', () => {
  it('truncate mode, by hand', () => {
    const d = offPolicyDiagnostics(
      { proxLogp: prox, behavLogp: behav, mask, staleness: [0, 2, 1] },
      { isMode: 'truncate', isCap: 2 },
    );
    expect(d.tokens).toBe(3);
    expect([d.stalenessMin, d.stalenessMean, d.stalenessMax]).toEqual([0, 1, 2]);
    expect(d.isWeightMean).toBeCloseTo(3.5 / 3, 12); // w = 1, 2, 0.5
    expect(d.isWeightMax).toBeCloseTo(2, 12);
    expect(d.isRatioMax).toBeCloseTo(3, 12);
    expect(d.ess).toBeCloseTo(3.5 ** 2 / (3 * (1 + 4 + 0.25)), 12);
    expect(d.klBehavProx).toBeCloseTo((0 + (2 - Math.log(3)) + (-0.5 + Math.log(2))) / 3, 12);
    expect([d.maskedFraction, d.clippedFraction, d.dualClippedFraction]).toEqual([0, 0, 0]);
  });

  it('mask mode counts masked tokens and their zero weight', () => {
    const d = offPolicyDiagnostics(
      { proxLogp: prox, behavLogp: behav, mask, staleness: [3] },
      { isMode: 'mask', isCap: 2 },
    );
    expect(d.maskedFraction).toBeCloseTo(1 / 3, 12);
    expect(d.isWeightMean).toBeCloseTo(1.5 / 3, 12);
    expect(d.ess).toBeCloseTo(1.5 ** 2 / (3 * 1.25), 12);
    expect([d.stalenessMin, d.stalenessMean, d.stalenessMax]).toEqual([3, 3, 3]);
  });

  it('clipped fractions need the current log-probs and advantages', () => {
    const logp = [prox[0] + Math.log(1.5), prox[1], prox[2] + Math.log(5), 0];
    const advantages = [1, 1, -1, 0];
    const d = offPolicyDiagnostics({ proxLogp: prox, behavLogp: behav, mask, logp, advantages, staleness: [0] });
    expect(d.clippedFraction).toBeCloseTo(1 / 3, 12);
    expect(d.dualClippedFraction).toBeCloseTo(1 / 3, 12);
    expect(() => offPolicyDiagnostics({ proxLogp: prox, behavLogp: behav, mask, logp, staleness: [0] })).toThrow(
      /advantages are required/,
    );
  });

  it('on-policy: weights 1, KL 0, ESS 1', () => {
    const d = offPolicyDiagnostics({ proxLogp: prox, behavLogp: prox, mask, staleness: [0, 0] });
    expect([d.isWeightMean, d.isWeightMax, d.klBehavProx, d.ess]).toEqual([1, 1, 0, 1]);
  });

  it('the k3 estimate on tokens sampled from μ converges to the exact KL(μ‖π)', () => {
    const mu = [0.5, 0.3, 0.15, 0.05];
    const pi = [0.25, 0.25, 0.25, 0.25];
    const exact = mu.reduce((s, p, i) => s + p * Math.log(p / pi[i]), 0);
    let seed = 12345;
    const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const n = 200_000;
    const behavLogp = new Float64Array(n),
      proxLogp = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      let u = rand(),
        k = 0;
      while (u > mu[k] && k < mu.length - 1) u -= mu[k++];
      behavLogp[t] = Math.log(mu[k]);
      proxLogp[t] = Math.log(pi[k]);
    }
    const d = offPolicyDiagnostics(
      { proxLogp, behavLogp, mask: new Float32Array(n).fill(1), staleness: [1] },
      { isMode: 'off' },
    );
    expect(Math.abs(d.klBehavProx - exact)).toBeLessThan(0.01);
    expect(exact).toBeGreaterThan(0.1);
  });

  it('exports the metric names of docs/design.md §7', () => {
    const d = offPolicyDiagnostics({ proxLogp: prox, behavLogp: behav, mask, staleness: [0, 2, 1] });
    const m = offPolicyMetrics(d);
    expect(m['train/is_weight_max']).toBe(d.isWeightMax);
    expect(Object.keys(m).every((k) => /^train\/[a-z_]+$/.test(k))).toBe(true);
  });
});
