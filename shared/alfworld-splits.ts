/**
 * ALFWorld's six task types and the ID/OOD split a task seed carries (docs/method.md §6.4), with the evaluation
 * grouping by type and split (paper Table 2). Kept below actor/ and learner/ because a seed alone decides the type:
 * the env generates from it, the learner groups its validation results by it, and neither imports the other.
 *
 * A task seed below 2^16 is a training task and draws one of the four training types (`seed mod 4`); a larger seed
 * is a validation task over all six types (`seed mod 6`).
 */
import { badInput } from './errors.js';

export const TASK_TYPES = [
  'pick_and_place_simple',
  'look_at_obj_in_light',
  'pick_clean_then_place_in_recep',
  'pick_heat_then_place_in_recep',
  'pick_cool_then_place_in_recep',
  'pick_two_obj_and_place',
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** Short names as the paper's tables use them. */
export const TASK_SHORT_NAMES: Readonly<Record<TaskType, string>> = {
  pick_and_place_simple: 'Pick',
  look_at_obj_in_light: 'Look',
  pick_clean_then_place_in_recep: 'Clean',
  pick_heat_then_place_in_recep: 'Heat',
  pick_cool_then_place_in_recep: 'Cool',
  pick_two_obj_and_place: 'Pick2',
};

/** LaMer `train_first4` / `valid_first4` (in-distribution) / `valid_last2` (out-of-distribution). */
export const ALFWORLD_TRAIN_TYPES: readonly TaskType[] = TASK_TYPES.slice(0, 4);
export const ALFWORLD_ID_TYPES: readonly TaskType[] = TASK_TYPES.slice(0, 4);
export const ALFWORLD_OOD_TYPES: readonly TaskType[] = TASK_TYPES.slice(4);

/** Seeds below this are training tasks (the project's seed convention); the rest are validation tasks. */
export const ALFWORLD_TRAIN_SEED_SPACE = 2 ** 16;

/** The task type a seed generates (training seeds: Pick/Look/Clean/Heat only). */
export function alfworldSeedTaskType(seed: number): TaskType {
  return seed < ALFWORLD_TRAIN_SEED_SPACE ? ALFWORLD_TRAIN_TYPES[seed % 4] : TASK_TYPES[seed % 6];
}

const typeOf = (t: AlfworldTrialOutcome): TaskType => t.taskType ?? alfworldSeedTaskType(t.seed);

/** One evaluated trial: its task seed and whether each episode (attempt) was won. */
export interface AlfworldTrialOutcome {
  seed: number;
  episodesWon: readonly boolean[];
  /** The task type when the seed does not decide it (loaded games: the reset's `info.taskType`). */
  taskType?: TaskType;
}

export interface PassAtK {
  /** Trials in the group. */
  n: number;
  /** passAtK[k-1] = fraction of trials won within the first k episodes. */
  passAtK: number[];
}

export interface AlfworldEvalReport {
  /** By the paper's short type names, in TASK_TYPES order; types without trials are left out. */
  byType: Record<string, PassAtK>;
  /** In-distribution types (Pick, Look, Clean, Heat). */
  inDistribution: PassAtK;
  /** Out-of-distribution types (Cool, Pick2). */
  outOfDistribution: PassAtK;
  all: PassAtK;
}

function passAtK(trials: readonly AlfworldTrialOutcome[], attempts: number): PassAtK {
  const passAtK = Array.from({ length: attempts }, (_, k) => {
    if (trials.length === 0) return 0;
    return trials.filter((t) => t.episodesWon.slice(0, k + 1).some(Boolean)).length / trials.length;
  });
  return { n: trials.length, passAtK };
}

/** Groups evaluated ALFWorld trials by task type and by ID/OOD split; pass@1..`attempts` (default: longest trial). */
export function alfworldEvalReport(trials: readonly AlfworldTrialOutcome[], attempts?: number): AlfworldEvalReport {
  for (const t of trials) {
    if (!Number.isSafeInteger(t.seed) || t.seed < 0) throw badInput(`alfworld eval: bad task seed ${String(t.seed)}`);
    if (!Array.isArray(t.episodesWon) || t.episodesWon.length === 0)
      throw badInput(`alfworld eval: seed ${t.seed} has no episodes`);
  }
  // A won trial stops early, so the longest trial may be shorter than the attempts the evaluation allowed.
  const K = attempts ?? Math.max(1, ...trials.map((t) => t.episodesWon.length));
  const byType: Record<string, PassAtK> = {};
  for (const type of TASK_TYPES) {
    const of = trials.filter((t) => typeOf(t) === type);
    if (of.length > 0) byType[TASK_SHORT_NAMES[type]] = passAtK(of, K);
  }
  const ood = trials.filter((t) => ALFWORLD_OOD_TYPES.includes(typeOf(t)));
  const id = trials.filter((t) => !ALFWORLD_OOD_TYPES.includes(typeOf(t)));
  return {
    byType,
    inDistribution: passAtK(id, K),
    outOfDistribution: passAtK(ood, K),
    all: passAtK(trials, K),
  };
}

/** Metric names for a report (`eval/alfworld/Pick/pass@1`, `eval/alfworld/ood/pass@3`, ...) → values. */
export function alfworldEvalMetrics(report: AlfworldEvalReport, prefix = 'eval/alfworld'): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (group: string, p: PassAtK) =>
    p.passAtK.forEach((v, k) => {
      out[`${prefix}/${group}/pass@${k + 1}`] = v;
    });
  for (const [name, p] of Object.entries(report.byType)) put(name, p);
  put('id', report.inDistribution);
  put('ood', report.outOfDistribution);
  put('all', report.all);
  return out;
}
