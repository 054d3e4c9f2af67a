/**
 * The learner's task stream and group bookkeeping: which task groups exist, which trial slots are leased to
 * which actor incarnation, which are filled by a committed trial, and which groups are ready to train.
 * A group is trained only when every slot is filled: a slot whose actor died, or whose lease expired, is re-leased
 * (same task seed, fresh env), never dropped, so a group is never trained on silently shrunk (docs/design.md §2.6).
 * A delivered trial fills a slot only if that slot is leased to the delivering actor incarnation under the lease
 * it names, with the lease's task seed, attempts and mode ({@link TaskBook.checkDelivery}).
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
  /** trialIndex → the lease on it. */
  leases: Record<number, SlotLease>;
  /** Slots waiting for a new lessee (never leased, or their lessee died). */
  open: number[];
  leasedAtVersion: number;
}

export interface SlotLease {
  /** "actorId/incarnation" holding the lease. */
  lessee: string;
  leaseId: string;
  /** Wall-clock ms of the grant (lease expiry counts from it). */
  at: number;
}

/** A lease taken back from its lessee (expired). */
export interface RevokedLease extends SlotLease {
  groupId: string;
  trialIndex: number;
}

/** What a delivered trial claims about its slot (the fields of a trial record that name it). */
export interface Delivery {
  groupId: string;
  trialIndex: number;
  leaseId: string;
  taskSeed: number;
  attempts: number;
  mode: GroupKind;
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
  /** Wall clock for lease times (tests). */
  now?: () => number;
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

  private readonly now: () => number;

  constructor(
    private readonly opts: TaskBookOptions,
    state?: TaskBookState,
  ) {
    this.state = state ? structuredClone(state) : { nextIndex: 0, nextLease: 0, groups: [], trainedGroups: 0 };
    this.now = opts.now ?? Date.now;
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

  /** Opens the fixed validation groups for `version` (group size 1, evalAttempts episodes). */
  openEvalRound(version: number): void {
    for (let i = 0; i < this.opts.evalTasks; i++) {
      this.state.groups.push({
        groupId: `eval-v${version}-${i}`,
        kind: 'eval',
        index: i,
        taskSeed: evalTaskSeed(this.opts.evalSeed ?? this.opts.seed, i),
        groupSize: 1,
        attempts: this.opts.evalAttempts,
        evalVersion: version,
        slots: [null],
        leases: {},
        open: [0],
        leasedAtVersion: version,
      });
    }
  }

  /**
   * Grants up to `want` leases to one actor: first open slots of existing groups (eval first, then re-leases
   * of orphaned train slots), then new train groups as far as admission allows.
   */
  grant(lessee: string, want: number, version: number, admission: AdmissionFn, allowNewTrain = true): LeaseGrant[] {
    const grants: LeaseGrant[] = [];
    const give = (g: GroupState) => {
      const idx = g.open.splice(0, g.open.length);
      const leaseId = `L${this.state.nextLease++}`;
      const at = this.now();
      for (const i of idx) g.leases[i] = { lessee, leaseId, at };
      grants.push({
        leaseId,
        groupId: g.groupId,
        kind: g.kind,
        taskSeed: g.taskSeed,
        groupSize: g.groupSize,
        attempts: g.attempts,
        trialIndices: idx,
        policyVersion: version,
      });
    };
    const ordered = [
      ...this.state.groups.filter((g) => g.kind === 'eval'),
      ...this.state.groups.filter((g) => g.kind === 'train'),
    ];
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
   * Re-creates train group `g<index>` if a ledgered record for it is replayed that this book does not know: after a
   * learner restart from a checkpoint, groups leased after that checkpoint are reconstructed from the deterministic
   * task stream (the index fixes the seed), so their committed trials are trained instead of discarded. Only up to
   * `maxAhead` groups past the task-stream position: no earlier learner could have leased further, and a record
   * naming a group beyond (a forged index) must not make the book allocate every group up to it. Returns 'known'
   * (open now), 'gone' (consumed, an eval group of an earlier round, or no train group id: its record is surplus)
   * or 'refused' (beyond the window).
   */
  adopt(groupId: string, maxAhead: number): 'known' | 'gone' | 'refused' {
    if (this.state.groups.some((g) => g.groupId === groupId)) return 'known';
    const m = /^g(\d+)$/.exec(groupId);
    if (!m) return 'gone';
    const index = Number(m[1]);
    if (index < this.state.nextIndex) return 'gone';
    if (!(index < this.state.nextIndex + maxAhead)) return 'refused';
    while (this.state.nextIndex <= index) this.state.groups.push(this.newTrainGroup(this.state.nextIndex++, -1));
    return 'known';
  }

  /**
   * Why a delivered trial may not fill the slot it names, or null if it may: the group must be open in this book,
   * the slot unfilled and leased to `lessee` ("actorId/incarnation" of the record's key) under the record's lease
   * id, and the record must be for the lease's task (seed, attempts, train or eval). A late delivery for a revoked
   * or re-leased slot, a forged slot, or a group that was never opened is refused here, before the ledger.
   */
  checkDelivery(d: Delivery, lessee: string): string | null {
    const g = this.state.groups.find((x) => x.groupId === d.groupId);
    if (!g)
      return `group ${d.groupId} is not open on this learner (consumed, never leased, or leased before a restart)`;
    if (d.trialIndex >= g.groupSize)
      return `trialIndex ${d.trialIndex} is outside group ${d.groupId} of ${g.groupSize}`;
    if (g.slots[d.trialIndex] !== null) return `slot ${d.groupId}/${d.trialIndex} is already filled`;
    const lease = g.leases[d.trialIndex];
    if (!lease || lease.lessee !== lessee || lease.leaseId !== d.leaseId) {
      return (
        `slot ${d.groupId}/${d.trialIndex} is not leased to ${lessee} ` +
        `under ${d.leaseId} (expired, revoked or never granted)`
      );
    }
    if (d.taskSeed !== g.taskSeed) return `taskSeed ${d.taskSeed} is not the seed ${g.taskSeed} of group ${d.groupId}`;
    if (d.attempts !== g.attempts) return `attempts ${d.attempts} is not the ${g.attempts} of group ${d.groupId}`;
    if (d.mode !== g.kind) return `mode ${d.mode} is not the ${g.kind} of group ${d.groupId}`;
    return null;
  }

  /** Takes back every lease granted `maxAgeMs` or longer ago whose slot is still unfilled, and re-opens the slot. */
  expire(maxAgeMs: number): RevokedLease[] {
    const cutoff = this.now() - maxAgeMs;
    const out: RevokedLease[] = [];
    for (const g of this.state.groups) {
      for (const [i, l] of Object.entries(g.leases)) {
        if (l.at > cutoff) continue;
        if (this.unlease(g, Number(i))) out.push({ ...l, groupId: g.groupId, trialIndex: Number(i) });
      }
    }
    return out;
  }

  /** Empties a filled slot whose record turned out unusable (quarantined): it is leased again. */
  unfill(groupId: string, trialIndex: number): boolean {
    const g = this.state.groups.find((x) => x.groupId === groupId);
    if (!g || g.slots[trialIndex] == null) return false;
    g.slots[trialIndex] = null;
    return this.unlease(g, trialIndex);
  }

  private newTrainGroup(index: number, version: number): GroupState {
    return {
      groupId: `g${index}`,
      kind: 'train',
      index,
      taskSeed: trainTaskSeed(this.opts.seed, index),
      groupSize: this.opts.groupSize,
      attempts: this.opts.attempts,
      slots: new Array(this.opts.groupSize).fill(null),
      leases: {},
      open: Array.from({ length: this.opts.groupSize }, (_, i) => i),
      leasedAtVersion: version,
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
      for (const [i, l] of Object.entries(g.leases)) if (lessee(l.lessee) && this.unlease(g, Number(i))) n++;
    }
    return n;
  }

  /**
   * Re-opens one slot if it is still unfilled and leased to `lessee` under `leaseId` (its lessee's record for it was
   * rejected, so no record for it will come). A rejected record that names another lease (a forgery, a stale
   * retry) releases nothing: the real lessee may still deliver. Returns whether it re-opened the slot.
   */
  releaseSlot(groupId: string, trialIndex: number, lessee: string, leaseId: string): boolean {
    const g = this.state.groups.find((x) => x.groupId === groupId);
    const l = g?.leases[trialIndex];
    return g !== undefined && l?.lessee === lessee && l.leaseId === leaseId && this.unlease(g, trialIndex);
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
    for (const g of this.state.groups)
      for (const s of g.slots) if (s && (min === null || s.offset < min)) min = s.offset;
    return min;
  }
}
