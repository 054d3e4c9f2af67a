import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { importanceWeights, type IsMode } from '../../../shared/rl/importance.js';
import { aggregateTokenMean, ppoTokenLoss, type PolicyLossOptions } from '../../../shared/rl/policy-loss.js';
import { FC } from './arbitraries.js';

const arbLogp = fc.double({ min: -6, max: -0.01, noNaN: true });
const arbAdv = fc.double({ min: -5, max: 5, noNaN: true });
/** A minibatch of n tokens with a mask that selects at least one token. */
const arbTokens = fc.integer({ min: 1, max: 24 }).chain((n) =>
  fc.record({
    logp: fc.array(arbLogp, { minLength: n, maxLength: n }),
    adv: fc.array(arbAdv, { minLength: n, maxLength: n }),
    H: fc.array(fc.double({ min: 0, max: 3, noNaN: true }), { minLength: n, maxLength: n }),
    mask: fc
      .array(fc.constantFrom(0, 1, 1), { minLength: n, maxLength: n })
      .map((m) => (m.includes(1) ? m : [1, ...m.slice(1)])),
  }),
);
const modes = fc.constantFrom<IsMode>('truncate', 'mask', 'bypass', 'off');

describe('ppoTokenLoss on hand cases (ε .2, c 3)', () => {
  // [A, r] → [loss, dLoss/dlogp, clipped, dualClipped]
  const cases: Array<[number, number, number, number, number, number]> = [
    [1, 1.5, -1.2, 0, 1, 0], // A > 0, ratio above 1+ε: clipped, no gradient
    [1, 0.5, -0.5, -0.5, 0, 0], // A > 0, ratio below 1−ε: the pessimistic unclipped branch
    [-1, 1.5, 1.5, 1.5, 0, 0], // A < 0, ratio above 1+ε: unclipped, gradient −A·r
    [-1, 0.5, 0.8, 0, 1, 0], // A < 0, ratio below 1−ε: clipped
    [-1, 5, 3, 0, 0, 1], // A < 0, ratio beyond c: dual clip caps the loss at −A·c
    [2, 1, -2, -2, 0, 0], // on-policy: −A, gradient −A
    [0, 7, 0, 0, 0, 0],
  ];
  it.each(cases)('A=%d r=%d', (A, r, loss, grad, clipped, dual) => {
    const res = ppoTokenLoss([Math.log(r)], [0], [A], { clipEps: 0.2, dualClipC: 3 });
    expect(res.loss[0]).toBeCloseTo(loss, 12);
    expect(res.dLossDLogp[0]).toBeCloseTo(grad, 12);
    expect([res.clipped[0], res.dualClipped[0]]).toEqual([clipped, dual]);
  });
  it('clamps the log-ratio at ±20 (no overflow, no gradient beyond)', () => {
    const res = ppoTokenLoss([0], [-1000], [-1], { clipEps: 0.2, dualClipC: 3 });
    expect(res.ratio[0]).toBeCloseTo(Math.exp(20), 0);
    expect(res.loss[0]).toBe(3);
    const pos = ppoTokenLoss([0], [-1000], [1], { clipEps: 0.2, dualClipC: 3 });
    expect(pos.loss[0]).toBeCloseTo(-1.2, 12);
    expect(pos.dLossDLogp[0]).toBe(0);
  });
});

describe('importance weights', () => {
  const prox = [Math.log(0.5), Math.log(0.9), Math.log(0.3)];
  const behav = [Math.log(0.5), Math.log(0.3), Math.log(0.6)]; // raw ratios 1, 3, 0.5
  it.each([
    ['truncate', [1, 2, 0.5], [0, 0, 0]],
    ['mask', [1, 0, 0.5], [0, 1, 0]],
    ['bypass', [1, 1, 1], [0, 0, 0]],
    ['off', [1, 1, 1], [0, 0, 0]],
  ] as Array<[IsMode, number[], number[]]>)('%s (C = 2)', (isMode, w, masked) => {
    const r = importanceWeights(prox, behav, { isMode, isCap: 2 });
    r.w.forEach((x, i) => expect(x).toBeCloseTo(w[i], 12));
    expect(Array.from(r.masked)).toEqual(masked);
  });
  it('ignores positions outside the mask and rejects non-finite log-probs inside it', () => {
    expect(Array.from(importanceWeights([0, Number.NaN], [0, 0], { isMode: 'truncate', isCap: 2 }, [1, 0]).w)).toEqual([
      1, 0,
    ]);
    expect(() => importanceWeights([0, Number.NaN], [0, 0], { isMode: 'truncate', isCap: 2 }, [1, 1])).toThrow(
      /proxLogp\[1\] is NaN/,
    );
    expect(() => importanceWeights([0], [0], { isMode: 'clip' as IsMode, isCap: 2 })).toThrow(/isMode must be one of/);
    expect(() => importanceWeights([0], [0, 1], { isMode: 'mask', isCap: 2 })).toThrow(
      /behavLogp has length 2, expected 1/,
    );
  });
});

describe('aggregateTokenMean', () => {
  it('on-policy data (μ = π_prox = π_θ): weights 1 and the plain PPO gradient −A/n, in every IS mode', () => {
    fc.assert(
      fc.property(arbTokens, modes, fc.constantFrom(1, 2, 5), ({ logp, adv, H, mask }, isMode, isCap) => {
        const r = aggregateTokenMean(
          { logp, proxLogp: logp, behavLogp: logp, advantages: adv, entropy: H, mask },
          { isMode, isCap, entropyCoef: 0.001 },
        );
        const n = mask.filter((m) => m !== 0).length;
        expect(r.tokens).toBe(n);
        let sumA = 0,
          sumH = 0;
        mask.forEach((m, i) => {
          if (m === 0) {
            expect(r.w[i]).toBe(0);
            expect(r.dLossDLogp[i]).toBe(0);
            return;
          }
          sumA += adv[i];
          sumH += H[i];
          expect(r.w[i]).toBe(1);
          expect(r.dLossDLogp[i]).toBeCloseTo(-adv[i] / n, 14);
          expect(r.dLossDEntropy[i]).toBeCloseTo(-0.001 / n, 16);
        });
        expect(r.loss).toBeCloseTo(-sumA / n - (0.001 * sumH) / n, 12);
        expect(Array.from(r.clipped).every((c) => c === 0)).toBe(true);
        expect(Array.from(r.masked).every((c) => c === 0)).toBe(true);
      }),
      FC,
    );
  });

  it('dLoss/dlogp matches central finite differences away from the clip kinks', () => {
    const h = 1e-6;
    fc.assert(
      fc.property(
        arbTokens,
        fc.array(fc.double({ min: -0.6, max: 0.6, noNaN: true }), { minLength: 24, maxLength: 24 }),
        fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: 24, maxLength: 24 }),
        modes,
        ({ logp, adv, H, mask }, drift, stale, isMode) => {
          const prox = logp.map((x, i) => x - drift[i]); // π_θ has moved away from π_prox
          const behav = prox.map((x, i) => x - stale[i]); // μ is stale
          const opts: Partial<PolicyLossOptions> = { isMode, isCap: 2, clipEps: 0.2, dualClipC: 3, entropyCoef: 0.01 };
          const at = (lp: number[]) =>
            aggregateTokenMean({ logp: lp, proxLogp: prox, behavLogp: behav, advantages: adv, entropy: H, mask }, opts);
          const base = at(logp);
          const anchor = isMode === 'bypass' ? behav : prox;
          logp.forEach((_, i) => {
            const r = Math.exp(logp[i] - anchor[i]);
            const nearKink = [0.8, 1.2, 3].some((k) => Math.abs(r - k) < 1e-4) || Math.abs(adv[i]) < 1e-9;
            if (nearKink) return;
            const up = logp.slice();
            up[i] += h;
            const dn = logp.slice();
            dn[i] -= h;
            const fd = (at(up).loss - at(dn).loss) / (2 * h);
            expect(Math.abs(fd - base.dLossDLogp[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
          });
        },
      ),
      { ...FC, numRuns: 150 },
    );
  });

  it('is the token-mean of w·pg minus β·mean entropy, with masked tokens kept in the denominator', () => {
    // Token 0: on-policy A=1 (pg −1, w 1). Token 1: μ much less likely (raw w 3 > C 2): masked in mask mode.
    const input = {
      logp: [-1, -1, -7],
      proxLogp: [-1, -1, 0],
      behavLogp: [-1, -1 - Math.log(3), 0],
      advantages: [1, 2, 9],
      entropy: [0.5, 1.5, 9],
      mask: [1, 1, 0],
    };
    const trunc = aggregateTokenMean(input, { isMode: 'truncate', isCap: 2, entropyCoef: 0.1 });
    expect(trunc.loss).toBeCloseTo((-1 + 2 * -2) / 2 - 0.1 * 1, 12);
    expect(trunc.dLossDLogp[1]).toBeCloseTo((2 * -2) / 2, 12);
    const masked = aggregateTokenMean(input, { isMode: 'mask', isCap: 2, entropyCoef: 0.1 });
    expect(masked.loss).toBeCloseTo(-1 / 2 - 0.1 * 1, 12);
    expect(masked.dLossDLogp[1]).toBe(0);
    expect(Array.from(masked.masked)).toEqual([0, 1, 0]);
    // bypass: ratio against μ, so token 1 has r = 3 > 1+ε with A > 0: clipped.
    const bypass = aggregateTokenMean(input, { isMode: 'bypass', entropyCoef: 0.1 });
    expect(bypass.loss).toBeCloseTo((-1 + -2 * 1.2) / 2 - 0.1 * 1, 12);
    expect(Array.from(bypass.clipped)).toEqual([0, 1, 0]);
  });

  it('an empty mask gives loss 0 and zero gradients; bad options are named', () => {
    const r = aggregateTokenMean({
      logp: [-1],
      proxLogp: [-1],
      behavLogp: [-1],
      advantages: [1],
      entropy: [1],
      mask: [0],
    });
    expect([r.loss, r.tokens, r.dLossDLogp[0]]).toEqual([0, 0, 0]);
    const ok = { logp: [-1], proxLogp: [-1], behavLogp: [-1], advantages: [1], entropy: [1], mask: [1] };
    expect(() => aggregateTokenMean(ok, { clipEps: 0 })).toThrow(/clipEps must be in \(0, 1\)/);
    expect(() => aggregateTokenMean(ok, { dualClipC: 1 })).toThrow(/dualClipC must be a finite number > 1/);
    expect(() => aggregateTokenMean({ ...ok, advantages: [Number.POSITIVE_INFINITY] })).toThrow(
      /advantages\[0\] is Infinity/,
    );
    expect(() => aggregateTokenMean({ ...ok, entropy: [1, 2] })).toThrow(/entropy has length 2, expected 1/);
  });
});
