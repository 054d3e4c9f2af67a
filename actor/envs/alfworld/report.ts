/**
 * ALFWorld evaluation grouping (docs/method.md §7, paper Table 2): success per task type (Pick, Look, Clean, Heat,
 * Cool, Pick2) and per split (in-distribution types vs out-of-distribution Cool/Pick2), each as pass@1..N over
 * the episodes of a trial. The task type and split of a validation task follow from its seed alone.
 */
import { badInput } from '../../../shared/errors.js';
import { ALFWORLD_OOD_TYPES, TASK_SHORT_NAMES, TASK_TYPES, alfworldTaskType, type TaskType } from './tasks.js';

const typeOf = (t: AlfworldTrialOutcome): TaskType => t.taskType ?? alfworldTaskType(t.seed);

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

/** Groups evaluated ALFWorld trials by task type and by ID/OOD split. */
export function alfworldEvalReport(trials: readonly AlfworldTrialOutcome[]): AlfworldEvalReport {
  for (const t of trials) {
    if (!Number.isSafeInteger(t.seed) || t.seed < 0) throw badInput(`alfworld eval: bad task seed ${String(t.seed)}`);
    if (!Array.isArray(t.episodesWon) || t.episodesWon.length === 0)
      throw badInput(`alfworld eval: seed ${t.seed} has no episodes`);
  }
  const attempts = Math.max(1, ...trials.map((t) => t.episodesWon.length));
  const byType: Record<string, PassAtK> = {};
  for (const type of TASK_TYPES) {
    const of = trials.filter((t) => typeOf(t) === type);
    if (of.length > 0) byType[TASK_SHORT_NAMES[type]] = passAtK(of, attempts);
  }
  const ood = trials.filter((t) => ALFWORLD_OOD_TYPES.includes(typeOf(t)));
  const id = trials.filter((t) => !ALFWORLD_OOD_TYPES.includes(typeOf(t)));
  return {
    byType,
    inDistribution: passAtK(id, attempts),
    outOfDistribution: passAtK(ood, attempts),
    all: passAtK(trials, attempts),
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
