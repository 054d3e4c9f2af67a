/**
 * From committed records to task groups: every committed trial is filed into its slot of the task book and kept
 * decoded until its group is consumed (by the trainer or the evaluator). After a restart, `replay` re-reads the
 * ledger: records of groups still live are reloaded, and records committed after the checkpoint (acked, not yet
 * trained) are applied again.
 */
import { decodeTrial } from '../proto/codec.js';
import { fromTensor, type Trial } from '../proto/messages.js';
import { LamerError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Group } from '../shared/rl/types.js';
import type { Ledger } from './ledger.js';
import type { LearnerState } from './run-state.js';
import type { GroupState, TaskBook } from './task-book.js';
import type { RecordedRow } from './update.js';

/** Trial rows decoded from the wire into the learner's arrays. */
export function rowsOf(t: Trial): RecordedRow[] {
  // The winning turn is the last play row of a won episode (a won episode ends on it).
  const lastPlay = new Map<number, number>();
  t.rows.forEach((r, i) => r.phase === 'play' && lastPlay.set(r.episode, i));
  return t.rows.map((r, i) => ({
    phase: r.phase, episode: r.episode, turn: r.turn, reward: r.reward, valid: r.valid, anchor: r.anchor,
    won: r.phase === 'play' && t.episodesWon[r.episode] === true && lastPlay.get(r.episode) === i,
    policyVersion: r.policyVersion, prompt: fromTensor(r.prompt), response: fromTensor(r.response), behavLogp: fromTensor(r.behavLogp),
    external: t.policy?.backend === 'openai',
  }));
}

export interface IngestOptions {
  book: TaskBook;
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
    this.o.book.adopt(t.groupId);
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
    const live = new Map<number, { groupId: string; slot: number }>();
    for (const g of this.o.book.groups) g.slots.forEach((s, i) => s && live.set(s.offset, { groupId: g.groupId, slot: i }));
    const from = Math.min(this.o.book.minLiveOffset() ?? ledgerOffset, ledgerOffset);
    let replayed = 0;
    for await (const rec of ledger.iterate(from)) {
      const d = decodeTrial(rec.bytes);
      if (!d.ok) throw new LamerError('RL_ERR_CHECKPOINT', `ledger record at offset ${rec.offset} does not decode: ${d.reason}`);
      const ref = live.get(rec.offset);
      if (ref) this.keep(ref.groupId, ref.slot, d.trial);
      else if (rec.offset >= ledgerOffset) {
        this.commit(d.trial, rec.offset, true);
        replayed++;
      }
    }
    if (replayed) this.o.logger.info({ replayed }, 'replayed ledger records committed after the checkpoint');
    return ledger.offset;
  }

  /** The group's rows in the estimators' shape (trial i = slot i). */
  groupRows(g: GroupState): Group<RecordedRow> {
    const slots = this.live.get(g.groupId)!;
    return { groupId: g.groupId, trials: g.slots.map((_, i) => ({ trialId: `${g.groupId}/${i}`, rows: slots.get(i)!.rows })) };
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

  private keep(groupId: string, slot: number, trial: Trial): void {
    if (!this.live.has(groupId)) this.live.set(groupId, new Map());
    this.live.get(groupId)!.set(slot, { trial, rows: rowsOf(trial) });
  }
}
