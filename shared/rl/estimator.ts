/**
 * What an advantage estimator is: a named rule turning one task group's rows (with their episode scores) into
 * one return G and one advantage per row. Estimators live one per module in estimators/ and are registered by
 * name in estimators/index.ts; advantages.ts does the shared bookkeeping (flattening, scores, statistics).
 */
import type { AdvantageOptions } from './options.js';
import type { Row } from './types.js';

/** One task group, flattened: per-trial rows concatenated in trial order. */
export interface FlatGroup {
  rows: readonly Row[];
  /** Index in `rows` of each trial's first row. */
  firstRowOfTrial: readonly number[];
  /** Episode score of each row (scores.ts: episode reward − invalid penalty). */
  score: readonly number[];
  /** The return each row carries (from `returns`). */
  G: readonly number[];
}

export interface AdvantageEstimator {
  /** One line for `--help` and tables. */
  readonly description: string;
  /** Whether γ_traj changes the advantage; tables say so for the estimators that ignore it. */
  readonly usesGammaTraj: boolean;
  /**
   * The estimator needs a critic: the model gets a value head, the learner fills each row's `value` (V of the
   * row's state) before computing advantages and trains the head on the rows' returns G.
   */
  readonly critic?: boolean;
  /**
   * The learner whitens the advantages over the update's trained response tokens (verl's `masked_whiten`), after
   * the per-group computation; `lamer advantages` shows them before.
   */
  readonly whitenBatch?: boolean;
  /** The return of every row of one trial (rows in chronological order). */
  returns(rows: readonly Row[], o: AdvantageOptions, gammaTraj: number): ArrayLike<number>;
  /** The advantage of every row of the flattened group. */
  advantages(g: FlatGroup, o: AdvantageOptions): Float64Array;
}
