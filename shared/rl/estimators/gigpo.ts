/**
 * GiGPO as LaMer runs it (docs/method.md §4.2–§4.4), the default:
 *   A_E = norm(s; statistics of s over ALL rows of the group) — every turn and reflection counts once
 *   A_S = norm(G; statistics of G over the rows with the same anchor), G = cross-episode return; singletons 0
 *   A   = A_E + ω·A_S   (option reflectAdvantage = 'step': reflect rows get ω·A_S only)
 */
import type { AdvantageEstimator } from '../estimator.js';
import { crossEpisodeReturns } from '../returns.js';
import { groupStats, normalise, stepAdvantages } from '../stats.js';

export const gigpo: AdvantageEstimator = {
  description:
    "LaMer's GiGPO: episode advantage over all rows + identical-anchor step advantage on the cross-episode return",
  usesGammaTraj: true,
  returns: (rows, o, gammaTraj) => crossEpisodeReturns(rows, o.gammaStep, gammaTraj, o.returns),
  advantages(g, o) {
    const stats = groupStats(g.score);
    const AS = stepAdvantages(
      g.rows.map((r) => r.anchor),
      g.G,
      o.norm,
    );
    const dropAE = (i: number) => o.reflectAdvantage === 'step' && g.rows[i].phase === 'reflect';
    return Float64Array.from(g.score, (s, i) => (dropAE(i) ? 0 : normalise(s, stats, o.norm)) + o.omega * AS[i]);
  },
};
