/**
 * Staleness admission control (docs/design.md §3, after AReaL): a new task group may start only while
 *   accepted + running ≤ (η + v + 1)·B
 * still holds after starting it; v = current policy version (updates done), B = groups per update,
 * accepted = groups accepted for training since the run started (cumulative, including those already trained on),
 * running = groups leased and not yet accepted. η = 0 is the synchronous baseline: the B groups of update v all
 * start at version v and nothing new starts until that update is done.
 *
 * Bound: a group that starts at version v_s is among the first (η + v_s + 1)·B groups ever started, so if the
 * trainer consumes groups in start order it trains on it at version ≤ v_s + η. Groups that finish out of order
 * can be overtaken by later ones; the learner's max policy lag (drop rows older than that) bounds those stragglers.
 */
import { badInput } from '../errors.js';

export interface AdmissionState {
  /** Groups accepted for training since the start (cumulative). */
  accepted: number;
  /** Groups started (leased) and not yet accepted. */
  running: number;
  /** Current policy version v (number of updates applied). */
  version: number;
  /** Maximum staleness η in policy versions (0 = synchronous). */
  eta: number;
  /** Groups per update B. */
  groupsPerUpdate: number;
  /** Optional cap on concurrently running groups (actor capacity). */
  maxRunning?: number;
}

function nonNegativeInt(name: string, v: number, min = 0): void {
  if (!Number.isInteger(v) || v < min) throw badInput(`admission: ${name} must be an integer >= ${min}, got ${v}`);
}

/** (η + v + 1)·B: how many groups may have been started in total at version v. */
export function admissionCap(version: number, eta: number, groupsPerUpdate: number): number {
  return (eta + version + 1) * groupsPerUpdate;
}

/** How many new groups may start now (≥ 0). */
export function groupsThatMayStart(s: AdmissionState): number {
  nonNegativeInt('accepted', s.accepted);
  nonNegativeInt('running', s.running);
  nonNegativeInt('version', s.version);
  nonNegativeInt('eta', s.eta);
  nonNegativeInt('groupsPerUpdate', s.groupsPerUpdate, 1);
  let n = admissionCap(s.version, s.eta, s.groupsPerUpdate) - s.accepted - s.running;
  if (s.maxRunning !== undefined) {
    nonNegativeInt('maxRunning', s.maxRunning, 1);
    n = Math.min(n, s.maxRunning - s.running);
  }
  return Math.max(0, n);
}
