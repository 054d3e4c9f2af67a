/**
 * The learner's task stream and group bookkeeping: which task groups exist, which trial slots are leased to
 * which actor incarnation, which are filled by a committed trial, and which groups are ready to train.
 * A group is trained only when every slot is filled: a slot whose actor died is re-leased (same task seed,
 * fresh env), never dropped, so a group is never trained on silently shrunk (docs/design.md §2.6).
 */
import { deriveSeed } from '../shared/rng.js';

export type GroupKind = 'train' | 'eval';

export interface SlotFill {
  /** Ledger offset of the committed record that fills the slot. */
  offset: number;
  actorId: string;
}

export interface GroupState {
  groupId: string;
  kind: GroupKind;
  index: number;
  taskSeed: number;
  groupSize: number;
  attempts: number;
  /** Eval groups: the policy version being evaluated. */
  evalVersion?: number;
  slots: Array<SlotFill | null>;
  /** trialIndex → "actorId/incarnation" holding the lease. */
  leases: Record<number, string>;
  /** Slots waiting for a new lessee (never leased, or their lessee died). */
  open: number[];
  leasedAtVersion: number;
}

export interface LeaseGrant {
  leaseId: string;
  groupId: string;
  kind: GroupKind;
  taskSeed: number;
  groupSize: number;
  attempts: number;
  trialIndices: number[];
  policyVersion: number;
}

export interface TaskBookOptions {
  seed: number;
  groupSize: number;
  attempts: number;
  /** Seeds are drawn from [0, 2^16) for training and [2^16, 2^31) for validation (docs/method.md §6.1). */
  evalTasks: number;
  evalAttempts: number;
  /** Seed of the validation task list (default `seed`). */
  evalSeed?: number;
}

export interface TaskBookState {
  nextIndex: number;
  nextLease: number;
  groups: GroupState[];
  trainedGroups: number;
}

export type AdmissionFn = (a: { accepted: number; running: number; version: number }) => number;

const TRAIN_SEED_SPACE = 2 ** 16;

export function trainTaskSeed(runSeed: number, index: number): number {
  return deriveSeed(runSeed, 'train-task', index) % TRAIN_SEED_SPACE;
}

/** The fixed validation list: the same seeds at every evaluation of a run (docs/method.md §9). */
export function evalTaskSeed(runSeed: number, index: number): number {
  return TRAIN_SEED_SPACE + (deriveSeed(runSeed, 'eval-task', index) % (2 ** 31 - TRAIN_SEED_SPACE));
}

export class TaskBook {
  private state: TaskBookState;

  constructor(private readonly opts: TaskBookOptions, state?: TaskBookState) {
    this.state = state ? structuredClone(state) : { nextIndex: 0, nextLease: 0, groups: [], trainedGroups: 0 };
  }

  snapshot(): TaskBookState {
    return structuredClone(this.state);
  }

  get groups(): readonly GroupState[] {
    return this.state.groups;
  }

  get trainedGroups(): number {
    return this.state.trainedGroups;
  }

  /** Groups started or finished but not yet consumed by the trainer ("running + accepted" of the admission rule). */
  inFlightTrainGroups(): number {
    return this.state.groups.filter((g) => g.kind === 'train').length;
  }

  /** Opens the fixed validation groups for `version` (group size 1, evalAttempts episodes). */
  openEvalRound(version: number): void {
    for (let i = 0; i < this.opts.evalTasks; i++) {
      this.state.groups.push({
        groupId: `eval-v${version}-${i}`, kind: 'eval', index: i, taskSeed: evalTaskSeed(this.opts.evalSeed ?? this.opts.seed, i),
        groupSize: 1, attempts: this.opts.evalAttempts, evalVersion: version, slots: [null], leases: {}, open: [0],
        leasedAtVersion: version,
      });
    }
  }

  /** True while an eval round for `version` has unfinished groups. */
  evalPending(version?: number): boolean {
    return this.state.groups.some((g) => g.kind === 'eval' && (version === undefined || g.evalVersion === version));
  }

  /**
   * Grants up to `want` leases to one actor: first open slots of existing groups (eval first, then re-leases
   * of orphaned train slots), then new train groups as far as admission allows.
   */
  grant(lessee: string, want: number, version: number, admission: AdmissionFn, allowNewTrain = true): LeaseGrant[] {
    const grants: LeaseGrant[] = [];
    const give = (g: GroupState) => {
      const idx = g.open.splice(0, g.open.length);
      for (const i of idx) g.leases[i] = lessee;
      grants.push({
        leaseId: `L${this.state.nextLease++}`, groupId: g.groupId, kind: g.kind, taskSeed: g.taskSeed,
        groupSize: g.groupSize, attempts: g.attempts, trialIndices: idx, policyVersion: version,
      });
    };
    const ordered = [...this.state.groups.filter((g) => g.kind === 'eval'), ...this.state.groups.filter((g) => g.kind === 'train')];
    for (const g of ordered) {
      if (grants.length >= want) break;
      if (g.open.length > 0) give(g);
    }
    while (allowNewTrain && grants.length < want) {
      const running = this.state.groups.filter((g) => g.kind === 'train').length;
      if (admission({ accepted: this.state.trainedGroups, running, version }) <= 0) break;
      const g = this.newTrainGroup(this.state.nextIndex++, version);
      this.state.groups.push(g);
      give(g);
    }
    return grants;
  }

  /**
   * Re-creates train group `g<index>` if a record for it arrives that this book does not know: after a learner
   * restart from a checkpoint, groups leased after that checkpoint are reconstructed from the deterministic task
   * stream (the index fixes the seed), so their committed trials are trained instead of discarded.
   */
  adopt(groupId: string): void {
    const m = /^g(\d+)$/.exec(groupId);
    if (!m || this.state.groups.some((g) => g.groupId === groupId)) return;
    const index = Number(m[1]);
    while (this.state.nextIndex <= index) this.state.groups.push(this.newTrainGroup(this.state.nextIndex++, -1));
  }

  private newTrainGroup(index: number, version: number): GroupState {
    return {
      groupId: `g${index}`, kind: 'train', index, taskSeed: trainTaskSeed(this.opts.seed, index),
      groupSize: this.opts.groupSize, attempts: this.opts.attempts, slots: new Array(this.opts.groupSize).fill(null),
      leases: {}, open: Array.from({ length: this.opts.groupSize }, (_, i) => i), leasedAtVersion: version,
    };
  }

  /**
   * Records a committed trial in its slot. Returns 'filled', or 'surplus' when the slot was already filled (a
   * re-leased slot whose first lessee delivered after all) or the group is unknown/consumed — surplus trials
   * stay in the ledger but are not trained, so nothing is counted twice.
   */
  fill(groupId: string, trialIndex: number, fillWith: SlotFill): 'filled' | 'surplus' {
    const g = this.state.groups.find((x) => x.groupId === groupId);
    if (!g || trialIndex < 0 || trialIndex >= g.groupSize || g.slots[trialIndex] !== null) return 'surplus';
    g.slots[trialIndex] = fillWith;
    delete g.leases[trialIndex];
    g.open = g.open.filter((i) => i !== trialIndex);
    return 'filled';
  }

  /** Re-opens every unfilled slot leased to `lessee` (its process died or its lease timed out). */
  release(lessee: (l: string) => boolean): number {
    let n = 0;
    for (const g of this.state.groups) {
      for (const [i, l] of Object.entries(g.leases)) if (lessee(l) && this.unlease(g, Number(i))) n++;
    }
    return n;
  }

  /**
   * Re-opens one slot if it is still unfilled and leased to `lessee` (its trial was rejected, so no record for it
   * will come). Returns whether it did.
   */
  releaseSlot(groupId: string, trialIndex: number, lessee: string): boolean {
    const g = this.state.groups.find((x) => x.groupId === groupId);
    return g !== undefined && g.leases[trialIndex] === lessee && this.unlease(g, trialIndex);
  }

  /** Drops a slot's lease; an unfilled slot goes back to `open` (kept sorted). Returns whether it re-opened. */
  private unlease(g: GroupState, idx: number): boolean {
    delete g.leases[idx];
    if (g.slots[idx] !== null || g.open.includes(idx)) return false;
    g.open.push(idx);
    g.open.sort((a, b) => a - b);
    return true;
  }

  /** After a learner restart nobody holds a lease we know of: every unfilled slot is open again. */
  reopenAll(): void {
    for (const g of this.state.groups) {
      g.leases = {};
      g.open = g.slots.flatMap((s, i) => (s === null ? [i] : []));
    }
  }

  ready(kind: GroupKind): GroupState[] {
    return this.state.groups.filter((g) => g.kind === kind && g.slots.every((s) => s !== null));
  }

  /** Removes consumed groups; train groups count toward `accepted` of the admission rule. */
  consume(groupIds: string[]): void {
    const ids = new Set(groupIds);
    for (const g of this.state.groups) if (ids.has(g.groupId) && g.kind === 'train') this.state.trainedGroups++;
    this.state.groups = this.state.groups.filter((g) => !ids.has(g.groupId));
  }

  /** Smallest ledger offset still needed (records of groups not yet consumed), for replay after a restart. */
  minLiveOffset(): number | null {
    let min: number | null = null;
    for (const g of this.state.groups) for (const s of g.slots) if (s && (min === null || s.offset < min)) min = s.offset;
    return min;
  }
}
