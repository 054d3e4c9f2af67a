/**
 * The learner's view of each actor process for the dashboard, `lamer status` and stall messages: connected or
 * since when gone, last seen (connect or last committed trial), the policy version its newest trial was sampled
 * with, trials/s over the last minute, its outbox depth and idle fraction (figures the actor sends in trial stats),
 * and the slots leased to it that are not filled yet. Bounded: gone actors are forgotten after an hour.
 */
import type { Trial } from '../proto/messages.js';
import type { GroupState } from './task-book.js';

export interface ActorRow {
  actorId: string;
  incarnation: string;
  connected: boolean;
  /** Seconds since the actor was last seen (connect, committed trial). */
  lastSeenSec: number;
  /** Seconds since it disconnected (absent while connected). */
  goneSec?: number;
  /** Policy version of its newest trial's last row (-1 before its first trial). */
  version: number;
  trials: number;
  trialsPerSec: number;
  /** Leased slots without a committed trial: trials it is running (or lost). */
  leased: number;
  outbox?: number;
  idleFrac?: number;
}

interface Entry {
  actorId: string;
  incarnation: string;
  connected: boolean;
  lastSeen: number;
  goneAt?: number;
  version: number;
  trials: number;
  recent: number[];
  outbox?: number;
  /** The actor's busy/uptime counters at the start of the current idle window. */
  clock?: { busy: number; up: number };
  idleFrac?: number;
}

const RATE_WINDOW_MS = 60_000;
const FORGET_MS = 3_600_000;
const IDLE_WINDOW_MS = 5000;

export class Fleet {
  private readonly actors = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  connected(c: { actorId: string; incarnation: string }): void {
    const prev = this.actors.get(c.actorId);
    const same = prev?.incarnation === c.incarnation;
    this.actors.set(c.actorId, {
      ...(same && prev ? prev : { version: -1, trials: 0, recent: [] }),
      actorId: c.actorId,
      incarnation: c.incarnation,
      connected: true,
      lastSeen: this.now(),
      goneAt: undefined,
    });
  }

  gone(c: { actorId: string; incarnation: string }): void {
    const e = this.actors.get(c.actorId);
    if (!e || e.incarnation !== c.incarnation) return;
    e.connected = false;
    e.goneAt = this.now();
  }

  trial(t: Trial): void {
    const now = this.now();
    const e = this.actors.get(t.key.actorId) ?? {
      actorId: t.key.actorId,
      incarnation: t.key.incarnation,
      connected: true,
      lastSeen: now,
      version: -1,
      trials: 0,
      recent: [],
    };
    e.lastSeen = now;
    e.trials++;
    e.recent.push(now);
    while (e.recent.length && e.recent[0] < now - RATE_WINDOW_MS) e.recent.shift();
    const last = t.rows[t.rows.length - 1];
    if (last) e.version = Math.max(e.version, last.policyVersion);
    if (t.stats.outboxDepth !== undefined) e.outbox = t.stats.outboxDepth;
    const { actorBusyMs: busy, actorUpMs: up } = t.stats;
    if (busy !== undefined && up !== undefined) {
      // Idle fraction over windows of >= 5 s of this process's cumulative counters: trials of one batch finish
      // together, so two consecutive reports can be milliseconds apart and say nothing about idleness.
      if (!e.clock || up < e.clock.up) e.clock = { busy, up };
      else if (up - e.clock.up >= IDLE_WINDOW_MS) {
        e.idleFrac = Math.max(0, Math.min(1, 1 - (busy - e.clock.busy) / (up - e.clock.up)));
        e.clock = { busy, up };
      }
    }
    this.actors.set(t.key.actorId, e);
  }

  /** The table, connected actors first, then by id; `groups` gives the leased-not-filled counts. */
  rows(groups: readonly GroupState[]): ActorRow[] {
    const now = this.now();
    const leased = new Map<string, number>();
    for (const g of groups) {
      for (const [i, lessee] of Object.entries(g.leases)) {
        if (g.slots[Number(i)] !== null) continue;
        const id = lessee.lessee.slice(0, lessee.lessee.indexOf('/'));
        leased.set(id, (leased.get(id) ?? 0) + 1);
      }
    }
    const out: ActorRow[] = [];
    for (const [id, e] of this.actors) {
      if (!e.connected && e.goneAt !== undefined && now - e.goneAt > FORGET_MS) {
        this.actors.delete(id);
        continue;
      }
      const recent = e.recent.filter((t) => t >= now - RATE_WINDOW_MS).length;
      out.push({
        actorId: id,
        incarnation: e.incarnation,
        connected: e.connected,
        lastSeenSec: (now - e.lastSeen) / 1000,
        ...(e.goneAt !== undefined && !e.connected ? { goneSec: (now - e.goneAt) / 1000 } : {}),
        version: e.version,
        trials: e.trials,
        trialsPerSec: recent / (RATE_WINDOW_MS / 1000),
        leased: leased.get(id) ?? 0,
        ...(e.outbox !== undefined ? { outbox: e.outbox } : {}),
        ...(e.idleFrac !== undefined ? { idleFrac: e.idleFrac } : {}),
      });
    }
    return out.sort((a, b) => Number(b.connected) - Number(a.connected) || a.actorId.localeCompare(b.actorId));
  }
}
