/**
 * docs/method.md §4.6, one task group with two trials (γ_step .95, γ_traj .6, mean norm, ω 1):
 * X: ep0 [−0.1, −0.1] (dead end), reflection, ep1 [−0.1, 10.9] (win); Y: ep0 [−0.1, 10.9] (win).
 * The expected values below are worked out by hand as exact decimals/fractions, independently of the library.
 */
import { describe, expect, it } from 'vitest';
import { groupAdvantages } from '../../../shared/rl/advantages.js';
import type { Group, Row } from '../../../shared/rl/types.js';

const play = (episode: number, turn: number, reward: number, anchor: string): Row => ({
  phase: 'play',
  episode,
  turn,
  reward,
  valid: true,
  anchor,
});
const group: Group = {
  groupId: 'sokoban-task',
  trials: [
    {
      trialId: 'X',
      rows: [
        play(0, 0, -0.1, 'initial board'),
        play(0, 1, -0.1, 'board after X move 1'),
        { phase: 'reflect', episode: 1, turn: 0, reward: 1, valid: true, anchor: 'reflection' },
        play(1, 0, -0.1, 'initial board'),
        play(1, 1, 10.9, 'board one push from done'),
      ],
    },
    { trialId: 'Y', rows: [play(0, 0, -0.1, 'initial board'), play(0, 1, 10.9, 'board one push from done')] },
  ],
};
const order = ['X.e0t0', 'X.e0t1', 'X.refl', 'X.e1t0', 'X.e1t1', 'Y.e0t0', 'Y.e0t1'];

// By hand: 0.95·10.9 = 10.355 → 10.255; 0.6·10.255 = 6.153 → 6.053; 0.95·6.053 = 5.75035 → 5.65035.
const G = [5.65035, 6.053, 10.255, 10.255, 10.9, 10.255, 10.9];
// Scores −0.2, −0.2, 0, 10.8 ×4 → sum 42.8 over 7 rows.
const mean = 42.8 / 7;
const AE = [-0.2 - mean, -0.2 - mean, 0 - mean, 10.8 - mean, 10.8 - mean, 10.8 - mean, 10.8 - mean];
// Initial-board step group {X.e0t0, X.e1t0, Y.e0t0}: (5.65035 + 10.255 + 10.255)/3 = 26.16035/3.
const stepMean = 26.16035 / 3;
const AS = [5.65035 - stepMean, 0, 0, 10.255 - stepMean, 0, 10.255 - stepMean, 0];
const A = AE.map((e, i) => e + AS[i]);

// The numbers printed in the spec (rounded to 3 decimals).
const printed = {
  G: [5.65, 6.053, 10.255, 10.255, 10.9, 10.255, 10.9],
  mean: 6.114,
  AE: [-6.314, -6.314, -6.114, 4.686, 4.686, 4.686, 4.686],
  stepMean: 8.72,
  AS: [-3.07, 1.535, 1.535], // X.e0t0, X.e1t0, Y.e0t0
};

const flat = (opts = {}) => groupAdvantages(group, { gammaTraj: 0.6, ...opts }).trials.flatMap((t) => t.rows);

describe('docs/method.md §4.6 worked example', () => {
  it('the hand-computed exact values agree with the spec printout to 1e-3', () => {
    G.forEach((g, i) => expect(Math.abs(g - printed.G[i]), order[i]).toBeLessThanOrEqual(1e-3));
    expect(Math.abs(mean - printed.mean)).toBeLessThanOrEqual(1e-3);
    AE.forEach((a, i) => expect(Math.abs(a - printed.AE[i]), order[i]).toBeLessThanOrEqual(1e-3));
    expect(Math.abs(stepMean - printed.stepMean)).toBeLessThanOrEqual(1e-3);
    [AS[0], AS[3], AS[5]].forEach((a, i) => expect(Math.abs(a - printed.AS[i])).toBeLessThanOrEqual(1e-3));
  });

  it('reproduces every G, episode reward and advantage to 1e-9 (code returns, gigpo, mean norm)', () => {
    const rows = flat();
    expect(rows).toHaveLength(7);
    rows.forEach((r, i) => {
      expect(Math.abs(r.G - G[i]), `G ${order[i]}`).toBeLessThan(1e-9);
      expect(Math.abs(r.advantage - A[i]), `A ${order[i]}`).toBeLessThan(1e-9);
    });
    [-0.2, -0.2, 0, 10.8, 10.8, 10.8, 10.8].forEach((v, i) =>
      expect(Math.abs(rows[i].episodeReward - v), order[i]).toBeLessThan(1e-12),
    );
  });

  it('the two rows one push from done share G = 10.9, so their step advantage is 0', () => {
    const rows = flat();
    expect(Math.abs(rows[4].advantage - AE[4])).toBeLessThan(1e-12);
    expect(Math.abs(rows[6].advantage - AE[6])).toBeLessThan(1e-12);
  });

  it('paper returns: 5.958 for X.e0t0, 6.053 for X.e0t1 (both forms agree there)', () => {
    const rows = flat({ returns: 'paper' });
    // By hand: g_0^(0) = −0.1 + 0.95·(−0.1) = −0.195; + 0.6·G_0^(1) = 0.6·10.255 = 6.153 → 5.958.
    expect(Math.abs(rows[0].G - 5.958)).toBeLessThan(1e-9);
    expect(Math.abs(rows[1].G - 6.053)).toBeLessThan(1e-9);
    for (const i of [2, 3, 4, 5, 6]) expect(Math.abs(rows[i].G - G[i]), order[i]).toBeLessThan(1e-9);
  });

  it('ω scales only the step part', () => {
    const rows = flat({ omega: 0.4 });
    rows.forEach((r, i) => expect(Math.abs(r.advantage - (AE[i] + 0.4 * AS[i])), order[i]).toBeLessThan(1e-9));
  });
});
