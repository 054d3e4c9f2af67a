/**
 * The text-environment contract (Gymnasium-shaped, synchronous) and the prompt-builder context.
 *
 * Prompts: `buildPrompt(env | envId, ctx)` in prompt.ts is the one builder for both templates:
 *  - `full`: the LaMer English prompt structure (docs/method.md §2.6) for real LLMs; the model answers freely and
 *    ends with `<action>…</action>` / `<remark>…</remark>`.
 *  - `compact`: space-separated words only (every word in `compactVocabulary(envId)`), ending with the opening
 *    tag word `<action>` or `<remark>`; the model generates only the content and the closing tag word, which is
 *    its stop token. So a compact response looks like `2 3 </action>` or `mine 4 5 </remark>`.
 */

export type Template = 'full' | 'compact';
export type MemoryMode = 'trajectory' | 'reflection' | 'both';

export interface EnvInfo {
  won: boolean;
  /** Did the response parse (docs/method.md §4.4 invalid-action penalty)? */
  valid: boolean;
  /** action text as shown in history ('(2, 3)', 'no operation', 'up, left, still') */
  actionText: string;
  /** Set on the step that ends the episode: undiscounted return and number of step() calls. */
  episode?: { r: number; l: number };
  [k: string]: unknown;
}

export interface StepResult {
  obs: string;
  reward: number;
  /** MDP terminal state (won, lost, dead end): do not bootstrap. */
  terminated: boolean;
  /** Cut by a limit outside the MDP (Sokoban's move limit): bootstrap. Never both with `terminated`. */
  truncated: boolean;
  info: EnvInfo;
}

/** Synchronous on purpose: these envs are pure CPU and fast; the scheduler offloads heavy envs itself. */
export interface TextEnv {
  readonly id: string; // e.g. 'lamer/MineSweeper-v0'
  readonly template: Template; // chosen at construction (option `template`, default 'full')
  /**
   * Resolved construction options (board size, mines, boxes, moves per turn, ...). Optional for other envs;
   * prompt builders read it (e.g. the mine count a MineSweeper prompt states).
   */
  readonly params?: Readonly<Record<string, unknown>>;
  reset(opts: { seed: number }): { obs: string; info: Record<string, unknown> }; // new task instance from the seed
  restart(): { obs: string; info: Record<string, unknown> }; // same instance, initial state, counters reset
  step(response: string): StepResult; // the model's raw response text in this env's template
  anchor(): string; // raw current state text for GiGPO step groups (no history)
  render(): string;
  close(): void; // idempotent
}

/** One finished or running episode as the prompt builder sees it. */
export interface EpisodeLog {
  /** `action` is `info.actionText` of the step, `obs` its observation. */
  steps: Array<{ action: string; obs: string }>;
  /**
   * The reflection written after this episode (set by the trial runner once parsed). `undefined`: no reflect
   * phase ran (memory then only states the failure); `''`: the reply had no valid `<remark>` (an empty block).
   */
  reflection?: string;
  won: boolean;
}

/** Everything `buildPrompt` needs besides the env. */
export interface PromptContext {
  template: Template;
  phase: 'play' | 'reflect';
  memory: MemoryMode;
  /** The observation returned by `reset()` (also the state after every `restart()`). */
  initialObs: string;
  /**
   * 0-based episode index. Play: the episode being played. Reflect: the episode that will follow the
   * reflection (so the one just finished is `episode - 1`), as the trial runner passes it.
   */
  episode: number;
  /** Turn index inside the current play episode (0 = no action taken yet). Ignored for reflect. */
  turn: number;
  /** Play: the episode in progress. Reflect: the episode just finished (the one to reflect on). */
  current: EpisodeLog;
  /** Earlier finished episodes, oldest first (for reflect: those before `current`). */
  past: EpisodeLog[];
}

/** Result of parsing a reflect-phase response. */
export interface ParsedReflection {
  /** `<remark>` content, trimmed, at most 2000 characters; '' when invalid. */
  reflection: string;
  valid: boolean;
}
