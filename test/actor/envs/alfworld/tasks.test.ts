import { describe, expect, it } from 'vitest';
import { execute } from '../../../../actor/envs/alfworld/engine.js';
import { TOOL_FOR, generateHousehold } from '../../../../actor/envs/alfworld/generate.js';
import { parseGoalText } from '../../../../actor/envs/alfworld/scripted.js';
import type { AlfWorldState } from '../../../../actor/envs/alfworld/state.js';
import {
  ALFWORLD_ID_TYPES,
  ALFWORLD_OOD_TYPES,
  ALFWORLD_TRAIN_TYPES,
  TASK_TYPES,
  alfworldSplit,
  alfworldTaskType,
  alfworldValidationSeeds,
  goalSatisfied,
  goalText,
  type TaskType,
} from '../../../../actor/envs/alfworld/tasks.js';
import { canContain } from '../../../../actor/envs/alfworld/world.js';
import { obj, smallRoom } from './rooms.js';

function withTask(
  type: TaskType,
  object: string,
  receptacle: string | null,
  toggle: string | null = null,
): AlfWorldState {
  const s = smallRoom();
  s.task = { type, object, receptacle, toggle, text: goalText(type, 0, object, receptacle, toggle) };
  return s;
}

const run = (s: AlfWorldState, commands: string[]) => commands.forEach((c) => execute(s, c));

describe('ALFWorld goal checks', () => {
  it('pick_and_place: an object of the type in a receptacle of the type', () => {
    const s = withTask('pick_and_place_simple', 'apple', 'fridge');
    expect(goalSatisfied(s)).toBe(false);
    run(s, ['go to countertop 1', 'take apple 1 from countertop 1', 'go to fridge 1', 'open fridge 1']);
    expect(goalSatisfied(s)).toBe(false); // held, not placed
    run(s, ['move apple 1 to fridge 1']);
    expect(goalSatisfied(s)).toBe(true);
  });

  it('clean/heat/cool: the object must carry the state when placed (or later)', () => {
    for (const [type, verb, tool] of [
      ['pick_clean_then_place_in_recep', 'clean', 'sinkbasin 1'],
      ['pick_heat_then_place_in_recep', 'heat', 'microwave 1'],
      ['pick_cool_then_place_in_recep', 'cool', 'fridge 1'],
    ] as const) {
      const s = withTask(type, 'apple', 'countertop');
      run(s, ['go to countertop 1', 'take apple 1 from countertop 1', 'move apple 1 to countertop 1']);
      expect(goalSatisfied(s)).toBe(false); // placed but not processed
      run(s, [
        'take apple 1 from countertop 1',
        `go to ${tool}`,
        `${verb} apple 1 with ${tool}`,
        'go to countertop 1',
        'move apple 1 to countertop 1',
      ]);
      expect(goalSatisfied(s)).toBe(true);
    }
  });

  it('heating after cooling undoes the cool state', () => {
    const s = withTask('pick_cool_then_place_in_recep', 'apple', 'cabinet');
    run(s, [
      'go to countertop 1',
      'take apple 1 from countertop 1',
      'go to fridge 1',
      'cool apple 1 with fridge 1',
      'go to microwave 1',
      'heat apple 1 with microwave 1',
      'go to cabinet 1',
      'open cabinet 1',
      'move apple 1 to cabinet 1',
    ]);
    expect(goalSatisfied(s)).toBe(false);
  });

  it('pick_two: two distinct objects of the type in the same receptacle', () => {
    const s = withTask('pick_two_obj_and_place', 'mug', 'cabinet');
    s.receptacles['cabinet 2'] = { id: 'cabinet 2', type: 'cabinet', openable: false, opened: false };
    s.objects.push(obj('mug 2', 'sinkbasin 1')); // mug 1 starts in cabinet 1
    expect(goalSatisfied(s)).toBe(false);
    run(s, ['go to sinkbasin 1', 'take mug 2 from sinkbasin 1', 'go to cabinet 2', 'move mug 2 to cabinet 2']);
    expect(goalSatisfied(s)).toBe(false); // two cabinets, one mug each
    run(s, ['take mug 2 from cabinet 2', 'go to cabinet 1', 'open cabinet 1', 'move mug 2 to cabinet 1']);
    expect(goalSatisfied(s)).toBe(true);
  });

  it('look_at_obj_in_light: holding the object where a lamp of the type is on', () => {
    const s = withTask('look_at_obj_in_light', 'book', null, 'desklamp');
    run(s, ['go to desk 1', 'use desklamp 1']);
    expect(goalSatisfied(s)).toBe(false); // lamp on, not holding
    run(s, ['take book 1 from desk 1']);
    expect(goalSatisfied(s)).toBe(true);
    run(s, ['go to countertop 1']);
    expect(goalSatisfied(s)).toBe(false); // the lamp is elsewhere
    const t = withTask('look_at_obj_in_light', 'book', null, 'desklamp');
    run(t, ['go to desk 1', 'take book 1 from desk 1']);
    expect(goalSatisfied(t)).toBe(false); // lamp off
    run(t, ['use desklamp 1']);
    expect(goalSatisfied(t)).toBe(true);
  });
});

describe('ALFWorld splits and task types', () => {
  it('train on the first four types, OOD = cool and pick_two', () => {
    expect(ALFWORLD_TRAIN_TYPES).toEqual([
      'pick_and_place_simple',
      'look_at_obj_in_light',
      'pick_clean_then_place_in_recep',
      'pick_heat_then_place_in_recep',
    ]);
    expect(ALFWORLD_ID_TYPES).toEqual(ALFWORLD_TRAIN_TYPES);
    expect(ALFWORLD_OOD_TYPES).toEqual(['pick_cool_then_place_in_recep', 'pick_two_obj_and_place']);
  });

  it('training seeds only draw training types; validation seeds cover all six', () => {
    const train = new Set(Array.from({ length: 100 }, (_, i) => alfworldTaskType(i)));
    expect([...train].sort()).toEqual([...ALFWORLD_TRAIN_TYPES].sort());
    const val = new Set(Array.from({ length: 100 }, (_, i) => alfworldTaskType(2 ** 16 + i)));
    expect([...val].sort()).toEqual([...TASK_TYPES].sort());
    expect(alfworldSplit(5)).toBe('train');
    for (let i = 0; i < 60; i++) {
      const seed = 2 ** 16 + i;
      expect(alfworldSplit(seed)).toBe(ALFWORLD_OOD_TYPES.includes(alfworldTaskType(seed)) ? 'valid_ood' : 'valid_id');
    }
  });

  it('validation seed lists are fixed and hold only their split', () => {
    const id = alfworldValidationSeeds('valid_id', 40);
    const ood = alfworldValidationSeeds('valid_ood', 20);
    expect(id).toEqual(alfworldValidationSeeds('valid_id', 40));
    expect(id.every((s) => s >= 2 ** 16 && alfworldSplit(s) === 'valid_id')).toBe(true);
    expect(ood.every((s) => alfworldSplit(s) === 'valid_ood')).toBe(true);
    const all = alfworldValidationSeeds('valid_all', 12).map((seed) => alfworldTaskType(seed));
    // Consecutive seeds cycle the six types.
    for (const t of TASK_TYPES) expect(all.filter((x) => x === t)).toHaveLength(2);
    expect(alfworldTaskType(generateHousehold(70001))).toBe(alfworldTaskType(70001));
  });

  it("goal sentences use ALFWorld's templates and read back", () => {
    expect(goalText('pick_heat_then_place_in_recep', 0, 'apple', 'fridge', null)).toBe('put a hot apple in fridge.');
    expect(goalText('look_at_obj_in_light', 1, 'book', null, 'desklamp')).toBe('examine the book with the desklamp.');
    expect(goalText('pick_two_obj_and_place', 1, 'mug', 'shelf', null)).toBe('find two mug and put them in shelf.');
    expect(parseGoalText('put some apple on countertop.')).toEqual({
      type: 'pick_and_place_simple',
      object: 'apple',
      receptacle: 'countertop',
      toggle: null,
    });
    expect(parseGoalText('clean some mug and put it in coffeemachine.')).toMatchObject({
      type: 'pick_clean_then_place_in_recep',
      object: 'mug',
      receptacle: 'coffeemachine',
    });
  });
});

describe('ALFWorld household generation', () => {
  it('is deterministic per seed and never starts solved; task objects start outside the target type', () => {
    const counts = new Map<TaskType, number>();
    for (let i = 0; i < 600; i++) {
      const seed = i < 300 ? i : 2 ** 16 + i;
      const s = generateHousehold(seed);
      expect(generateHousehold(seed)).toEqual(s);
      expect(goalSatisfied(s)).toBe(false);
      const t = s.task;
      counts.set(t.type, (counts.get(t.type) ?? 0) + 1);
      const mine = s.objects.filter((o) => o.type === t.object);
      expect(mine.length).toBeGreaterThanOrEqual(t.type === 'pick_two_obj_and_place' ? 2 : 1);
      for (const o of mine) {
        expect(o.loc).not.toBeNull();
        expect(canContain(s.receptacles[o.loc as string].type, o.type)).toBe(true);
        if (t.receptacle) expect(s.receptacles[o.loc as string].type).not.toBe(t.receptacle);
      }
      for (const o of s.objects) expect(canContain(s.receptacles[o.loc as string].type, o.type)).toBe(true);
      const tool = TOOL_FOR[t.type];
      if (tool) expect(Object.values(s.receptacles).some((r) => r.type === tool)).toBe(true);
      if (t.receptacle) {
        expect(canContain(t.receptacle, t.object)).toBe(true);
        expect(Object.values(s.receptacles).some((r) => r.type === t.receptacle)).toBe(true);
      }
      if (t.type === 'look_at_obj_in_light') expect(s.objects.some((o) => o.type === 'desklamp')).toBe(true);
      expect(Object.values(s.receptacles).every((r) => !r.opened)).toBe(true);
      expect(s.at).toBeNull();
    }
    expect(counts.size).toBe(6);
  });

  it('room listing order: type names A to Z, numbers high to low; the small scale has fewer receptacles', () => {
    const s = generateHousehold(3);
    const ids = Object.keys(s.receptacles);
    const key = (id: string) => [id.split(' ')[0], -Number(id.split(' ')[1])] as const;
    const sorted = ids.slice().sort((a, b) => key(a)[0].localeCompare(key(b)[0]) || key(a)[1] - key(b)[1]);
    expect(ids).toEqual(sorted);
    let big = 0;
    let small = 0;
    for (let i = 0; i < 50; i++) {
      big += Object.keys(generateHousehold(i).receptacles).length;
      small += Object.keys(generateHousehold(i, { scale: 'small' }).receptacles).length;
    }
    expect(small).toBeLessThan(big);
  });
});
