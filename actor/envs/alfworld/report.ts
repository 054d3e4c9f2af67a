/**
 * ALFWorld evaluation grouping (docs/method.md §7, paper Table 2): success per task type and per ID/OOD split. The
 * grouping lives in shared/alfworld-splits.ts (the learner's periodic evaluation uses it too); re-exported here for
 * the env's spec and the actor-side index.
 */
export {
  alfworldEvalMetrics,
  alfworldEvalReport,
  type AlfworldEvalReport,
  type AlfworldTrialOutcome,
  type PassAtK,
} from '../../../shared/alfworld-splits.js';
