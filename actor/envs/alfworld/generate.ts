/**
 * Seeded ALFWorld household and task generation. The seed fixes the task type (tasks.ts), then a room kind
 * where the type makes sense (Look: bedroom or living room with a desk lamp; Clean: kitchen or bathroom with a
 * sink basin; Heat/Cool: kitchen with microwave/fridge; Pick/Pick2: any room), its receptacles (ALFWorld-like
 * counts; all openable ones closed), the task object type and target receptacle type, 1-3 task objects (2-4 for
 * Pick2) placed where they can be but never in the target type, and distractor objects. The goal never holds at
 * the start. Everything follows one seeded stream, so a seed always gives the same household.
 */
import { LamerError } from '../../../shared/errors.js';
import { createRng, deriveSeed, type Rng } from '../../../shared/rng.js';
import type { AlfWorldState, ObjectState, ReceptacleState } from './state.js';
import { alfworldTaskType, goalText, type TaskType } from './tasks.js';
import { OBJECTS, RECEPTACLES, ROOMS, canContain, type RoomKind } from './world.js';

export type RoomScale = 'alfworld' | 'small';

const ROOMS_FOR: Readonly<Record<TaskType, readonly RoomKind[]>> = {
  pick_and_place_simple: ['kitchen', 'livingroom', 'bedroom', 'bathroom'],
  look_at_obj_in_light: ['bedroom', 'livingroom'],
  pick_clean_then_place_in_recep: ['kitchen', 'bathroom'],
  pick_heat_then_place_in_recep: ['kitchen'],
  pick_cool_then_place_in_recep: ['kitchen'],
  pick_two_obj_and_place: ['kitchen', 'livingroom', 'bedroom', 'bathroom'],
};

/** The receptacle type a processing task uses as its tool. */
export const TOOL_FOR: Partial<Record<TaskType, string>> = {
  pick_clean_then_place_in_recep: 'sinkbasin',
  pick_heat_then_place_in_recep: 'microwave',
  pick_cool_then_place_in_recep: 'fridge',
};

const LAMP = 'desklamp';
const LAMP_STANDS = ['desk', 'sidetable', 'dresser'];

function affordanceOk(type: TaskType, object: string): boolean {
  const k = OBJECTS[object];
  if (!k?.pickupable) return false;
  switch (type) {
    case 'pick_clean_then_place_in_recep':
      return k.cleanable === true;
    case 'pick_heat_then_place_in_recep':
      return k.heatable === true;
    case 'pick_cool_then_place_in_recep':
      return k.coolable === true;
    case 'look_at_obj_in_light':
      return ['small', 'media', 'decor', 'dish'].includes(k.cls);
    default:
      return true;
  }
}

/** Receptacles of a room in ALFWorld's listing order: type names A→Z, numbers high → low. */
function drawReceptacles(rng: Rng, room: RoomKind, scale: RoomScale): ReceptacleState[] {
  const spec = ROOMS[room].receptacles;
  const out: ReceptacleState[] = [];
  for (const type of Object.keys(spec).sort()) {
    const [lo, hi] = spec[type];
    const n = scale === 'small' ? lo : lo + rng.int(hi - lo + 1);
    for (let i = n; i >= 1; i--)
      out.push({ id: `${type} ${i}`, type, openable: RECEPTACLES[type].openable, opened: false });
  }
  return out;
}

interface Plan {
  room: RoomKind;
  receptacles: ReceptacleState[];
  object: string;
  target: string | null;
}

function drawPlan(rng: Rng, type: TaskType, scale: RoomScale): Plan | null {
  const room = rng.pick(ROOMS_FOR[type]);
  const receptacles = drawReceptacles(rng, room, scale);
  const present = new Set(receptacles.map((r) => r.type));
  const tool = TOOL_FOR[type];
  if (tool && !present.has(tool)) return null;
  if (type === 'look_at_obj_in_light' && !LAMP_STANDS.some((t) => present.has(t))) return null;
  const candidates = ROOMS[room].objects
    .filter((o) => affordanceOk(type, o))
    .filter((o) => {
      if (type === 'look_at_obj_in_light') return receptacles.some((r) => canContain(r.type, o));
      return [...present].some(
        (t) => t !== tool && canContain(t, o) && receptacles.some((r) => r.type !== t && canContain(r.type, o)),
      );
    });
  if (candidates.length === 0) return null;
  const object = rng.pick(candidates);
  if (type === 'look_at_obj_in_light') return { room, receptacles, object, target: null };
  const targets = [...present]
    .sort()
    .filter(
      (t) => t !== tool && canContain(t, object) && receptacles.some((r) => r.type !== t && canContain(r.type, object)),
    );
  return { room, receptacles, object, target: rng.pick(targets) };
}

/** Generates the household and task of a seed (`type` overrides the seed's task type, for tests). */
export function generateHousehold(seed: number, opts: { scale?: RoomScale; type?: TaskType } = {}): AlfWorldState {
  const scale = opts.scale ?? 'alfworld';
  const type = opts.type ?? alfworldTaskType(seed);
  const rng = createRng(deriveSeed(seed, 'alfworld-household', type));
  let plan: Plan | null = null;
  for (let attempt = 0; attempt < 100 && plan === null; attempt++) plan = drawPlan(rng, type, scale);
  if (plan === null) throw new LamerError('RL_ERR_INTERNAL', `alfworld: no household for ${type} from seed ${seed}`);

  const counters = new Map<string, number>();
  const objects: ObjectState[] = [];
  const add = (objType: string, loc: string) => {
    const n = (counters.get(objType) ?? 0) + 1;
    counters.set(objType, n);
    objects.push({
      id: `${objType} ${n}`,
      type: objType,
      loc,
      clean: false,
      hot: false,
      cool: false,
      sliced: false,
      on: false,
    });
  };
  const { receptacles, object, target } = plan;
  const homes = (o: string, exclude: string | null) =>
    receptacles.filter((r) => r.type !== exclude && canContain(r.type, o));

  const nTask =
    type === 'pick_two_obj_and_place' ? 2 + rng.int(3) : 1 + rng.int(type === 'pick_and_place_simple' ? 3 : 2);
  for (let i = 0; i < nTask; i++) add(object, rng.pick(homes(object, target)).id);
  if (type === 'look_at_obj_in_light') {
    add(LAMP, rng.pick(receptacles.filter((r) => LAMP_STANDS.includes(r.type))).id);
  }
  const distractorTypes = ROOMS[plan.room].objects.filter((o) => o !== object && OBJECTS[o].pickupable);
  const nDistractors = scale === 'small' ? 3 + rng.int(4) : 8 + rng.int(13);
  for (let i = 0; i < nDistractors; i++) {
    const t = rng.pick(distractorTypes);
    const where = homes(t, null);
    if (where.length > 0) add(t, rng.pick(where).id);
  }

  const toggle = type === 'look_at_obj_in_light' ? LAMP : null;
  return {
    receptacles: Object.fromEntries(receptacles.map((r) => [r.id, r])),
    objects,
    at: null,
    holding: null,
    task: {
      type,
      object,
      receptacle: target,
      toggle,
      text: goalText(type, rng.int(2) as 0 | 1, object, target, toggle),
    },
    room: plan.room,
  };
}
