/**
 * From committed records to task groups: every committed trial is filed into its slot of the task book and kept
 * decoded until its group is consumed (by the trainer or the evaluator). After a restart, `replay` re-reads the
 * ledger: records of groups still live are reloaded, and records committed after the checkpoint (acked, not yet
 * trained) are applied again. Defence in depth: a ledgered record the trainer cannot use (it does not decode, breaks
 * the ingest rules with this model's shape, or names a group no learner of this run could have opened) is moved to
 * the quarantine (learner/quarantine.ts) and its slot leased again; quarantined offsets are skipped on later starts.
 */
import { decodeTrial, encode } from '../proto/codec.js';
import { validateTrial, type Trial } from '../proto/messages.js';
import { fromWireRows } from '../proto/rows.js';
import type { Logger } from '../shared/logger.js';
import type { Group } from '../shared/rl/types.js';
import type { Ledger } from './ledger.js';
import type { Quarantine } from './quarantine.js';
import type { LearnerState } from './run-state.js';
import type { GroupState, TaskBook } from './task-book.js';
import type { RecordedRow } from './update.js';

/** Trial rows decoded from the wire into the learner's arrays (proto/rows.ts). */
export function rowsOf(t: Trial): RecordedRow[] {
  return fromWireRows(t);
}

export interface IngestOptions {
  book: TaskBook;
  quarantine: Quarantine;
  /** The trainer's model: records must fit it. */
  modelShape: { vocabSize: number; contextLength: number };
  /** Groups an earlier learner process may have opened past the checkpoint's task-stream position. */
  adoptWindow: number;
  counters: LearnerState['counters'];
  logger: Logger;
  /** A live (not replayed) trial was committed: throughput statistics. */
  onLiveTrial?(t: Trial): void;
  /** A slot was filled: a group may have become ready. */
  onSlotFilled?(): void;
}

export class Ingest {
  /** Decoded trials of live groups: groupId -> slot -> trial. */
  private readonly live = new Map<string, Map<number, { trial: Trial; rows: RecordedRow[] }>>();

  constructor(private readonly o: IngestOptions) {}

  /** Files a committed record into its slot (a surplus record stays in the ledger and is counted, not trained). */
  commit(t: Trial, offset: number, replay = false): void {
    this.o.counters.trialsCommitted++;
    if (!replay) this.o.onLiveTrial?.(t);
    const r = this.o.book.fill(t.groupId, t.trialIndex, { offset, actorId: t.key.actorId });
    if (r === 'surplus') {
      this.o.counters.surplus++;
      return;
    }
    this.keep(t.groupId, t.trialIndex, t);
    this.o.onSlotFilled?.();
  }

  /** Re-reads the ledger from the oldest record still needed; returns the ledger's end offset. */
  async replay(ledger: Ledger, ledgerOffset: number): Promise<number> {
    const { book, quarantine } = this.o;
    const live = new Map<number, { groupId: string; slot: number }>();
    for (const g of book.groups) g.slots.forEach((s, i) => s && live.set(s.offset, { groupId: g.groupId, slot: i }));
    const from = Math.min(book.minLiveOffset() ?? ledgerOffset, ledgerOffset);
    let replayed = 0;
    for await (const rec of ledger.iterate(from)) {
      const ref = live.get(rec.offset);
      if (!ref && rec.offset < ledgerOffset) continue; // trained or surplus before the checkpoint
      if (quarantine.has(rec.offset)) {
        if (ref) book.unfill(ref.groupId, ref.slot);
        continue;
      }
      const d = decodeTrial(rec.bytes);
      let problem = d.ok ? validateTrial(d.trial, this.o.modelShape) : `does not decode: ${d.reason}`;
      if (!problem && d.ok && !ref && book.adopt(d.trial.groupId, this.o.adoptWindow) === 'refused') {
        problem = `group ${d.trial.groupId} is beyond what this run can have opened`;
      }
      if (problem || !d.ok) {
        await this.setAside(rec.offset, d.ok ? d.trial : null, problem ?? 'unusable', rec.bytes, rec.key);
        if (ref) book.unfill(ref.groupId, ref.slot);
        continue;
      }
      if (ref) this.keep(ref.groupId, ref.slot, d.trial);
      else {
        this.commit(d.trial, rec.offset, true);
        replayed++;
      }
    }
    if (replayed) this.o.logger.info({ replayed }, 'replayed ledger records committed after the checkpoint');
    return ledger.offset;
  }

  /**
   * Before training: quarantines every record of `groups` that breaks the ingest rules with this model's shape (one
   * ledgered by an older learner, or a rule ingest missed), emptying its slot. Returns whether any was found.
   */
  async setAsideUnusable(groups: readonly GroupState[]): Promise<boolean> {
    const unusable: Array<[GroupState, number, string]> = [];
    for (const g of groups) {
      for (const [i, x] of this.live.get(g.groupId) ?? []) {
        const problem = validateTrial(x.trial, this.o.modelShape);
        if (problem) unusable.push([g, i, problem]);
      }
    }
    for (const [g, i, reason] of unusable) await this.quarantineSlot(g, i, reason);
    return unusable.length > 0;
  }

  /** Quarantines every record of a group the update could not use (e.g. non-finite advantages). */
  async setAsideGroup(g: GroupState, reason: string): Promise<void> {
    for (let i = 0; i < g.slots.length; i++) await this.quarantineSlot(g, i, `group ${g.groupId}: ${reason}`);
  }

  /** The group's rows in the estimators' shape (trial i = slot i). */
  groupRows(g: GroupState): Group<RecordedRow> {
    const slots = this.live.get(g.groupId)!;
    return {
      groupId: g.groupId,
      trials: g.slots.map((_, i) => ({ trialId: `${g.groupId}/${i}`, rows: slots.get(i)!.rows })),
    };
  }

  /** The decoded trials of a ready group, in slot order. */
  trials(g: GroupState): Trial[] {
    const slots = this.live.get(g.groupId)!;
    return g.slots.map((_, i) => slots.get(i)!.trial);
  }

  /** Forgets consumed groups. */
  forget(groupIds: readonly string[]): void {
    for (const id of groupIds) this.live.delete(id);
  }

  /**
   * Quarantines the record in slot `i` of `g` and empties the slot (it is leased again). The record's bytes are
   * re-encoded from the decoded trial; the ledger keeps the original at its offset.
   */
  private async quarantineSlot(g: GroupState, i: number, reason: string): Promise<void> {
    const fill = g.slots[i];
    const trial = this.live.get(g.groupId)?.get(i)?.trial ?? null;
    if (!fill) return;
    let bytes: Uint8Array | null = null;
    try {
      bytes = trial ? encode(trial) : null;
    } catch {
      /* the index line still names the offset */
    }
    await this.setAside(fill.offset, trial, reason, bytes);
    this.live.get(g.groupId)?.delete(i);
    this.o.book.unfill(g.groupId, i);
  }

  /** Quarantines one ledgered record and logs why. */
  private async setAside(
    offset: number,
    t: Trial | null,
    reason: string,
    bytes: Uint8Array | null,
    key = t?.key ?? null,
  ): Promise<void> {
    await this.o.quarantine.add(
      { offset, key, groupId: t?.groupId ?? null, trialIndex: t?.trialIndex ?? null, reason },
      bytes,
    );
    this.o.logger.warn(
      { offset, key, groupId: t?.groupId, trialIndex: t?.trialIndex, reason },
      'quarantined an unusable ledger record',
    );
  }

  private keep(groupId: string, slot: number, trial: Trial): void {
    if (!this.live.has(groupId)) this.live.set(groupId, new Map());
    this.live.get(groupId)!.set(slot, { trial, rows: rowsOf(trial) });
  }
}
