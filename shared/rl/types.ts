/**
 * Data shapes of the learner's mathematics (lamer-spec §1, §3–§4): one row per LLM turn, trials of rows, task
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

/** Advantage estimator (see advantages.ts for the exact definitions). */
export type Estimator = 'gigpo' | 'gigpo-upstream' | 'grpo' | 'rloo';
/** `mean`: subtract the group mean; `mean_std`: also divide by (unbiased std + 1e-6). GiGPO variants only. */
export type Norm = 'mean' | 'mean_std';
/** `code`: the reference implementation's recursion (default); `paper`: the paper's closed form. */
export type ReturnsMode = 'code' | 'paper';

export interface AdvantageOptions {
  estimator: Estimator;
  /** Discount between turns of one episode. */
  gammaStep: number;
  /** Discount across an episode boundary (overridden per group by `Group.gammaTraj`). */
  gammaTraj: number;
  /** Weight ω of the GiGPO step advantage. */
  omega: number;
  norm: Norm;
  /** Subtracted from the episode score of a row whose output did not parse. */
  invalidPenalty: number;
  returns: ReturnsMode;
  /**
   * What a reflect row's GiGPO advantage is made of. `lamer` (the spec): A_E + ω·A_S, where A_E is the reflection's
   * score 0 minus the group's mean score — the same offset for every reflection of the group. `step`: ω·A_S only, the
   * next episode's return against the other reflections of the group (an ablation: the offset adds variance, not credit).
   */
  reflectAdvantage: ReflectAdvantage;
}

export type ReflectAdvantage = 'lamer' | 'step';

/** The defaults of LaMer's released scripts (lamer-spec §0, §3.4 collector defaults). */
export const DEFAULT_ADVANTAGE_OPTIONS: Readonly<AdvantageOptions> = Object.freeze({
  estimator: 'gigpo',
  gammaStep: 0.95,
  gammaTraj: 0.6,
  omega: 1,
  norm: 'mean',
  invalidPenalty: 0.5,
  returns: 'code',
  reflectAdvantage: 'lamer',
});

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
