/** Hand-built ALFWorld states for the engine, goal and env tests. */
import type { AlfWorldState, ObjectState } from '../../../../actor/envs/alfworld/state.js';

export const obj = (id: string, loc: string | null, over: Partial<ObjectState> = {}): ObjectState => ({
  id,
  type: id.split(' ')[0],
  loc,
  clean: false,
  hot: false,
  cool: false,
  sliced: false,
  on: false,
  ...over,
});

/** A small kitchen-and-desk room built by hand. */
export function smallRoom(): AlfWorldState {
  const rec = (id: string, openable: boolean) => [id, { id, type: id.split(' ')[0], openable, opened: false }] as const;
  return {
    receptacles: Object.fromEntries([
      rec('cabinet 1', true),
      rec('countertop 1', false),
      rec('desk 1', false),
      rec('fridge 1', true),
      rec('microwave 1', true),
      rec('sinkbasin 1', false),
    ]),
    objects: [
      obj('apple 1', 'countertop 1'),
      obj('knife 1', 'countertop 1'),
      obj('mug 1', 'cabinet 1'),
      obj('desklamp 1', 'desk 1'),
      obj('book 1', 'desk 1'),
    ],
    at: null,
    holding: null,
    task: {
      type: 'pick_and_place_simple',
      object: 'apple',
      receptacle: 'fridge',
      toggle: null,
      text: 'put a apple in fridge.',
    },
    room: 'test',
  };
}
