/** Public API of the text environments (import from here rather than from individual modules). */
export type {
  CheckedEpisode,
  EnvFactory,
  EnvInfo,
  EnvSpec,
  EpisodeLog,
  EvalTrialOutcome,
  MemoryMode,
  ParsedReflection,
  PromptBuilder,
  PromptContent,
  PromptContext,
  PromptWindows,
  ReplaySpec,
  RuleCheck,
  ScriptedPolicy,
  StepResult,
  Template,
  TextEnv,
} from './types.js';
export { envSpec, envSpecs, listEnvs, makeEnv, registerEnv, resolveEnvId } from './registry.js';
export { COMPACT_STOP, buildPrompt, compactVocabulary, parseReflection } from './prompt.js';
export { scriptedAction, templateReflection, type ScriptedOptions } from './scripted.js';
export { checkEnv, type CheckEnvOptions, type CheckEnvReport } from './check-env.js';
export { replayActions, type ReplayResult, type ReplayStep } from './replay.js';
export { retryEpisodes, type StepRecord } from './retry.js';
// Each env's spec, then env-specific helpers (explicit-state constructors, solvers, data loaders, task splits).
export { sokobanSpec } from './sokoban/spec.js';
export { minesweeperSpec } from './minesweeper/spec.js';
export { webshopSpec } from './webshop/spec.js';
export { alfworldSpec } from './alfworld/spec.js';
export { SOKOBAN_ID, SokobanEnv, sokobanFromBoard, type SokobanOptions } from './sokoban/env.js';
export { MINESWEEPER_ID, MineSweeperEnv, minesweeperFromLayout, type MineSweeperOptions } from './minesweeper/env.js';
export { solveSokoban } from './sokoban/solver.js';
export { chooseMineCell, mineProbabilities, parseMineObs } from './minesweeper/solver.js';
export { WEBSHOP_ID, WebShopEnv, type WebShopOptions } from './webshop/env.js';
export { loadWebShopData, productsFromData, WEBSHOP_FILES } from './webshop/loader.js';
export { oracleAction as webshopOracleAction } from './webshop/scripted.js';
export { ALFWORLD_ID, AlfWorldEnv, type AlfWorldOptions } from './alfworld/env.js';
export {
  ALFWORLD_ID_TYPES,
  ALFWORLD_OOD_TYPES,
  ALFWORLD_TRAIN_TYPES,
  TASK_SHORT_NAMES as ALFWORLD_TASK_NAMES,
  TASK_TYPES as ALFWORLD_TASK_TYPES,
  alfworldSplit,
  alfworldTaskType,
  alfworldValidationSeeds,
  type AlfWorldSplit,
  type TaskType as AlfWorldTaskType,
} from './alfworld/tasks.js';
export {
  alfworldEvalMetrics,
  alfworldEvalReport,
  type AlfworldEvalReport,
  type AlfworldTrialOutcome,
} from './alfworld/report.js';
export { plannerCommand as alfworldPlannerCommand } from './alfworld/planner.js';
