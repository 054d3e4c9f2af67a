/**
 * The chaos checker on synthetic runs: it must count a clean run as clean and catch each kind of violation
 * (a completed trial missing from the ledger, a record trained twice in the final lineage, an ack without a
 * ledger record), and classify pending, rejected and indeterminate records.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../learner/ledger.js';
import { encode } from '../../proto/codec.js';
import type { TrialKey } from '../../proto/messages.js';
import { checkRun, finalLineage, type LearnerLogFacts } from '../../scripts/chaos/checker.js';
import { sampleTrialBody } from '../proto/samples.js';

let root = '';
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const key = (seq: number, incarnation = 'inc1'): TrialKey => ({ runId: 'run-1', actorId: 'a0', incarnation, seq });
const record = (k: TrialKey, slot: number) =>
  encode({ type: 'trial', key: k, ...sampleTrialBody(1), groupId: `g${slot >> 1}`, trialIndex: slot & 1 });

/** A run dir with `committed` trials in the ledger (offsets returned) and a learner log of `trained` lines. */
async function fixture(
  committed: Array<{ k: TrialKey; slot: number }>,
): Promise<{ runDir: string; offsets: number[]; actor: { id: string; trialLog: string; outboxDir: string } }> {
  root = mkdtempSync(join(tmpdir(), 'lamer-chk-'));
  const runDir = join(root, 'run');
  mkdirSync(join(runDir, 'logs'), { recursive: true });
  const ledger = await Ledger.open(join(runDir, 'ledger'), { fsync: false });
  const offsets: number[] = [];
  for (const c of committed) {
    const r = await ledger.append(c.k, record(c.k, c.slot));
    if (r.status !== 'committed') throw new Error('fixture append failed');
    offsets.push(r.offset);
  }
  await ledger.close();
  writeFileSync(join(runDir, 'logs', 'learner.log'), '');
  const actor = { id: 'a0', trialLog: join(root, 'a0.jsonl'), outboxDir: join(root, 'outbox') };
  mkdirSync(actor.outboxDir);
  writeFileSync(actor.trialLog, '');
  return { runDir, offsets, actor };
}

const done = (file: string, k: TrialKey, slot: number) =>
  appendFileSync(
    file,
    JSON.stringify({ t: 'done', key: k, groupId: `g${slot >> 1}`, trialIndex: slot & 1, at: 0 }) + '\n',
  );
const ack = (file: string, k: TrialKey, status: string, reason?: string) =>
  appendFileSync(file, JSON.stringify({ t: 'ack', key: k, status, ...(reason ? { reason } : {}), at: 0 }) + '\n');
const logLine = (runDir: string, o: object) =>
  appendFileSync(join(runDir, 'logs', 'learner.log'), JSON.stringify(o) + '\n');

describe('chaos checker', () => {
  it('a clean run: every completed trial committed once, trained once', async () => {
    const f = await fixture([0, 1, 2, 3].map((i) => ({ k: key(i), slot: i })));
    for (let i = 0; i < 4; i++) done(f.actor.trialLog, key(i), i);
    logLine(f.runDir, { msg: 'trained', learnerEpoch: 0, policyVersion: 1, offsets: f.offsets.slice(0, 2) });
    logLine(f.runDir, { msg: 'trained', learnerEpoch: 0, policyVersion: 2, offsets: f.offsets.slice(2) });
    const r = await checkRun({ runDir: f.runDir, actors: [f.actor] });
    expect(r).toMatchObject({
      completed: 4,
      committed: 4,
      lost: 0,
      duplicated: 0,
      indeterminate: 0,
      pending: 0,
      trainedVersions: 2,
      lineageGaps: 0,
    });
  });

  it(
    'catches a lost trial and an ack the ledger does not ' + 'back; classifies pending, rejected and indeterminate',
    async () => {
      const f = await fixture([
        { k: key(0), slot: 0 },
        { k: key(1), slot: 1 },
      ]);
      done(f.actor.trialLog, key(0), 0); // committed
      // key(1) committed but never logged: indeterminate
      done(f.actor.trialLog, key(2), 2); // rejected by the learner: documented drop
      ack(f.actor.trialLog, key(2), 'rejected', "row 0: policyVersion 9 is newer than the learner's 7");
      done(f.actor.trialLog, key(3), 3); // still in the outbox: pending
      writeFileSync(join(f.actor.outboxDir, 'inc1-0000000000000003.msgpack'), record(key(3), 3));
      done(f.actor.trialLog, key(4), 0); // nowhere: lost
      ack(f.actor.trialLog, key(5), 'committed'); // acked, not in the ledger
      appendFileSync(f.actor.trialLog, '{"t":"done","key":{"runId"'); // a line torn by SIGKILL
      const r = await checkRun({ runDir: f.runDir, actors: [f.actor] });
      expect(r).toMatchObject({
        completed: 4,
        committed: 1,
        rejected: 1,
        pending: 1,
        lost: 1,
        indeterminate: 1,
        ackedNotInLedger: 1,
        tornLogLines: 1,
      });
      expect(r.lostKeys).toEqual(['run-1/a0/inc1/4']);
      expect(r.rejectReasons).toEqual({ "row N: policyVersion N is newer than the learner's N": 1 });
    },
  );

  it('counts a record trained twice in the final lineage, but not one retrained after a rollback', async () => {
    const f = await fixture([0, 1, 2, 3].map((i) => ({ k: key(i), slot: i })));
    const [o0, o1, o2, o3] = f.offsets;
    // Epoch 0 trains v1 and v2; epoch 1 resumes at v1 and trains v2 again from the same records: a rollback, fine.
    logLine(f.runDir, { msg: 'trained', learnerEpoch: 0, policyVersion: 1, offsets: [o0, o1] });
    logLine(f.runDir, { msg: 'trained', learnerEpoch: 0, policyVersion: 2, offsets: [o2, o3] });
    logLine(f.runDir, {
      msg: 'resumed from checkpoint',
      learnerEpoch: 1,
      policyVersion: 1,
      optimizerStep: 2,
      checkpoint: 'c1',
    });
    logLine(f.runDir, { msg: 'trained', learnerEpoch: 1, policyVersion: 2, offsets: [o2, o3] });
    expect((await checkRun({ runDir: f.runDir, actors: [f.actor] })).duplicated).toBe(0);
    // Epoch 1 then trains v3 from a record v1 already consumed: a double count.
    logLine(f.runDir, { msg: 'trained', learnerEpoch: 1, policyVersion: 3, offsets: [o0] });
    const r = await checkRun({ runDir: f.runDir, actors: [f.actor] });
    expect(r.trainedTwice).toBe(1);
    expect(r.slotsTrainedTwice).toBe(1);
    expect(r.duplicated).toBe(2);
  });

  it("finalLineage keeps each epoch's history only up to the version the next one resumed at", () => {
    const log: LearnerLogFacts = {
      resumes: [
        { pid: 1, learnerEpoch: 1, policyVersion: 2, optimizerStep: 4, checkpoint: 'c2', at: 0 },
        { pid: 2, learnerEpoch: 2, policyVersion: 1, optimizerStep: 2, checkpoint: 'c1', at: 0 },
      ],
      skippedCorrupt: [],
      trained: [
        { learnerEpoch: 0, policyVersion: 1, offsets: [10], at: 0 },
        { learnerEpoch: 0, policyVersion: 2, offsets: [20], at: 0 },
        { learnerEpoch: 0, policyVersion: 3, offsets: [30], at: 0 },
        { learnerEpoch: 1, policyVersion: 3, offsets: [31], at: 0 },
        { learnerEpoch: 2, policyVersion: 2, offsets: [22], at: 0 },
      ],
    };
    expect([...finalLineage(log)]).toEqual([
      [1, [10]],
      [2, [22]],
    ]);
  });
});
