/**
 * The state of one ALFWorld household: receptacles (each its own location, as in ALFWorld's TextWorld games),
 * objects with their location and ALFRED state flags, the agent's location (null = the middle of the room) and
 * what it holds. Plain data: `structuredClone` copies it, which is how `restart()` restores the initial state.
 */
import type { Task } from './tasks.js';

export interface ReceptacleState {
  /** Name with number, e.g. 'cabinet 3'. */
  id: string;
  type: string;
  openable: boolean;
  opened: boolean;
}

export interface ObjectState {
  /** Name with number, e.g. 'apple 1'. */
  id: string;
  type: string;
  /** Receptacle id it is in/on; null while held. */
  loc: string | null;
  clean: boolean;
  hot: boolean;
  cool: boolean;
  sliced: boolean;
  /** Lamps: switched on (ALFWorld's isToggled, which stays set once used). */
  on: boolean;
}

/**
 * Affordances and containment stated by a loaded game (its PDDL facts). Generated households leave this unset
 * and use the vocabulary's tables (world.ts).
 */
export interface AlfWorldRules {
  /** Object id → what can be done with it. */
  affordances: Record<string, Affordances>;
  /** Receptacle type → object types it can hold (`canContain`). */
  canContain: Record<string, string[]>;
}

export interface Affordances {
  pickupable: boolean;
  cleanable: boolean;
  heatable: boolean;
  coolable: boolean;
  sliceable: boolean;
  /** Toggleable light source. */
  light: boolean;
}

export interface AlfWorldState {
  /** Receptacles by id, in the order the room lists them. */
  receptacles: Record<string, ReceptacleState>;
  objects: ObjectState[];
  /** Receptacle the agent stands at, or null in the middle of the room. */
  at: string | null;
  holding: string | null;
  task: Task;
  /** Room kind the household was generated from (or the game's path when loaded). */
  room: string;
  /** Set for loaded games only. */
  rules?: AlfWorldRules;
}
