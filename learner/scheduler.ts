/**
 * Who runs which trial: leases of task-group slots to actor incarnations, and the admission rule that bounds
 * staleness. Async mode answers actors' lease requests; sync mode pushes lockstep cohorts. Both hand out new
 * train groups only through the same admission rule (docs/design.md §3), so the synchronous baseline is simply
 * η = 0: at version v exactly B groups may exist beyond the v·B already trained.
 * Also owns the lessee lifecycle: a new incarnation releases its predecessor's slots, a disconnected actor gets a
 * grace period before its slots are re-leased, a rejected trial's slot re-opens at once, and a lease not delivered
 * within `learner.leaseTimeoutSec` is taken back (an actor that stays connected but never delivers cannot stall
 * training).
 */
import type { Lease, Trial, TrialOptions } from '../proto/messages.js';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { groupsThatMayStart } from '../shared/rl/admission.js';
import type { ActorConnection } from './server.js';
import type { AdmissionFn, GroupKind, LeaseGrant, TaskBook } from './task-book.js';

export interface SchedulerOptions {
  config: Config;
  book: TaskBook;
  logger: Logger;
  /** The learner's current policy version. */
  version(): number;
  /** Whether new train groups may start (false once the budget is spent: only evaluation slots go out). */
  acceptingNewGroups(): boolean;
  connections(): readonly ActorConnection[];
  connection(actorId: string): ActorConnection | undefined;
  /** Something changed that the main loop may be waiting for. */
  onChange(): void;
}

export const lesseeOf = (conn: Pick<ActorConnection, 'actorId' | 'incarnation'>): string =>
  `${conn.actorId}/${conn.incarnation}`;

export class Scheduler {
  /** Lessees that disconnected: release their leases unless they come back with the same incarnation. */
  private readonly goneTimers = new Map<string, NodeJS.Timeout>();
  private syncCohort = 0;
  private leaseTimer: NodeJS.Timeout | null = null;
  /** Leases taken back by expiry in this process. */
  private expired = 0;

  constructor(private readonly o: SchedulerOptions) {
    const leaseSec = o.config.learner.leaseTimeoutSec;
    if (leaseSec > 0) {
      this.leaseTimer = setInterval(() => this.expireLeases(), Math.min(5000, leaseSec * 250));
      this.leaseTimer.unref();
    }
  }

  get leasesExpired(): number {
    return this.expired;
  }

  /** Takes back leases not delivered within `learner.leaseTimeoutSec`; their slots are leased again. */
  expireLeases(): void {
    const revoked = this.o.book.expire(this.cfg.learner.leaseTimeoutSec * 1000);
    if (revoked.length === 0) return;
    this.expired += revoked.length;
    const now = Date.now();
    for (const l of revoked) {
      this.o.logger.warn(
        {
          lessee: l.lessee,
          leaseId: l.leaseId,
          groupId: l.groupId,
          trialIndex: l.trialIndex,
          ageSec: Math.round((now - l.at) / 1000),
        },
        'lease expired: the slot is leased again',
      );
    }
    this.o.onChange();
  }

  private get cfg(): Config {
    return this.o.config;
  }

  /** The admission rule of docs/design.md §3 with this run's B, and η (0 in sync mode: that is what lockstep means). */
  readonly admission: AdmissionFn = (a) =>
    groupsThatMayStart({
      ...a,
      eta: this.cfg.run.mode === 'sync' ? 0 : this.cfg.algo.eta,
      groupsPerUpdate: this.cfg.algo.groupsPerUpdate,
    });

  onReady(conn: ActorConnection): void {
    const id = lesseeOf(conn);
    const t = this.goneTimers.get(id);
    if (t) {
      clearTimeout(t);
      this.goneTimers.delete(id);
    }
    // A new incarnation of this actor id: the old process is dead, its unfinished slots go back to the pool.
    const released = this.o.book.release((l) => l.startsWith(`${conn.actorId}/`) && l !== id);
    if (released) this.o.logger.info({ actorId: conn.actorId, released }, 'released slots of a previous incarnation');
    if (this.cfg.run.mode === 'sync') this.o.onChange();
  }

  /**
   * A rejected trial will never fill its slot: hand the slot out again instead of waiting for the actor to leave.
   * Only the slot of the lease the record names, held by the incarnation that numbered it, is released.
   */
  onRejected(
    t: Pick<Trial, 'groupId' | 'trialIndex' | 'leaseId' | 'key'>,
    reason: string,
    conn: ActorConnection,
  ): void {
    if (!this.o.book.releaseSlot(t.groupId, t.trialIndex, `${t.key.actorId}/${t.key.incarnation}`, t.leaseId)) return;
    this.o.logger.info(
      { actorId: conn.actorId, groupId: t.groupId, trialIndex: t.trialIndex, reason },
      're-opened the slot of a rejected trial',
    );
    this.o.onChange();
  }

  onGone(conn: ActorConnection): void {
    const id = lesseeOf(conn);
    if (this.goneTimers.has(id)) return;
    // Give a briefly disconnected actor (same process) time to come back before its slots are re-leased.
    const t = setTimeout(
      () => {
        this.goneTimers.delete(id);
        if (this.o.connection(conn.actorId)?.incarnation === conn.incarnation) return;
        const n = this.o.book.release((l) => l === id);
        if (n) this.o.logger.info({ lessee: id, released: n }, 'released slots of a disconnected actor');
        this.o.onChange();
      },
      Math.max(3 * this.cfg.learner.heartbeatMs, 2000),
    );
    t.unref();
    this.goneTimers.set(id, t);
  }

  /** Async mode: an actor asks for up to `want` leases. */
  onLeaseRequest(conn: ActorConnection, want: number): void {
    if (this.cfg.run.mode === 'sync') return; // sync mode pushes cohorts
    const grants = this.o.book.grant(
      lesseeOf(conn),
      want,
      this.o.version(),
      this.admission,
      this.o.acceptingNewGroups(),
    );
    for (const g of grants) conn.send(this.leaseMessage(g));
  }

  /**
   * Sync mode: hands every open slot of `kind` groups (and, for train, every new group the admission rule allows)
   * to the connected actors round-robin, one lockstep cohort per actor.
   */
  pushCohorts(kind: GroupKind): void {
    const conns = this.o.connections();
    if (conns.length === 0) return;
    const perActor = new Map<ActorConnection, LeaseGrant[]>();
    let i = 0;
    for (;;) {
      const c = conns[i++ % conns.length];
      const g = this.o.book
        .grant(lesseeOf(c), 1, this.o.version(), this.admission, kind === 'train')
        .filter((x) => x.kind === kind);
      if (g.length === 0) break;
      perActor.set(c, [...(perActor.get(c) ?? []), ...g]);
    }
    for (const [c, grants] of perActor) {
      const cohort = { id: `c${this.syncCohort++}`, size: grants.length };
      for (const g of grants) c.send(this.leaseMessage(g, cohort));
    }
  }

  close(): void {
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    for (const t of this.goneTimers.values()) clearTimeout(t);
    this.goneTimers.clear();
  }

  private trialOptions(kind: GroupKind, cohort?: { id: string; size: number }): TrialOptions {
    const c = this.cfg;
    return {
      template: c.env.template,
      maxTurns: c.env.maxTurns,
      reflect: c.env.reflect,
      temperature: kind === 'eval' ? c.sampling.evalTemperature : c.sampling.temperature,
      topP: kind === 'eval' ? c.sampling.evalTopP : c.sampling.topP,
      maxActionTokens: c.sampling.maxActionTokens,
      maxReflectTokens: c.sampling.maxReflectTokens,
      ...(cohort ? { cohort: cohort.id, cohortSize: cohort.size } : {}),
    };
  }

  private leaseMessage(g: LeaseGrant, cohort?: { id: string; size: number }): Lease {
    return {
      type: 'lease',
      leaseId: g.leaseId,
      groupId: g.groupId,
      envId: this.cfg.env.id,
      taskSeed: g.taskSeed,
      groupSize: g.groupSize,
      attempts: g.attempts,
      mode: g.kind,
      memory: this.cfg.env.memory,
      trialIndices: g.trialIndices,
      policyVersionAtLease: g.policyVersion,
      envOptions: this.cfg.env.options as Lease['envOptions'],
      trial: this.trialOptions(g.kind, cohort),
    };
  }
}
