import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  lengthGroupedIndices,
  minibatchIndices,
  packMinibatches,
  packRows,
  type TrainRow,
} from '../../../shared/rl/batch.js';
import { FC } from './arbitraries.js';

const row = (prompt: number[], response: number[], advantage: number): TrainRow => ({
  promptTokens: Int32Array.from(prompt),
  responseTokens: Int32Array.from(response),
  behavLogp: Float32Array.from(response.map((t) => -t / 10)),
  advantage,
});

describe('packRows', () => {
  it('lays out prompt, response and right padding, with aligned mask, advantages and log-probs', () => {
    const p = packRows([row([1, 2, 3], [7, 8], 0.5), row([4], [9], -1)], { context: 16, padId: 0 });
    expect([p.B, p.T]).toEqual([2, 5]);
    expect(Array.from(p.tokens)).toEqual([1, 2, 3, 7, 8, /**/ 4, 9, 0, 0, 0]);
    expect(Array.from(p.respMask)).toEqual([0, 0, 0, 1, 1, /**/ 0, 1, 0, 0, 0]);
    expect(Array.from(p.advantages)).toEqual([0, 0, 0, 0.5, 0.5, /**/ 0, -1, 0, 0, 0]);
    expect(Array.from(p.behavLogp)).toEqual([
      0,
      0,
      0,
      Math.fround(-0.7),
      Math.fround(-0.8),
      /**/ 0,
      Math.fround(-0.9),
      0,
      0,
      0,
    ]);
    expect(Array.from(p.seqLens)).toEqual([5, 2]);
    expect(Array.from(p.promptDropped)).toEqual([0, 0]);
  });

  it('cuts the prompt from the left to fit the context, never the response', () => {
    const p = packRows([row([1, 2, 3, 4, 5, 6], [7, 8, 9], 1)], { context: 5, padId: 0 });
    expect(p.T).toBe(5);
    expect(Array.from(p.tokens)).toEqual([5, 6, 7, 8, 9]);
    expect(Array.from(p.respMask)).toEqual([0, 0, 1, 1, 1]);
    expect(Array.from(p.promptDropped)).toEqual([4]);
  });

  it('rejects rows that cannot be trained, naming the row', () => {
    const ctx = { context: 4, padId: 0 };
    expect(() => packRows([row([1], [1, 2], 0), row([1], [1, 2, 3, 4], 0)], ctx)).toThrow(
      /row 1 has a response of 4 tokens, which does not fit a context of 4 \(at most 3/,
    );
    expect(() => packRows([row([], [1], 0)], ctx)).toThrow(/row 0 has an empty prompt/);
    expect(() => packRows([row([1], [], 0)], ctx)).toThrow(/row 0 has no response tokens/);
    expect(() => packRows([{ ...row([1], [2, 3], 0), behavLogp: new Float32Array(1) }], ctx)).toThrow(
      /row 0 has 1 behaviour log-probs for 2 response tokens/,
    );
    expect(() => packRows([row([1], [2], Number.NaN)], ctx)).toThrow(/row 0 has a non-finite advantage/);
    expect(() => packRows([row([1], [2], 0)], { context: 1, padId: 0 })).toThrow(/context must be an integer >= 2/);
  });

  it('invariants on random rows: response intact at the end of the used span, mask sums to response lengths', () => {
    const arbRow = fc.record({
      prompt: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 40 }),
      response: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 15 }),
      adv: fc.double({ min: -3, max: 3, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(arbRow, { minLength: 1, maxLength: 8 }), fc.integer({ min: 16, max: 48 }), (rs, context) => {
        const rows = rs.map((r) => row(r.prompt, r.response, r.adv));
        const p = packRows(rows, { context, padId: -1 });
        expect(p.T).toBeLessThanOrEqual(context);
        rows.forEach((r, b) => {
          const R = r.responseTokens.length;
          const used = p.seqLens[b];
          const seq = Array.from(p.tokens.subarray(b * p.T, (b + 1) * p.T));
          expect(seq.slice(used - R, used)).toEqual(Array.from(r.responseTokens));
          expect(seq.slice(0, used - R)).toEqual(Array.from(r.promptTokens).slice(p.promptDropped[b]));
          expect(seq.slice(used).every((t) => t === -1)).toBe(true);
          const m = Array.from(p.respMask.subarray(b * p.T, (b + 1) * p.T));
          expect(m.reduce((a, x) => a + x, 0)).toBe(R);
          expect(m[0]).toBe(0);
          expect(p.promptDropped[b]).toBe(Math.max(0, r.promptTokens.length + R - context));
        });
      }),
      FC,
    );
  });
});

describe('minibatches', () => {
  it('64 rows by default, input order without a seed, last batch smaller', () => {
    const mb = minibatchIndices(150);
    expect(mb.map((b) => b.length)).toEqual([64, 64, 22]);
    expect(mb.flat()).toEqual(Array.from({ length: 150 }, (_, i) => i));
  });
  it('a seed gives a reproducible permutation', () => {
    const a = minibatchIndices(100, 16, 42);
    expect(minibatchIndices(100, 16, 42)).toEqual(a);
    expect(minibatchIndices(100, 16, 43)).not.toEqual(a);
    expect(
      a
        .flat()
        .slice()
        .sort((x, y) => x - y),
    ).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(a.flat()).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
  it('packs each minibatch with its own T and keeps the row indices', () => {
    const rows = [row([1, 2, 3, 4], [5], 1), row([1], [2], 2), row([1], [2], 3)];
    const mbs = packMinibatches(rows, { context: 8, padId: 0, size: 2 });
    expect(mbs.map((m) => [m.B, m.T])).toEqual([
      [2, 5],
      [1, 2],
    ]);
    expect(Array.from(mbs[1].rowIndex)).toEqual([2]);
    expect(mbs[1].advantages[1]).toBe(3);
  });
});

describe('length-grouped minibatches', () => {
  it('use every row once, group similar lengths, and are reproducible from the seed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer(),
        (lengths, size, seed) => {
          const mb = lengthGroupedIndices(lengths, size, seed);
          expect(mb.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
          expect(mb.filter((c) => c.length !== size).length).toBeLessThanOrEqual(1);
          // Chunks are contiguous ranges of the sorted lengths: no chunk's range strictly straddles another's.
          const ranges = mb
            .map((c) => [Math.min(...c.map((i) => lengths[i])), Math.max(...c.map((i) => lengths[i]))])
            .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
          for (let k = 1; k < ranges.length; k++) expect(ranges[k][0]).toBeGreaterThanOrEqual(ranges[k - 1][1]);
          expect(lengthGroupedIndices(lengths, size, seed)).toEqual(mb);
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });
  it('pack fewer padded tokens than shuffled minibatches, and shuffle the minibatch order', () => {
    const lengths = Array.from({ length: 512 }, (_, i) => 20 + ((i * 37) % 200));
    const rows = lengths.map((n, i) =>
      row(
        Array.from({ length: n - 2 }, (_, t) => 1 + ((t + i) % 9)),
        [3, 4],
        i,
      ),
    );
    const cost = (o: { groupByLength?: boolean }) =>
      packMinibatches(rows, { context: 256, padId: 0, size: 64, seed: 5, ...o }).reduce((a, b) => a + b.B * b.T, 0);
    const real = lengths.reduce((a, b) => a + b, 0);
    expect(cost({ groupByLength: true })).toBeLessThan(0.7 * cost({}));
    // chunks of 64 sorted rows span ~25 length units here
    expect(cost({ groupByLength: true })).toBeLessThan(1.15 * real);
    const ts = packMinibatches(rows, { context: 256, padId: 0, size: 64, seed: 5, groupByLength: true }).map(
      (b) => b.T,
    );
    expect(ts).not.toEqual([...ts].sort((a, b) => a - b)); // not simply shortest first
    expect(lengthGroupedIndices(lengths, 64, 6)).not.toEqual(lengthGroupedIndices(lengths, 64, 5));
  });
});
