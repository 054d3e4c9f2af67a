/**
 * ALFWorld's six task types, their goal texts (ALFWorld's two templates per type), their goal checks, and the
 * LaMer splits (docs/method.md §6.4): train on types 1-4 (Pick, Look, Clean, Heat), evaluate in-distribution on
 * held-out instances of those and out-of-distribution on Cool and Pick2.
 *
 * Seeds carry the split: a task seed below 2^16 is a training task and draws one of the four training types
 * (`seed mod 4`); a larger seed is a validation task over all six types (`seed mod 6`), so a validation seed list
 * covers ID and OOD types and `alfworldTaskType(seed)` groups its results.
 */
import {
  ALFWORLD_OOD_TYPES,
  ALFWORLD_TRAIN_SEED_SPACE,
  alfworldSeedTaskType,
  type TaskType,
} from '../../../shared/alfworld-splits.js';
import type { AlfWorldState } from './state.js';

export {
  ALFWORLD_ID_TYPES,
  ALFWORLD_OOD_TYPES,
  ALFWORLD_TRAIN_SEED_SPACE,
  ALFWORLD_TRAIN_TYPES,
  TASK_SHORT_NAMES,
  TASK_TYPES,
  type TaskType,
} from '../../../shared/alfworld-splits.js';

export type AlfWorldSplit = 'train' | 'valid_id' | 'valid_ood';

/** The task type a seed generates (or the type of a state). */
export function alfworldTaskType(seedOrState: number | Pick<AlfWorldState, 'task'>): TaskType {
  if (typeof seedOrState !== 'number') return seedOrState.task.type;
  return alfworldSeedTaskType(seedOrState);
}

/** 'train' for training seeds; 'valid_id' / 'valid_ood' for validation seeds by task type. */
export function alfworldSplit(seed: number): AlfWorldSplit {
  if (seed < ALFWORLD_TRAIN_SEED_SPACE) return 'train';
  return ALFWORLD_OOD_TYPES.includes(alfworldTaskType(seed)) ? 'valid_ood' : 'valid_id';
}

/**
 * `count` validation seeds of a split ('valid_id', 'valid_ood' or 'valid_all'), starting from `from`
 * (≥ 2^16): a fixed list an evaluator can reuse at every evaluation.
 */
export function alfworldValidationSeeds(
  split: 'valid_id' | 'valid_ood' | 'valid_all',
  count: number,
  from = ALFWORLD_TRAIN_SEED_SPACE,
): number[] {
  const out: number[] = [];
  for (let s = Math.max(from, ALFWORLD_TRAIN_SEED_SPACE); out.length < count; s++) {
    if (split === 'valid_all' || alfworldSplit(s) === split) out.push(s);
  }
  return out;
}

/** The two goal templates of each type ({obj}, {recep}, {toggle}); one is drawn per task. */
export const GOAL_TEMPLATES: Readonly<Record<TaskType, readonly [string, string]>> = {
  pick_and_place_simple: ['put a {obj} in {recep}', 'put some {obj} on {recep}'],
  look_at_obj_in_light: ['look at {obj} under the {toggle}', 'examine the {obj} with the {toggle}'],
  pick_clean_then_place_in_recep: ['put a clean {obj} in {recep}', 'clean some {obj} and put it in {recep}'],
  pick_heat_then_place_in_recep: ['put a hot {obj} in {recep}', 'heat some {obj} and put it in {recep}'],
  pick_cool_then_place_in_recep: ['put a cool {obj} in {recep}', 'cool some {obj} and put it in {recep}'],
  pick_two_obj_and_place: ['put two {obj} in {recep}', 'find two {obj} and put them in {recep}'],
};

export interface Task {
  type: TaskType;
  /** Object type to handle, e.g. 'apple'. */
  object: string;
  /** Receptacle type to place it in (all types but look). */
  receptacle: string | null;
  /** Light type for look tasks ('desklamp'). */
  toggle: string | null;
  /** The goal sentence (without "Your task is to: "). */
  text: string;
}

export function goalText(
  type: TaskType,
  variant: 0 | 1,
  object: string,
  receptacle: string | null,
  toggle: string | null,
): string {
  return (
    GOAL_TEMPLATES[type][variant]
      .replace('{obj}', object)
      .replace('{recep}', receptacle ?? '')
      .replace('{toggle}', toggle ?? '') + '.'
  );
}

/**
 * Is the goal satisfied in `s`? Pick/Clean/Heat/Cool: an object of the type (clean/hot/cold as required) lies
 * in a receptacle of the target type. Pick2: two distinct such objects in the same receptacle. Look: the agent
 * holds an object of the type where a switched-on lamp of the type stands.
 */
export function goalSatisfied(s: AlfWorldState): boolean {
  const t = s.task;
  const ofType = s.objects.filter((o) => o.type === t.object);
  const inTarget = (o: (typeof ofType)[number]) => o.loc !== null && s.receptacles[o.loc]?.type === t.receptacle;
  switch (t.type) {
    case 'pick_and_place_simple':
      return ofType.some(inTarget);
    case 'pick_clean_then_place_in_recep':
      return ofType.some((o) => o.clean && inTarget(o));
    case 'pick_heat_then_place_in_recep':
      return ofType.some((o) => o.hot && inTarget(o));
    case 'pick_cool_then_place_in_recep':
      return ofType.some((o) => o.cool && inTarget(o));
    case 'pick_two_obj_and_place': {
      const counts = new Map<string, number>();
      for (const o of ofType) if (inTarget(o)) counts.set(o.loc as string, (counts.get(o.loc as string) ?? 0) + 1);
      return [...counts.values()].some((n) => n >= 2);
    }
    case 'look_at_obj_in_light': {
      const held = s.holding !== null && s.objects.find((o) => o.id === s.holding)?.type === t.object;
      if (!held || s.at === null) return false;
      return s.objects.some((o) => o.type === t.toggle && o.on && o.loc === s.at);
    }
  }
}
