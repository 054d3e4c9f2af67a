/**
 * verl-agent's GiGPO, meant for single-episode trials (docs/method.md §5):
 *   A_E = norm(s; statistics over ONE score per trial — the score of its first row, as upstream keys them)
 *   A_S as gigpo's, but G = within-episode discounted return (γ_step only; γ_traj unused) minus the invalid penalty
 *       on the row's own return, as upstream applies it to step rewards; reflect rows: G = −penalty·[invalid]
 */
import type { AdvantageEstimator } from '../estimator.js';
import { episodeReturns } from '../returns.js';
import { groupStats, normalise, stepAdvantages } from '../stats.js';

export const gigpoUpstream: AdvantageEstimator = {
  description: "verl-agent's GiGPO: one score per trial for the episode advantage, within-episode step returns",
  usesGammaTraj: false,
  returns(rows, o) {
    const g = episodeReturns(rows, o.gammaStep);
    return rows.map((r, i) => g[i] - (r.valid ? 0 : o.invalidPenalty));
  },
  advantages(g, o) {
    const stats = groupStats(g.firstRowOfTrial.map((i) => g.score[i]));
    const AS = stepAdvantages(
      g.rows.map((r) => r.anchor),
      g.G,
      o.norm,
    );
    const dropAE = (i: number) => o.reflectAdvantage === 'step' && g.rows[i].phase === 'reflect';
    return Float64Array.from(g.score, (s, i) => (dropAE(i) ? 0 : normalise(s, stats, o.norm)) + o.omega * AS[i]);
  },
};
