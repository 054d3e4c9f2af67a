/**
 * GRPO (docs/method.md §4.4): A = (s − mean)/(sd + 1e-6) over all rows of the group, always std-normalised
 * (`norm` is not used). The reported G is the cross-episode return, for information only: γ_traj does not
 * change the advantage.
 */
import type { AdvantageEstimator } from '../estimator.js';
import { crossEpisodeReturns } from '../returns.js';
import { groupStats, normalise } from '../stats.js';

export const grpo: AdvantageEstimator = {
  description: 'GRPO: episode score normalised by the group mean and std (ignores γ_traj)',
  usesGammaTraj: false,
  returns: (rows, o, gammaTraj) => crossEpisodeReturns(rows, o.gammaStep, gammaTraj, o.returns),
  advantages(g) {
    const stats = groupStats(g.score);
    return Float64Array.from(g.score, (s) => normalise(s, stats, 'mean_std'));
  },
};
