import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeReturns, crossEpisodeReturns, episodeReturns, paperReturns } from '../../../shared/rl/returns.js';
import { episodeRewards, episodeScores } from '../../../shared/rl/scores.js';
import type { Row } from '../../../shared/rl/types.js';
import { FC, arbGamma, arbTrialRows } from './arbitraries.js';

/** Play rows of each episode, as index lists into `rows`. */
function episodesOf(rows: Row[]): number[][] {
  const eps: number[][] = [];
  rows.forEach((r, i) => {
    if (r.phase === 'play') (eps[r.episode] ??= []).push(i);
  });
  return eps;
}
/** g_t^(n) by explicit powers (not the backward recursion). */
function gExplicit(rows: Row[], idx: number[], t: number, gs: number): number {
  let s = 0;
  for (let l = t; l < idx.length; l++) s += gs ** (l - t) * rows[idx[l]].reward;
  return s;
}
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-9): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++)
    expect(Math.abs(a[i] - b[i]), `index ${i}: ${a[i]} vs ${b[i]}`).toBeLessThan(tol * Math.max(1, Math.abs(b[i])));
};

describe('cross-episode returns', () => {
  it(
    'code recursion equals its closed form G_t = g_t + ' +
      'γ_step^(T−1−t)·γ_traj·G_0^(n+1); reflect rows take G_0 of their episode',
    () => {
      fc.assert(
        fc.property(arbTrialRows(), arbGamma, arbGamma, (rows, gs, gt) => {
          const eps = episodesOf(rows);
          const G0 = new Array<number>(eps.length + 1).fill(0);
          const expected = new Array<number>(rows.length);
          for (let n = eps.length - 1; n >= 0; n--) {
            const idx = eps[n];
            idx.forEach((row, t) => {
              expected[row] = gExplicit(rows, idx, t, gs) + gs ** (idx.length - 1 - t) * gt * G0[n + 1];
            });
            G0[n] = expected[idx[0]];
          }
          rows.forEach((r, i) => {
            if (r.phase === 'reflect') expected[i] = G0[r.episode];
          });
          close(codeReturns(rows, gs, gt), expected);
        }),
        FC,
      );
    },
  );

  it('paper form equals g_t + Σ_{m>n} γ_traj^(m−n)·g_0^(m)', () => {
    fc.assert(
      fc.property(arbTrialRows(), arbGamma, arbGamma, (rows, gs, gt) => {
        const eps = episodesOf(rows);
        const g0 = eps.map((idx) => gExplicit(rows, idx, 0, gs));
        const future = (n: number): number => {
          let s = 0;
          for (let m = n + 1; m < eps.length; m++) s += gt ** (m - n) * g0[m];
          return s;
        };
        const expected = rows.map((r, i) =>
          r.phase === 'reflect'
            ? g0[r.episode] + future(r.episode)
            : gExplicit(rows, eps[r.episode], eps[r.episode].indexOf(i), gs) + future(r.episode),
        );
        close(paperReturns(rows, gs, gt), expected);
      }),
      FC,
    );
  });

  it('with one episode both forms are the plain discounted return and γ_traj is irrelevant', () => {
    fc.assert(
      fc.property(arbTrialRows(1), arbGamma, arbGamma, (rows, gs, gt) => {
        const plain = episodeReturns(rows, gs);
        close(crossEpisodeReturns(rows, gs, gt, 'code'), plain, 1e-12);
        close(crossEpisodeReturns(rows, gs, gt, 'paper'), plain, 1e-12);
      }),
      FC,
    );
  });

  it('with γ_step = 1 the two forms coincide', () => {
    fc.assert(
      fc.property(arbTrialRows(), arbGamma, (rows, gt) => close(codeReturns(rows, 1, gt), paperReturns(rows, 1, gt))),
      FC,
    );
  });

  it("a reflect row ignores its own reward and takes the next episode's first return", () => {
    const rows: Row[] = [
      { phase: 'play', episode: 0, turn: 0, reward: -1, valid: true, anchor: 'a' },
      { phase: 'reflect', episode: 1, turn: 0, reward: 1, valid: true, anchor: 'reflection' },
      { phase: 'play', episode: 1, turn: 0, reward: 0.5, valid: true, anchor: 'a' },
      { phase: 'play', episode: 1, turn: 1, reward: 2, valid: true, anchor: 'b' },
    ];
    const G = codeReturns(rows, 0.5, 0.25);
    // By hand: e1t1 2; e1t0 0.5 + 0.5·2 = 1.5; reflect 1.5; e0t0 −1 + 0.25·1.5 = −0.625.
    expect(Array.from(G)).toEqual([-0.625, 1.5, 1.5, 2]);
  });
});

describe('episode scores', () => {
  it(
    "sum the play rewards of the row's own episode, 0 for " + 'reflect rows, minus the penalty on invalid rows only',
    () => {
      const rows: Row[] = [
        { phase: 'play', episode: 0, turn: 0, reward: -0.1, valid: false, anchor: 'a' },
        { phase: 'play', episode: 0, turn: 1, reward: -0.1, valid: true, anchor: 'b' },
        { phase: 'reflect', episode: 1, turn: 0, reward: 0, valid: false, anchor: 'reflection' },
        { phase: 'play', episode: 1, turn: 0, reward: 10.9, valid: true, anchor: 'a' },
      ];
      close(episodeRewards(rows), [-0.2, -0.2, 0, 10.9], 1e-12);
      close(episodeScores(rows, 0.5), [-0.7, -0.2, -0.5, 10.9], 1e-12);
    },
  );
});
