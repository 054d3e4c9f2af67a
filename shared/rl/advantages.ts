/**
 * Advantage estimators, computed per task group (lamer-spec §4, §5). All statistics are over the rows of one
 * group only. Notation: s = episode score of a row (scores.ts), G = the row's return, norm(x; m, sd) = x − m
 * (`mean`) or (x − m)/(sd + 1e-6) (`mean_std`), sd = unbiased sample std. A group statistic over a single value
 * uses m = 0, sd = 1 (the reference's rule), so a one-row group keeps its raw score.
 *
 * gigpo (LaMer, default):
 *   A_E = norm(s; mean and sd of s over ALL rows of the group)        — every turn and reflection counts once
 *   A_S = norm(G; mean and sd of G over the rows with the same anchor) — G = cross-episode return (returns.ts);
 *         a singleton anchor group gives A_S = 0; reflect rows all share the anchor `reflection`
 *   A   = A_E + ω·A_S   (option reflectAdvantage = 'step': reflect rows get ω·A_S only)
 * gigpo-upstream (verl-agent's GiGPO, meant for single-episode trials):
 *   A_E = norm(s; statistics over ONE score per trial — the score of its first row, as upstream keys them)
 *   A_S as above but with G = within-episode discounted return (γ_step only; γ_traj unused) minus the invalid
 *         penalty on the row's own return, as upstream applies it to step rewards; reflect rows: G = −penalty·[invalid]
 * grpo:  A = (s − mean)/(sd + 1e-6) over all rows of the group (always std-normalised; `norm` is not used)
 * rloo:  A = s − mean of the OTHER rows of the group = n/(n−1)·(s − mean) (`norm` is not used)
 * For grpo and rloo the reported G is the cross-episode return (informational; the advantage does not use it).
 */
import { badInput } from '../errors.js';
import { assertGroupsWellFormed } from './order.js';
import { crossEpisodeReturns, episodeReturns } from './returns.js';
import { episodeRewards, episodeScores } from './scores.js';
import {
  DEFAULT_ADVANTAGE_OPTIONS, type AdvantageOptions, type Group, type GroupAdvantages, type Norm, type Row,
} from './types.js';

/** Added to the std before dividing (the reference's epsilon). */
export const STD_EPSILON = 1e-6;

const ESTIMATORS = ['gigpo', 'gigpo-upstream', 'grpo', 'rloo'] as const;
const NORMS = ['mean', 'mean_std'] as const;
const RETURNS = ['code', 'paper'] as const;
const REFLECT_ADVANTAGES = ['lamer', 'step'] as const;

/**
 * Fills defaults and rejects out-of-range options with a message naming the option. Keys other than the
 * advantage options are ignored, so a wider object (the run config's `algo` group) can be passed as is.
 */
export function resolveAdvantageOptions(options: Partial<AdvantageOptions> = {}): AdvantageOptions {
  const o: AdvantageOptions = { ...DEFAULT_ADVANTAGE_OPTIONS };
  for (const k of Object.keys(DEFAULT_ADVANTAGE_OPTIONS) as Array<keyof AdvantageOptions>) {
    if (options[k] !== undefined) (o as unknown as Record<string, unknown>)[k] = options[k];
  }
  if (!(ESTIMATORS as readonly string[]).includes(o.estimator)) throw badInput(`options.estimator must be one of ${ESTIMATORS.join(', ')}, got ${JSON.stringify(o.estimator)}`);
  if (!(NORMS as readonly string[]).includes(o.norm)) throw badInput(`options.norm must be one of ${NORMS.join(', ')}, got ${JSON.stringify(o.norm)}`);
  if (!(RETURNS as readonly string[]).includes(o.returns)) throw badInput(`options.returns must be one of ${RETURNS.join(', ')}, got ${JSON.stringify(o.returns)}`);
  if (!(REFLECT_ADVANTAGES as readonly string[]).includes(o.reflectAdvantage)) throw badInput(`options.reflectAdvantage must be one of ${REFLECT_ADVANTAGES.join(', ')}, got ${JSON.stringify(o.reflectAdvantage)}`);
  checkUnit('options.gammaStep', o.gammaStep);
  checkUnit('options.gammaTraj', o.gammaTraj);
  checkNonNegative('options.omega', o.omega);
  checkNonNegative('options.invalidPenalty', o.invalidPenalty);
  return o;
}

function checkUnit(name: string, v: number): void {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw badInput(`${name} must be a number in [0, 1], got ${JSON.stringify(v)}`);
}
function checkNonNegative(name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw badInput(`${name} must be a finite number >= 0, got ${JSON.stringify(v)}`);
}

/** Mean and unbiased std of a sample; a single value gives {mean 0, std 1} (the reference's rule). */
export function groupStats(values: ArrayLike<number>): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) throw badInput('group statistics of an empty set');
  if (n === 1) return { mean: 0, std: 1 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}

function normalise(x: number, s: { mean: number; std: number }, norm: Norm): number {
  return norm === 'mean' ? x - s.mean : (x - s.mean) / (s.std + STD_EPSILON);
}

/** A_S per row: centre (and optionally scale) the returns within groups of identical anchors; singletons get 0. */
export function stepAdvantages(anchors: readonly string[], G: ArrayLike<number>, norm: Norm): Float64Array {
  const clusters = new Map<string, number[]>();
  for (let i = 0; i < anchors.length; i++) {
    const c = clusters.get(anchors[i]);
    if (c) c.push(i);
    else clusters.set(anchors[i], [i]);
  }
  const out = new Float64Array(anchors.length);
  for (const idx of clusters.values()) {
    if (idx.length === 1) continue;
    const s = groupStats(idx.map((i) => G[i]));
    for (const i of idx) out[i] = normalise(G[i], s, norm);
  }
  return out;
}

/** Advantages of one task group. The group's rows are checked for chronological order first. */
export function groupAdvantages(group: Group, options: Partial<AdvantageOptions> = {}): GroupAdvantages {
  return computeAdvantages([group], options)[0];
}

/** Advantages of every group; groups are independent of each other. */
export function computeAdvantages(groups: readonly Group[], options: Partial<AdvantageOptions> = {}): GroupAdvantages[] {
  const o = resolveAdvantageOptions(options);
  assertGroupsWellFormed(groups);
  return groups.map((g) => {
    if (g.gammaTraj !== undefined) checkUnit(`group '${g.groupId}' gammaTraj`, g.gammaTraj);
    return oneGroup(g, o);
  });
}

function oneGroup(group: Group, o: AdvantageOptions): GroupAdvantages {
  const gammaTraj = group.gammaTraj ?? o.gammaTraj;
  // Flatten the group's rows; per-trial arrays are concatenated in trial order.
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
    if (o.estimator === 'gigpo-upstream') {
      const g = episodeReturns(t.rows, o.gammaStep);
      t.rows.forEach((r, i) => G.push(g[i] - (r.valid ? 0 : o.invalidPenalty)));
    } else {
      G.push(...crossEpisodeReturns(t.rows, o.gammaStep, gammaTraj, o.returns));
    }
  }
  const n = rows.length;
  const A = new Float64Array(n);
  switch (o.estimator) {
    case 'gigpo':
    case 'gigpo-upstream': {
      const stats = o.estimator === 'gigpo' ? groupStats(score) : groupStats(firstRowOfTrial.map((i) => score[i]));
      const AS = stepAdvantages(rows.map((r) => r.anchor), G, o.norm);
      for (let i = 0; i < n; i++) {
        const dropAE = o.reflectAdvantage === 'step' && rows[i].phase === 'reflect';
        A[i] = (dropAE ? 0 : normalise(score[i], stats, o.norm)) + o.omega * AS[i];
      }
      break;
    }
    case 'grpo': {
      const stats = groupStats(score);
      for (let i = 0; i < n; i++) A[i] = normalise(score[i], stats, 'mean_std');
      break;
    }
    case 'rloo': {
      const { mean } = groupStats(score);
      for (let i = 0; i < n; i++) A[i] = n > 1 ? (n / (n - 1)) * (score[i] - mean) : score[i];
      break;
    }
  }
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
