/** The ppo estimator's GAE (docs/method.md §4.7) on hand-computed cases and its limits (λ = 1 / λ = 0). */
import { describe, expect, it } from 'vitest';
import { computeAdvantages } from '../../../../shared/rl/advantages.js';
import { ESTIMATORS } from '../../../../shared/rl/estimators/index.js';
import { gae } from '../../../../shared/rl/estimators/ppo.js';
import { codeReturns } from '../../../../shared/rl/returns.js';
import type { Row } from '../../../../shared/rl/types.js';

const play = (episode: number, turn: number, reward: number, value?: number, valid = true): Row => ({
  phase: 'play',
  episode,
  turn,
  reward,
  valid,
  anchor: `s${episode}.${turn}`,
  value,
});
const reflect = (episode: number, value?: number): Row => ({
  phase: 'reflect',
  episode,
  turn: 0,
  reward: 0,
  valid: true,
  anchor: 'reflection',
  value,
});

describe('gae', () => {
  it('one episode: δ and A by hand (γ 0.9, λ 0.8)', () => {
    const rows = [play(0, 0, 1, 0.5), play(0, 1, 0, 1), play(0, 2, 2, 1.5)];
    const { A, G } = gae(rows, { gammaStep: 0.9, gaeLambda: 0.8, invalidPenalty: 0.5 }, 0.6);
    // t2: δ = 2 − 1.5 = 0.5 (terminal). t1: δ = 0 + 0.9·1.5 − 1 = 0.35, A = 0.35 + 0.72·0.5 = 0.71.
    // t0: δ = 1 + 0.9·1 − 0.5 = 1.4, A = 1.4 + 0.72·0.71 = 1.9112.
    expect(Array.from(A)).toEqual([1.9112, 0.71, 0.5].map((x) => expect.closeTo(x, 12)));
    expect(Array.from(G)).toEqual([2.4112, 1.71, 2].map((x) => expect.closeTo(x, 12)));
  });

  it('across a reflection: γ_traj into the next episode, undiscounted after the reflection, penalised rewards', () => {
    const rows = [play(0, 0, -0.1, 1), play(0, 1, -0.1, 0.5, false), reflect(1, 2), play(1, 0, 10.9, 3)];
    const { A, G } = gae(rows, { gammaStep: 0.95, gaeLambda: 0.5, invalidPenalty: 0.5 }, 0.6);
    // t3: δ = 10.9 − 3 = 7.9. t2 (reflect, γ 1, r 0): δ = 3 − 2 = 1, A = 1 + 0.5·7.9 = 4.95.
    // t1 (γ_traj 0.6, r −0.1 − 0.5): δ = −0.6 + 0.6·2 − 0.5 = 0.1, A = 0.1 + 0.3·4.95 = 1.585.
    // t0 (γ_step 0.95): δ = −0.1 + 0.95·0.5 − 1 = −0.625, A = −0.625 + 0.475·1.585 = 0.127875.
    expect(Array.from(A)).toEqual([0.127875, 1.585, 4.95, 7.9].map((x) => expect.closeTo(x, 12)));
    expect(Array.from(G)).toEqual([1.127875, 2.085, 6.95, 10.9].map((x) => expect.closeTo(x, 12)));
  });

  it('λ = 1 with no critic gives the reference recursion of §3.1; λ = 0 gives one-step TD errors', () => {
    const rows = [play(0, 0, -0.1), play(0, 1, -0.1), reflect(1), play(1, 0, -0.1), play(1, 1, 10.9)];
    const o = { gammaStep: 0.95, gaeLambda: 1, invalidPenalty: 0.5 };
    expect(Array.from(gae(rows, o, 0.6).G)).toEqual(
      Array.from(codeReturns(rows, 0.95, 0.6)).map((x) => expect.closeTo(x, 12)),
    );
    const valued = rows.map((r, i) => ({ ...r, value: [1, 2, 3, 4, 5][i] }));
    const td = gae(valued, { ...o, gaeLambda: 0 }, 0.6).A;
    expect(Array.from(td)).toEqual(
      [-0.1 + 0.95 * 2 - 1, -0.1 + 0.6 * 3 - 2, 4 - 3, -0.1 + 0.95 * 5 - 4, 10.9 - 5].map((x) => expect.closeTo(x, 12)),
    );
  });
});

describe('the ppo estimator', () => {
  it('is registered with a critic; its G is the GAE target and A = G − V per row, not group-normalised', () => {
    expect(ESTIMATORS.ppo.critic).toBe(true);
    const rows = [play(0, 0, 1, 0.5), play(0, 1, 0, 1), play(0, 2, 2, 1.5)];
    const [g] = computeAdvantages([{ groupId: 'g', trials: [{ trialId: 't', rows }] }], {
      estimator: 'ppo',
      gammaStep: 0.9,
      gaeLambda: 0.8,
    });
    const out = g.trials[0].rows;
    expect(out.map((r) => r.G)).toEqual([2.4112, 1.71, 2].map((x) => expect.closeTo(x, 12)));
    expect(out.map((r) => r.advantage)).toEqual([1.9112, 0.71, 0.5].map((x) => expect.closeTo(x, 12)));
    expect(out.map((r) => r.episodeReward)).toEqual([3, 3, 3]);
  });
});
