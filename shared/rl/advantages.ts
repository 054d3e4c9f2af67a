/**
 * Advantages per task group (docs/method.md §4): the bookkeeping every estimator shares — flatten a group's
 * trials, compute each row's episode score (scores.ts) and return (the estimator's rule), then hand the flat
 * group to the estimator chosen by `options.estimator` (estimators/, one module each). All statistics are over
 * the rows of one group only; groups are independent. A group statistic over a single value uses mean 0, std 1
 * (the reference's rule), so a one-row group keeps its raw score.
 */
import { badInput } from '../errors.js';
import type { FlatGroup } from './estimator.js';
import { ESTIMATORS } from './estimators/index.js';
import { type AdvantageOptions, resolveAdvantageOptions } from './options.js';
import { assertGroupsWellFormed } from './order.js';
import { episodeRewards, episodeScores } from './scores.js';
import type { Group, GroupAdvantages, Row } from './types.js';

export { groupStats, STD_EPSILON, stepAdvantages } from './stats.js';

/** Advantages of one task group. The group's rows are checked for chronological order first. */
export function groupAdvantages(group: Group, options: Partial<AdvantageOptions> = {}): GroupAdvantages {
  return computeAdvantages([group], options)[0];
}

/** Advantages of every group; groups are independent of each other. */
export function computeAdvantages(
  groups: readonly Group[],
  options: Partial<AdvantageOptions> = {},
): GroupAdvantages[] {
  const o = resolveAdvantageOptions(options);
  assertGroupsWellFormed(groups);
  return groups.map((g) => {
    if (g.gammaTraj !== undefined && !(g.gammaTraj >= 0 && g.gammaTraj <= 1)) {
      throw badInput(`group '${g.groupId}' gammaTraj must be a number in [0, 1], got ${JSON.stringify(g.gammaTraj)}`);
    }
    return oneGroup(g, o);
  });
}

function oneGroup(group: Group, o: AdvantageOptions): GroupAdvantages {
  const estimator = ESTIMATORS[o.estimator];
  const gammaTraj = group.gammaTraj ?? o.gammaTraj;
  const rows: Row[] = [];
  const firstRowOfTrial: number[] = [];
  const score: number[] = [];
  const reward: number[] = [];
  const G: number[] = [];
  for (const t of group.trials) {
    firstRowOfTrial.push(rows.length);
    rows.push(...t.rows);
    score.push(...episodeScores(t.rows, o.invalidPenalty));
    reward.push(...episodeRewards(t.rows));
    G.push(...Array.from(estimator.returns(t.rows, o, gammaTraj)));
  }
  const flat: FlatGroup = { rows, firstRowOfTrial, score, G };
  const A = estimator.advantages(flat, o);
  let k = 0;
  return {
    groupId: group.groupId,
    trials: group.trials.map((t) => ({
      trialId: t.trialId,
      rows: t.rows.map(() => {
        const out = { G: G[k], episodeReward: reward[k], advantage: A[k] };
        k++;
        return out;
      }),
    })),
  };
}
