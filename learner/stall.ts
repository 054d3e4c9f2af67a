/**
 * Stall diagnosis. The learner's waiting stages (the trainer loop collecting groups, the evaluator filling its
 * round, the trainer worker running an update) tell the watch what they wait on; committed trials, updates and
 * finished evaluations count as progress. When the stage now waiting has seen no progress for `stallSec`, the
 * watch explains it in one line — which component waits on what, and the state of the actors it waits for —
 * e.g. "learner waiting 45 s for 2 train groups (3/8 trials); 3 actors connected, 0 trials in flight: actor a2
 * last seen 40 s ago". The same text goes to the log (once per stall), the progress line, the dashboard and
 * `lamer status`.
 */
import type { ActorRow } from './fleet.js';

export type Stage = 'learner' | 'evaluator' | 'trainer';

/** What a waiting component reports each time it (re)checks. */
export interface Waiting {
  stage: Stage;
  /** e.g. "2 train groups (3/8 trials)". */
  what: string;
}

/** Where components report; the trainer loop and evaluator take it as an optional hook. */
export interface StageReporter {
  waiting(w: Waiting): void;
  /** The stage got what it waited for. */
  done(stage: Stage): void;
}

export interface Stall {
  stage: Stage;
  waitingSec: number;
  quietSec: number;
  message: string;
}

export class StallWatch implements StageReporter {
  private current: (Waiting & { since: number }) | null = null;
  private lastProgress: number;
  private reported: number | null = null;

  constructor(private readonly o: { stallSec: number; actors(): ActorRow[]; now?: () => number }) {
    this.lastProgress = this.now();
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  waiting(w: Waiting): void {
    if (this.current?.stage === w.stage) this.current.what = w.what;
    else this.current = { ...w, since: this.now() };
  }

  /** Something moved (a trial committed, an update or an evaluation finished): the current wait is not a stall. */
  progressed(): void {
    this.lastProgress = this.now();
  }

  /** The wait ended (the stage got what it waited for). */
  done(stage: Stage): void {
    if (this.current?.stage === stage) this.current = null;
    this.progressed();
  }

  /** The current stall, or null while the waiting stage still sees progress (or nothing waits). */
  check(): Stall | null {
    const c = this.current;
    if (!c) return null;
    const now = this.now();
    const quiet = (now - Math.max(this.lastProgress, c.since)) / 1000;
    if (quiet < this.o.stallSec) return null;
    const waitingSec = (now - c.since) / 1000;
    return {
      stage: c.stage,
      waitingSec,
      quietSec: quiet,
      message: `${describeWait(c, waitingSec)}; ${describeActors(this.o.actors())}`,
    };
  }

  /** The stall if it is new since the last call (for a log line once per stall). */
  newStall(): Stall | null {
    const s = this.check();
    if (!s) {
      this.reported = null;
      return null;
    }
    const key = this.current!.since;
    if (this.reported === key) return null;
    this.reported = key;
    return s;
  }
}

const secs = (s: number) => `${Math.round(s)} s`;

function describeWait(w: Waiting, sec: number): string {
  if (w.stage === 'trainer') return `trainer worker busy ${secs(sec)} on ${w.what}`;
  return `${w.stage} waiting ${secs(sec)} for ${w.what}`;
}

/** "3 actors connected, 2 trials in flight: actor a2 last seen 40 s ago (2 leased), actor a1 disconnected 5 s ago". */
export function describeActors(rows: readonly ActorRow[]): string {
  const live = rows.filter((r) => r.connected);
  const inFlight = rows.reduce((a, r) => a + r.leased, 0);
  const head =
    `${live.length} actor${live.length === 1 ? '' : 's'} ` +
    `connected, ${inFlight} trial${inFlight === 1 ? '' : 's'} in flight`;
  if (rows.length === 0) return `${head}: no actor has connected yet (start one with \`lamer actor\`)`;
  // The most suspicious first: gone actors still holding leases, then the longest silent.
  const ranked = [...rows]
    .sort((a, b) => Number(a.connected) - Number(b.connected) || b.lastSeenSec - a.lastSeenSec)
    .slice(0, 4);
  const parts = ranked.map((r) => {
    const held = r.leased > 0 ? ` (${r.leased} leased)` : '';
    return r.connected
      ? `actor ${r.actorId} last seen ${secs(r.lastSeenSec)} ago${held}`
      : `actor ${r.actorId} disconnected ${secs(r.goneSec ?? 0)} ago${held}`;
  });
  return `${head}: ${parts.join(', ')}`;
}
