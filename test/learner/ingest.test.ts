/** Committed records into task-book slots, and the ledger replay after a restart (learner/ingest.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ingest, rowsOf } from '../../learner/ingest.js';
import { Ledger } from '../../learner/ledger.js';
import { Quarantine } from '../../learner/quarantine.js';
import { TaskBook } from '../../learner/task-book.js';
import { encode } from '../../proto/codec.js';
import type { Trial } from '../../proto/messages.js';
import { sampleTrial } from '../proto/samples.js';
import { silent } from './components.js';

const counters = () => ({ trialsCommitted: 0, trialsTrained: 0, surplus: 0, rowsDroppedStale: 0 });
const book = () => new TaskBook({ seed: 1, groupSize: 2, attempts: 3, evalTasks: 1, evalAttempts: 3 });
const trial = (seed: number, groupId: string, trialIndex: number): Trial => ({
  ...sampleTrial(seed),
  groupId,
  trialIndex,
});

let dir = '';
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

/** What every Ingest needs besides the book: a quarantine in a temp dir and a model shape that fits the samples. */
function deps() {
  dir ||= mkdtempSync(join(tmpdir(), 'lamer-ingest-'));
  return {
    quarantine: Quarantine.open(join(dir, 'quarantine')),
    modelShape: { vocabSize: 64, contextLength: 256 },
    adoptWindow: 16,
  };
}

describe('Ingest', () => {
  it('files records into slots, counts surplus, reports live trials and filled slots', () => {
    const b = book();
    b.grant('actor-1/inc-a', 1, 0, () => 1); // opens g0 (live commits never open groups)
    const c = counters();
    const live: Trial[] = [];
    let filled = 0;
    const ing = new Ingest({
      ...deps(),
      book: b,
      counters: c,
      logger: silent,
      onLiveTrial: (t) => live.push(t),
      onSlotFilled: () => filled++,
    });
    ing.commit(trial(1, 'g0', 1), 10);
    ing.commit(trial(2, 'g0', 0), 20);
    ing.commit(trial(3, 'g0', 0), 30); // slot already filled
    expect(c).toMatchObject({ trialsCommitted: 3, surplus: 1 });
    expect(live.length).toBe(3);
    expect(filled).toBe(2);
    const [g] = b.ready('train');
    expect(g.slots.map((s) => s!.offset)).toEqual([20, 10]);
    expect(ing.trials(g).map((t) => t.taskSeed)).toEqual([2, 1]); // slot order
    const rows = ing.groupRows(g);
    expect(rows.trials.map((t) => t.trialId)).toEqual(['g0/0', 'g0/1']);
    expect(rows.trials[0].rows.length).toBe(trial(2, 'g0', 0).rows.length);
    ing.forget(['g0']);
    expect(() => ing.trials(g)).toThrow();
  });

  it('marks the winning turn: the last play row of the won episode', () => {
    const t = sampleTrial(5);
    const won = { ...t, episodesWon: t.episodesWon.map((_, i, a) => i === a.length - 1) };
    const rows = rowsOf(won);
    const winners = rows.flatMap((r, i) => (r.won ? [i] : []));
    expect(winners).toEqual([rows.length - 1]);
    expect(rowsOf(t).some((r) => r.won)).toBe(false);
  });

  it('replay reloads live groups and re-applies records committed after the checkpoint, not before', async () => {
    const d = deps();
    const ledger = await Ledger.open(join(dir, 'ledger'));
    const offsets: number[] = [];
    for (const [seed, g, i] of [
      [1, 'g0', 0],
      [2, 'g0', 1],
      [3, 'g1', 0],
    ] as const) {
      const t = trial(seed, g, i);
      const r = await ledger.append(t.key, encode(t));
      offsets.push((r as { offset: number }).offset);
    }
    // The checkpoint knew g0 slot 0 (first record) and had consumed nothing; its ledger offset is after record 1.
    const b = book();
    b.adopt('g0', 16);
    b.fill('g0', 0, { offset: offsets[0], actorId: 'actor-1' });
    const c = counters();
    const ing = new Ingest({ ...d, book: b, counters: c, logger: silent });
    const end = await ing.replay(ledger, offsets[1]);
    expect(end).toBe(ledger.offset);
    expect(c.trialsCommitted).toBe(2); // records 2 and 3 re-applied; record 1 reloaded, not re-counted
    expect(b.ready('train').map((g) => g.groupId)).toEqual(['g0']);
    expect(ing.trials(b.ready('train')[0]).map((t) => t.taskSeed)).toEqual([1, 2]);
    await ledger.close();
  });

  it('quarantines a ledgered record that does not fit the model, and skips it on the next replay', async () => {
    const d = deps();
    const ledger = await Ledger.open(join(dir, 'ledger'));
    const bad = trial(1, 'g0', 0);
    await ledger.append(bad.key, encode(bad));
    const c = counters();
    const small = { ...d, modelShape: { vocabSize: 8, contextLength: 256 } }; // sample token ids go up to 63
    await new Ingest({ ...small, book: book(), counters: c, logger: silent }).replay(ledger, 0);
    expect(c.trialsCommitted).toBe(0);
    expect(d.quarantine.size).toBe(1);
    const again = counters();
    await new Ingest({
      ...small,
      quarantine: Quarantine.open(join(dir, 'quarantine')),
      book: book(),
      counters: again,
      logger: silent,
    }).replay(ledger, 0);
    expect(again.trialsCommitted).toBe(0);
    await ledger.close();
  });
});
