/**
 * The text-environment contract (Gymnasium-shaped, synchronous), the prompt-builder context, and `EnvSpec`: the
 * one record per env that the registry and the central modules (prompts, scripted policies, checker, replay)
 * dispatch through.
 *
 * Prompts: `buildPrompt(env | envId, ctx)` in prompt.ts is the one builder for both templates:
 *  - `full`: the LaMer English prompt structure (docs/method.md §2.6) for real LLMs; the model answers freely and
 *    ends with `<action>…</action>` / `<remark>…</remark>`.
 *  - `compact`: space-separated words only (every word in `compactVocabulary(envId)`), ending with the opening
 *    tag word `<action>` or `<remark>`; the model generates only the content and the closing tag word, which is
 *    its stop token. So a compact response looks like `2 3 </action>` or `mine 4 5 </remark>`.
 */
import type { z } from 'zod';
import type { Rng } from '../../shared/rng.js';
import type { Occurrence } from './tags.js';

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

// ------------------------------------------------------------------------------------------- env specs

/** Creates an env from its options (validated by the env: unknown or bad options throw RL_ERR_BAD_INPUT). */
export type EnvFactory = (options: Record<string, unknown>) => TextEnv;

/** History windows in turns (docs/method.md §2.6 table). */
export interface PromptWindows {
  /** Current episode during play: turns shown, and how many of the latest show their observation. */
  play: number;
  playObs: number;
  /** The finished episode in a reflect prompt (all observations shown). */
  reflect: number;
  /** Earlier episodes in trajectory memory. */
  past: number;
  pastObs: number;
  /** Compact template: current-episode actions shown during play. */
  compactPlay: number;
  /** Compact template: actions of an episode in reflect prompts and trajectory memory. */
  compactPast: number;
}

/** Env-specific prompt text and compact conversions. `params` are the env's resolved options. */
export interface PromptContent {
  /** Full template: intro, legend, goal and rules sections. */
  fullHeader(params: Readonly<Record<string, unknown>>, initialObs: string): string;
  /** Full template: closing instructions of a play prompt, ending with the `<action>` format. */
  fullPlayInstruction(params: Readonly<Record<string, unknown>>): string;
  /** Which `<remark>` occurrence the reference parser uses for this env. */
  remarkTags: Occurrence;
  windows: PromptWindows;
  /** Compact: first words of every prompt (env name and parameters). */
  compactHeader(params: Readonly<Record<string, unknown>>, initialObs: string): string[];
  /** Compact: the cell words of one rendered row (without row label). */
  compactRow(line: string): string[];
  /** Compact: words of one history action (`info.actionText`). */
  compactAction(actionText: string): string[];
  /** Compact: is this reflection word sequence well formed? */
  compactReflectionValid(words: readonly string[]): boolean;
  /** Compact: env words beyond the shared markers and numbers. */
  compactWords: readonly string[];
  /**
   * Compact play prompts: redraws the current board's cells (`rows[r][c]`, 0-indexed) from the policy's own earlier
   * reflections (oldest first), when the env's options ask for it. Never sees hidden env state.
   */
  compactBoardMemory?(
    rows: string[][],
    reflections: readonly string[],
    params: Readonly<Record<string, unknown>>,
  ): void;
}

/** A whole prompt builder, for envs whose prompts end with the admissible actions of the env's current state. */
export type PromptBuilder = (env: TextEnv | string, ctx: PromptContext) => string;

/** What a scripted policy provides for one env. */
export interface ScriptedPolicy {
  /** The action content (what goes inside `<action>…</action>`) as words for the current state. */
  act(env: TextEnv, rng: Rng, noise: number, memory: readonly string[]): { full: string; compact: string[] };
  /** The scripted reflection content for a finished (failed) episode. */
  reflect(
    initialObs: string,
    log: EpisodeLog,
    params: Readonly<Record<string, unknown>>,
  ): { full: string; compact: string[]; reasoning: string };
}

/** A finished episode as rule checks see it. */
export interface CheckedEpisode {
  responses: string[];
  results: StepResult[];
  won: boolean;
  turns: number;
}

/**
 * Env-specific rules for `checkEnv`, run after the solver and random episodes of a seed (both from the initial
 * state). Report problems with `ck.fail(msg)`; return the seed's solution length for `meanSolutionLength`, or null.
 */
export type RuleCheck = (
  ck: { fail(msg: string): void },
  seed: number,
  reset: { obs: string; info: Record<string, unknown> },
  solved: CheckedEpisode,
  random: CheckedEpisode,
  options: Record<string, unknown>,
) => number | null;

/** `lamer replay` support: the state file's shape and the env options that rebuild its state. */
export interface ReplaySpec {
  /** The state file: `actions` plus what fixes the instance (a board, or a `seed` that reset() is given). */
  state: z.ZodType<{ actions: string[] } & Record<string, unknown>>;
  /** Env options for a validated state file. */
  options(state: Record<string, unknown>): Record<string, unknown>;
}

/** One evaluated trial as an env's evaluation breakdown sees it. */
export interface EvalTrialOutcome {
  seed: number;
  episodesWon: readonly boolean[];
}

/**
 * Everything the central modules know about one env: the registry (`registerEnv(spec)` in registry.ts), prompts
 * (prompt.ts), scripted policies (scripted.ts), the checker (check-env.ts), replay (replay.ts), the retry metrics
 * (retry.ts) and evaluation (`lamer eval`) all dispatch through it. Each env folder exports one (`<env>/spec.ts`).
 */
export interface EnvSpec {
  /** `namespace/Name-vN`; the env's instances report it as their `id`. */
  id: string;
  /** Short names accepted wherever an id is (e.g. `sokoban`); case-insensitive. */
  aliases?: readonly string[];
  /** One line for `--help` and README tables. */
  description: string;
  make: EnvFactory;
  /**
   * The construction options with their defaults (the schema the env validates with): what a base model's cache
   * key hashes, so that changing an env default invalidates cached models built under the old one.
   */
  options?: z.ZodType;
  /** Prompt text, reflection parsing and the compact vocabulary. */
  prompt: PromptContent;
  /**
   * Revision of the env's prompt rendering (absent = 1), part of a base model's cache key: bump it when the same
   * state renders differently, so a model cloned on the old prompts is not reused.
   */
  promptRevision?: number;
  /**
   * A whole prompt builder replacing prompt.ts's board-shaped skeleton (WebShop, ALFWorld: their prompts list the
   * admissible actions of the env's current state). `prompt` still serves reflection parsing and the vocabulary.
   */
  buildPrompt?: PromptBuilder;
  /** Test oracle, demonstration source and the random (noise 1) policy of the checker. */
  scripted: ScriptedPolicy;
  /** Env-specific reward and termination rules checked by `lamer check-env` (beyond the generic step contract). */
  checkRules?: RuleCheck;
  /** `lamer replay` state files; without it the env cannot be replayed. */
  replay?: ReplaySpec;
  /**
   * What the retry metrics key an episode's steps by: the observation reached (`state`, Sokoban: the fatal key is
   * the dead-locked state) or the action taken (`action`, the default: MineSweeper's fatal key is the mine cell).
   */
  retryKey?: 'state' | 'action';
  /** A per-group breakdown `lamer eval` prints besides pass@k (ALFWorld: by task type and split). */
  evalReport?(trials: readonly EvalTrialOutcome[]): unknown;
}
