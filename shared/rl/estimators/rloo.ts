/**
 * RLOO (docs/method.md §4.4): A = s − mean of the OTHER rows of the group = n/(n−1)·(s − mean); a one-row group
 * keeps its raw score (`norm` is not used). G as grpo's: informational, γ_traj does not change the advantage.
 */
import type { AdvantageEstimator } from '../estimator.js';
import { crossEpisodeReturns } from '../returns.js';
import { groupStats } from '../stats.js';

export const rloo: AdvantageEstimator = {
  description: 'RLOO: episode score minus the mean of the other rows of the group (ignores γ_traj)',
  usesGammaTraj: false,
  returns: (rows, o, gammaTraj) => crossEpisodeReturns(rows, o.gammaStep, gammaTraj, o.returns),
  advantages(g) {
    const n = g.score.length;
    const { mean } = groupStats(g.score);
    return Float64Array.from(g.score, (s) => (n > 1 ? (n / (n - 1)) * (s - mean) : s));
  },
};
