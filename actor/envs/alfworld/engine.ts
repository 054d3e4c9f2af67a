/**
 * ALFWorld's command grammar, preconditions (alfred.pddl) and feedback texts (alfred.twl2) over AlfWorldState.
 *
 * Commands: `go to R`, `open R`, `close R`, `take O from R`, `move O to R` (also `put O in/on R`), `use O`,
 * `heat/cool/clean O with R` (microwave / fridge / sinkbasin), `slice O with K` (a held knife), `examine R|O`,
 * `look`, `inventory`, `help`. A command whose preconditions fail, or that is not in the grammar, answers
 * "Nothing happens." and changes nothing. Receptacles are their own locations; objects inside a closed
 * receptacle are invisible until it is opened. Lists read like ALFWorld's: "a apple 1, a mug 2, and a cup 1".
 */
import type { AlfWorldState, ObjectState, ReceptacleState } from './state.js';
import { affordancesOf, containsIn } from './world.js';

export const NOTHING_HAPPENS = 'Nothing happens.';

export const WELCOME = '-= Welcome to TextWorld, ALFRED! =-';

const TOOLS = { heat: 'microwave', cool: 'fridge', clean: 'sinkbasin' } as const;

export const HELP_TEXT = [
  '',
  'Available commands:',
  '  look:                             look around your current location',
  '  inventory:                        check your current inventory',
  '  go to (receptacle):               move to a receptacle',
  '  open (receptacle):                open a receptacle',
  '  close (receptacle):               close a receptacle',
  '  take (object) from (receptacle):  take an object from a receptacle',
  '  move (object) to (receptacle):    place an object in or on a receptacle',
  '  examine (something):              examine a receptacle or an object',
  '  use (object):                     use an object',
  '  heat (object) with (receptacle):  heat an object using a receptacle',
  '  clean (object) with (receptacle): clean an object using a receptacle',
  '  cool (object) with (receptacle):  cool an object using a receptacle',
  '  slice (object) with (object):     slice an object using a sharp object',
].join('\n');

/** "a x, a y, and a z" / "a x" / "nothing". */
export function listText(names: readonly string[]): string {
  if (names.length === 0) return 'nothing';
  const items = names.map((n) => `a ${n}`);
  if (items.length === 1) return items[0];
  return `${items.slice(0, -1).join(', ')}, and ${items[items.length - 1]}`;
}

const objectsIn = (s: AlfWorldState, r: string): ObjectState[] => s.objects.filter((o) => o.loc === r);

function visible(r: ReceptacleState): boolean {
  return !r.openable || r.opened;
}

/** What examining (or arriving at) a receptacle shows. */
export function receptacleText(s: AlfWorldState, r: ReceptacleState): string {
  const contents = listText(objectsIn(s, r.id).map((o) => o.id));
  if (r.openable && r.opened) return `The ${r.id} is open. In it, you see ${contents}.`;
  if (r.openable) return `The ${r.id} is closed.`;
  return `On the ${r.id}, you see ${contents}.`;
}

/** What examining an object shows (alfred.twl2's condition order); `light` marks a toggleable lamp. */
export function objectText(o: ObjectState, light = false): string {
  const n = o.id;
  if (o.clean && o.hot && o.sliced) return `This is a hot and clean sliced ${n}.`;
  if (o.clean && o.cool && o.sliced) return `This is a cool and clean sliced ${n}.`;
  if (o.clean && o.sliced) return `This is a clean sliced ${n}.`;
  if (o.hot && o.sliced) return `This is a hot sliced ${n}.`;
  if (o.cool && o.sliced) return `This is a cool sliced ${n}.`;
  if (o.clean && o.hot) return `This is a hot and clean ${n}.`;
  if (o.clean && o.cool) return `This is a cool and clean ${n}.`;
  if (o.hot) return `This is a hot ${n}.`;
  if (o.clean) return `This is a clean ${n}.`;
  if (o.cool) return `This is a cold ${n}.`;
  if (light) return o.on ? `This ${n} is on.` : `This ${n} is off.`;
  if (o.sliced) return `This is a sliced ${n}.`;
  return `There's nothing special about ${n}.`;
}

/** The `look` text: facing a receptacle, or the room overview from its middle. */
export function lookText(s: AlfWorldState): string {
  if (s.at !== null) return `You are facing the ${s.at}. Next to it, you see nothing.`;
  return (
    'You are in the middle of a room. Looking quickly around you, ' + `you see ${listText(Object.keys(s.receptacles))}.`
  );
}

/** ALFWorld's first observation: welcome banner, what `look` shows (the room overview from its middle), task. */
export function initialObservation(s: AlfWorldState): string {
  return `${WELCOME}\n\n${lookText(s)}\n\nYour task is to: ${s.task.text}`;
}

function heldObject(s: AlfWorldState): ObjectState | undefined {
  return s.holding === null ? undefined : s.objects.find((o) => o.id === s.holding);
}

/** Admissible commands (without `help`, as LaMer's prompt lists them), in a fixed order. */
export function admissibleCommands(s: AlfWorldState): string[] {
  const out: string[] = [];
  for (const id of Object.keys(s.receptacles)) if (id !== s.at) out.push(`go to ${id}`);
  const held = heldObject(s);
  if (s.at !== null) {
    const r = s.receptacles[s.at];
    if (r.openable) out.push(r.opened ? `close ${r.id}` : `open ${r.id}`);
    out.push(`examine ${r.id}`);
    if (visible(r)) {
      for (const o of objectsIn(s, r.id)) {
        const kind = affordancesOf(s, o);
        if (kind.pickupable && !held) out.push(`take ${o.id} from ${r.id}`);
        if (kind.light) out.push(`use ${o.id}`);
        if (held && (held.type === 'knife' || held.type === 'butterknife') && kind.sliceable)
          out.push(`slice ${o.id} with ${held.id}`);
      }
      if (held && containsIn(s, r.type, held.type)) out.push(`move ${held.id} to ${r.id}`);
    }
    if (held) {
      const k = affordancesOf(s, held);
      if (r.type === TOOLS.heat && k.heatable) out.push(`heat ${held.id} with ${r.id}`);
      if (r.type === TOOLS.cool && k.coolable) out.push(`cool ${held.id} with ${r.id}`);
      if (r.type === TOOLS.clean && k.cleanable) out.push(`clean ${held.id} with ${r.id}`);
    }
  }
  if (held) out.push(`examine ${held.id}`);
  out.push('inventory', 'look');
  return out;
}

/** Lower-case, trimmed, single-spaced command text. */
export function normalizeCommand(command: string): string {
  return command.toLowerCase().trim().replace(/\s+/g, ' ');
}

/** Runs one command, mutating `s`; returns the feedback text. */
export function execute(s: AlfWorldState, command: string): string {
  const c = normalizeCommand(command);
  const rec = (id: string) => s.receptacles[id];
  const obj = (id: string) => s.objects.find((o) => o.id === id);
  const held = heldObject(s);
  let m: RegExpExecArray | null;

  if (c === 'look') return lookText(s);
  if (c === 'inventory') return held ? `You are carrying: ${listText([held.id])}.` : 'You are not carrying anything.';
  if (c === 'help') return HELP_TEXT;
  if ((m = /^go to (.+)$/.exec(c))) {
    const r = rec(m[1]);
    if (!r) return NOTHING_HAPPENS;
    s.at = r.id;
    return `You arrive at ${r.id}. ${receptacleText(s, r)}`;
  }
  if ((m = /^open (.+)$/.exec(c))) {
    const r = rec(m[1]);
    if (!r || s.at !== r.id || !r.openable || r.opened) return NOTHING_HAPPENS;
    r.opened = true;
    return `You open the ${r.id}. ${receptacleText(s, r)}`;
  }
  if ((m = /^close (.+)$/.exec(c))) {
    const r = rec(m[1]);
    if (!r || s.at !== r.id || !r.openable || !r.opened) return NOTHING_HAPPENS;
    r.opened = false;
    return `You close the ${r.id}.`;
  }
  if ((m = /^take (.+) from (.+)$/.exec(c))) {
    const o = obj(m[1]);
    const r = rec(m[2]);
    if (!o || !r || s.at !== r.id || o.loc !== r.id || !visible(r) || held || !affordancesOf(s, o).pickupable)
      return NOTHING_HAPPENS;
    o.loc = null;
    s.holding = o.id;
    return `You pick up the ${o.id} from the ${r.id}.`;
  }
  if ((m = /^(?:move (.+) to|put (.+) (?:in|on|in\/on|into)) (.+)$/.exec(c))) {
    const o = obj(m[1] ?? m[2]);
    const r = rec(m[3]);
    if (!o || !r || held?.id !== o.id || s.at !== r.id || !visible(r) || !containsIn(s, r.type, o.type))
      return NOTHING_HAPPENS;
    o.loc = r.id;
    s.holding = null;
    return `You move the ${o.id} to the ${r.id}.`;
  }
  if ((m = /^(heat|cool|clean) (.+) with (.+)$/.exec(c))) {
    const verb = m[1] as keyof typeof TOOLS;
    const o = obj(m[2]);
    const r = rec(m[3]);
    const k = o ? affordancesOf(s, o) : undefined;
    const able = verb === 'heat' ? k?.heatable : verb === 'cool' ? k?.coolable : k?.cleanable;
    if (!o || !r || held?.id !== o.id || s.at !== r.id || r.type !== TOOLS[verb] || !able) return NOTHING_HAPPENS;
    if (verb === 'heat') Object.assign(o, { hot: true, cool: false });
    else if (verb === 'cool') Object.assign(o, { cool: true, hot: false });
    else o.clean = true;
    return `You ${verb} the ${o.id} using the ${r.id}.`;
  }
  if ((m = /^slice (.+) with (.+)$/.exec(c))) {
    const o = obj(m[1]);
    const k = obj(m[2]);
    if (!o || !k || held?.id !== k.id || (k.type !== 'knife' && k.type !== 'butterknife')) return NOTHING_HAPPENS;
    if (!affordancesOf(s, o).sliceable || o.loc === null || o.loc !== s.at) return NOTHING_HAPPENS;
    o.sliced = true;
    return `You sliced the ${o.id} with the ${k.id}.`;
  }
  if ((m = /^use (.+)$/.exec(c))) {
    const o = obj(m[1]);
    if (!o || o.loc === null || o.loc !== s.at || !affordancesOf(s, o).light) return NOTHING_HAPPENS;
    o.on = true; // ALFWorld's isToggled: set by every use, never cleared
    return `You turn on the ${o.id}.`;
  }
  if ((m = /^examine (.+)$/.exec(c))) {
    const r = rec(m[1]);
    if (r) return s.at === r.id ? receptacleText(s, r) : NOTHING_HAPPENS;
    const o = obj(m[1]);
    if (!o) return NOTHING_HAPPENS;
    const seen = held?.id === o.id || (o.loc !== null && o.loc === s.at && visible(rec(o.loc)));
    return seen ? objectText(o, affordancesOf(s, o).light) : NOTHING_HAPPENS;
  }
  return NOTHING_HAPPENS;
}
