/**
 * Loader for original ALFWorld games. A game is a directory holding `traj_data.json` (its `task_type` and
 * `pddl_params`) and the PDDL problem, either as `game.tw-pddl` (JSON with a `pddl_problem` string, as ALFWorld's
 * `json_2.1.1` data ships it) or as `initial_state.pddl`. The problem's facts give receptacles (`receptacleType`,
 * `openable`, `opened`), objects (`objectType`, `inReceptacle`, `pickupable`, `cleanable`, `heatable`, `coolable`,
 * `sliceable`, `toggleable`, `isToggled`), containment (`canContain`) and locations; names are demangled as
 * ALFWorld does (ids sorted, numbered per name from the highest down, lower-cased: `CounterTop_bar_…` →
 * `countertop 2`). The task is one of the six types with ALFWorld's goal templates (a seeded choice of the two).
 * Sliced and movable-receptacle tasks, which LaMer does not use, are rejected. Objects that sit on the floor
 * (no `inReceptacle`) are attached to the receptacle at their location, or left out when there is none.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { badInput } from '../../../shared/errors.js';
import { createRng, deriveSeed } from '../../../shared/rng.js';
import type { Affordances, AlfWorldRules, AlfWorldState, ObjectState, ReceptacleState } from './state.js';
import { TASK_TYPES, goalText, type TaskType } from './tasks.js';

type SExpr = string | SExpr[];

/** Parses PDDL text into nested lists (comments after ';' dropped). */
export function parseSExpr(text: string): SExpr[] {
  const tokens = text.replace(/;[^\n]*/g, ' ').match(/\(|\)|[^\s()]+/g) ?? [];
  const root: SExpr[] = [];
  const stack: SExpr[][] = [root];
  for (const t of tokens) {
    if (t === '(') {
      const list: SExpr[] = [];
      stack[stack.length - 1].push(list);
      stack.push(list);
    } else if (t === ')') {
      if (stack.length === 1) throw badInput('alfworld game: unbalanced ")" in the PDDL problem');
      stack.pop();
    } else {
      stack[stack.length - 1].push(t);
    }
  }
  if (stack.length !== 1) throw badInput('alfworld game: unbalanced "(" in the PDDL problem');
  return root;
}

/**
 * ALFWorld's demangling (`Demangler`): ids compare in lower case (PDDL names are case-insensitive and arrive
 * lower-cased), the name is the part before the first `_bar_` (+ 'basin' for sink/bathtub basins), and each
 * name's sorted ids are numbered from the highest down: id → 'name n'.
 */
export function demangleNames(ids: readonly string[]): Map<string, string> {
  const lower = new Map<string, string>();
  for (const id of ids) lower.set(id.toLowerCase(), id);
  const sorted = [...lower.keys()].sort();
  const baseOf = (id: string): string | null => {
    const i = id.indexOf('_bar_');
    if (i < 0) return null;
    return id.slice(0, i) + (id.includes('basin') ? 'basin' : '');
  };
  const count = new Map<string, number>();
  for (const id of sorted) {
    const b = baseOf(id);
    if (b !== null) count.set(b, (count.get(b) ?? 0) + 1);
  }
  const out = new Map<string, string>();
  for (const id of sorted) {
    const original = lower.get(id) as string;
    const b = baseOf(id);
    if (b === null) {
      out.set(original, id);
      continue;
    }
    const n = count.get(b) as number;
    count.set(b, n - 1);
    out.set(original, `${b} ${n}`);
  }
  return out;
}

const typeName = (t: string) => t.replace(/Type$/, '').toLowerCase();

function section(problem: SExpr[], key: string): SExpr[] {
  const define = problem.find((x) => Array.isArray(x) && x[0] === 'define') as SExpr[] | undefined;
  if (!define) throw badInput('alfworld game: the PDDL problem has no (define ...)');
  const s = define.find((x) => Array.isArray(x) && x[0] === key) as SExpr[] | undefined;
  if (!s) throw badInput(`alfworld game: the PDDL problem has no (${key} ...) section`);
  return s.slice(1);
}

export interface TrajData {
  task_type: string;
  pddl_params: {
    object_target: string;
    parent_target: string;
    toggle_target: string;
    mrecep_target: string;
    object_sliced: boolean;
  };
}

function checkTraj(raw: unknown, where: string): TrajData {
  const t = raw as Partial<TrajData> | null;
  const p = t?.pddl_params;
  if (!t || typeof t.task_type !== 'string' || !p || typeof p.object_target !== 'string') {
    throw badInput(`alfworld game ${where}: traj_data.json needs task_type and pddl_params.object_target`);
  }
  if (!(TASK_TYPES as readonly string[]).includes(t.task_type)) {
    throw badInput(`alfworld game ${where}: task type '${t.task_type}' is not one of the six ALFWorld types`);
  }
  if (p.object_sliced || (p.mrecep_target ?? '') !== '') {
    throw badInput(`alfworld game ${where}: sliced and movable-receptacle tasks are not supported`);
  }
  return t as TrajData;
}

/** Builds the household state of one game from its PDDL problem text and traj_data. */
export function stateFromGame(problemText: string, trajRaw: unknown, where = 'game', seed = 0): AlfWorldState {
  const traj = checkTraj(trajRaw, where);
  const problem = parseSExpr(problemText);
  const objectsSec = section(problem, ':objects');
  const init = section(problem, ':init').filter(Array.isArray) as SExpr[][];
  const declared = new Map<string, string>(); // id → PDDL type
  let pending: string[] = [];
  for (let i = 0; i < objectsSec.length; i++) {
    const tok = objectsSec[i];
    if (tok === '-' && typeof objectsSec[i + 1] === 'string') {
      for (const id of pending) declared.set(id, objectsSec[i + 1] as string);
      pending = [];
      i++;
    } else if (typeof tok === 'string') {
      pending.push(tok);
    }
  }
  const facts = (name: string) => init.filter((f) => f[0] === name).map((f) => f.slice(1) as string[]);
  const recType = new Map(facts('receptacleType').map(([r, t]) => [r, typeName(t)]));
  const objType = new Map(facts('objectType').map(([o, t]) => [o, typeName(t)]));
  const flag = (name: string) => new Set(facts(name).map(([x]) => x));
  const openable = flag('openable');
  const opened = flag('opened');
  const names = demangleNames([...recType.keys(), ...objType.keys()]);
  const recAtLoc = new Map(facts('receptacleAtLocation').map(([r, l]) => [l, r]));
  const objAtLoc = new Map(facts('objectAtLocation').map(([o, l]) => [o, l]));
  const inRec = new Map(facts('inReceptacle').map(([o, r]) => [o, r]));

  const receptacles: ReceptacleState[] = [...recType.entries()].map(([id, type]) => ({
    id: names.get(id) as string,
    type,
    openable: openable.has(id),
    opened: opened.has(id),
  }));
  receptacles.sort((a, b) => {
    const [ta, na] = [a.type, Number(a.id.split(' ').pop())];
    const [tb, nb] = [b.type, Number(b.id.split(' ').pop())];
    return ta.localeCompare(tb) || nb - na;
  });

  const affordances: Record<string, Affordances> = {};
  const [pick, clean, heat, cool, slice, toggle, toggled] = [
    'pickupable',
    'cleanable',
    'heatable',
    'coolable',
    'sliceable',
    'toggleable',
    'isToggled',
  ].map(flag);
  const objects: ObjectState[] = [];
  for (const id of [...objType.keys()].sort()) {
    if (recType.has(id)) continue; // receptacle objects (e.g. a sink basin) are receptacles here
    let host = inRec.get(id);
    if (!host) {
      const l = objAtLoc.get(id);
      host = l ? recAtLoc.get(l) : undefined;
    }
    if (!host || !recType.has(host)) continue;
    const name = names.get(id) as string;
    affordances[name] = {
      pickupable: pick.has(id),
      cleanable: clean.has(id),
      heatable: heat.has(id),
      coolable: cool.has(id),
      sliceable: slice.has(id),
      light: toggle.has(id),
    };
    objects.push({
      id: name,
      type: objType.get(id) as string,
      loc: names.get(host) as string,
      clean: false,
      hot: false,
      cool: false,
      sliced: false,
      on: toggled.has(id),
    });
  }
  const canContain: AlfWorldRules['canContain'] = {};
  for (const [rt, ot] of facts('canContain')) (canContain[typeName(rt)] ??= []).push(typeName(ot));

  const agentLoc = facts('atLocation').find(([a]) => declared.get(a) === 'agent' || a.startsWith('agent'))?.[1];
  const startRec = agentLoc ? recAtLoc.get(agentLoc) : undefined;
  const type = traj.task_type as TaskType;
  const p = traj.pddl_params;
  const object = p.object_target.toLowerCase();
  const receptacle = type === 'look_at_obj_in_light' ? null : p.parent_target.toLowerCase();
  const toggleType = type === 'look_at_obj_in_light' ? p.toggle_target.toLowerCase() : null;
  if (!objects.some((o) => o.type === object)) throw badInput(`alfworld game ${where}: no '${object}' in the room`);
  const variant = createRng(deriveSeed(seed, 'alfworld-goal-template', where)).int(2) as 0 | 1;
  return {
    receptacles: Object.fromEntries(receptacles.map((r) => [r.id, r])),
    objects,
    at: startRec ? (names.get(startRec) as string) : null,
    holding: null,
    task: {
      type,
      object,
      receptacle,
      toggle: toggleType,
      text: goalText(type, variant, object, receptacle, toggleType),
    },
    room: where,
    rules: { affordances, canContain },
  };
}

/** Reads one game directory (`traj_data.json` + `game.tw-pddl` or `initial_state.pddl`). */
export function loadGame(dir: string, seed = 0): AlfWorldState {
  const read = (f: string) => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch (e) {
      throw badInput(
        `alfworld game '${dir}': cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  };
  const json = (text: string, f: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw badInput(`alfworld game '${dir}': ${f} is not valid JSON: ${(e as Error).message}`);
    }
  };
  const traj = json(read('traj_data.json'), 'traj_data.json');
  let problem: string;
  if (existsSync(join(dir, 'game.tw-pddl'))) {
    const g = json(read('game.tw-pddl'), 'game.tw-pddl') as { pddl_problem?: unknown };
    if (typeof g.pddl_problem !== 'string') throw badInput(`alfworld game '${dir}': game.tw-pddl has no pddl_problem`);
    problem = g.pddl_problem;
  } else {
    problem = read('initial_state.pddl');
  }
  return stateFromGame(problem, traj, dir, seed);
}

/** Game directories under `root` (any depth), sorted: those with traj_data.json and a PDDL problem. */
export function findGames(root: string): string[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw badInput(`alfworld data: '${root}' is not a directory`);
  const out: string[] = [];
  const walk = (d: string) => {
    const entries = readdirSync(d).sort();
    if (
      entries.includes('traj_data.json') &&
      (entries.includes('game.tw-pddl') || entries.includes('initial_state.pddl'))
    )
      out.push(d);
    for (const e of entries) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(root);
  if (out.length === 0)
    throw badInput(`alfworld data: no games (traj_data.json with game.tw-pddl or initial_state.pddl) under '${root}'`);
  return out;
}
