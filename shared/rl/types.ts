/**
 * Data shapes of the learner's mathematics (docs/method.md §1, §3–§4): one row per LLM turn, trials of rows, task
 * groups of trials, and the options of the advantage estimators. Only the fields the estimators read are named
 * here, so richer records (the actor's trial rows with tokens and log-probs) can be passed as they are.
 */

/** One recorded LLM turn. */
export interface Row {
  /** `play` = an environment turn; `reflect` = the reflection written between two episodes. */
  phase: 'play' | 'reflect';
  /** Episode (attempt) index from 0; a reflect row carries the index of the episode that follows it. */
  episode: number;
  /** Turn index inside the phase (reflect rows: 0). */
  turn: number;
  /** Environment reward of the turn (a reflect row's own reward is stored but never used). */
  reward: number;
  /** False when the model's output did not parse (the invalid-action penalty applies). */
  valid: boolean;
  /** Raw observation before the action (no history); reflect rows use the constant `reflection`. */
  anchor: string;
  /** The critic's V of the row's state (estimators with a critic, e.g. `ppo`); absent = 0. */
  value?: number;
}

/** One trial: N episodes of the same task instance with reflections in between, rows in chronological order. */
export interface Trial<R extends Row = Row> {
  trialId: string;
  rows: R[];
}

/** All trials that share one task instance (the reference's `uid`). */
export interface Group<R extends Row = Row> {
  groupId: string;
  /** Overrides `AdvantageOptions.gammaTraj` for this group (e.g. per-environment discount). */
  gammaTraj?: number;
  trials: Trial<R>[];
}

export type { Estimator } from './estimators/index.js';
export type { AdvantageOptions, Norm, ReflectAdvantage, ReturnsMode } from './options.js';
export { DEFAULT_ADVANTAGE_OPTIONS } from './options.js';

/** What the estimators produce for each row. */
export interface RowAdvantage {
  /** The return the step advantage uses (cross-episode G for gigpo; see advantages.ts for the others). */
  G: number;
  /** Undiscounted sum of the play rewards of this row's episode (0 for reflect rows), before any penalty. */
  episodeReward: number;
  /** The advantage broadcast to every response token of the row. */
  advantage: number;
}

export interface TrialAdvantages {
  trialId: string;
  rows: RowAdvantage[];
}

export interface GroupAdvantages {
  groupId: string;
  trials: TrialAdvantages[];
}
