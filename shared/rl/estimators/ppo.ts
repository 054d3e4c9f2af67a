/**
 * PPO with a critic (the paper's PPO baseline; docs/method.md §4.7): generalised advantage estimation over the
 * rows (policy turns) of a trial, with the critic's V(s) of each row's state in `row.value`.
 *   reward   r_t = the turn's reward (reflect rows 0) − invalidPenalty·[row invalid]
 *   discount γ_t from row t to row t+1: 1 from a reflect row (it is credited with the next episode, §3.3),
 *            γ_step when row t+1 is in the same episode, γ_traj across an episode boundary; 0 after the last row
 *   δ_t = r_t + γ_t·V_{t+1} − V_t,  A_t = δ_t + γ_t·λ·A_{t+1},  G_t = A_t + V_t (the critic's target)
 * With λ = 1 and V ≡ 0 (no critic yet) G is the reference recursion's cross-episode return of §3.1 with the
 * penalty on the rewards. No group normalisation (`norm` is not used): a critic, not the group, is the baseline.
 * The learner then whitens A over the whole update's response tokens (`whitenBatch`), as verl's PPO does.
 */
import type { AdvantageEstimator } from '../estimator.js';
import type { Row } from '../types.js';

/** GAE over one trial's rows in chronological order: per row the advantage A and the value target G = A + V. */
export function gae(
  rows: readonly Row[],
  o: { gammaStep: number; gaeLambda: number; invalidPenalty: number },
  gammaTraj: number,
): { A: Float64Array; G: Float64Array } {
  const n = rows.length;
  const A = new Float64Array(n);
  const G = new Float64Array(n);
  let nextA = 0;
  let nextV = 0;
  for (let t = n - 1; t >= 0; t--) {
    const row = rows[t];
    const V = row.value ?? 0;
    const r = (row.phase === 'play' ? row.reward : 0) - (row.valid ? 0 : o.invalidPenalty);
    let gamma = 0;
    if (t < n - 1) gamma = row.phase === 'reflect' ? 1 : rows[t + 1].episode === row.episode ? o.gammaStep : gammaTraj;
    A[t] = r + gamma * nextV - V + gamma * o.gaeLambda * nextA;
    G[t] = A[t] + V;
    nextA = A[t];
    nextV = V;
  }
  return { A, G };
}

export const ppo: AdvantageEstimator = {
  description: 'PPO with a critic: GAE(γ_step, γ_traj, λ) on turn rewards with a learned value head',
  usesGammaTraj: true,
  critic: true,
  whitenBatch: true,
  returns: (rows, o, gammaTraj) => gae(rows, o, gammaTraj).G,
  advantages: (g) => Float64Array.from(g.G, (G, i) => G - (g.rows[i].value ?? 0)),
};
