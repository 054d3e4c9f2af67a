import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointStore } from '../../learner/checkpoint-store.js';
import { INDEX_FILE } from '../../learner/ledger-index.js';
import { Ledger } from '../../learner/ledger.js';
import { retentionHorizon } from '../../learner/retention.js';
import type { TrialKey } from '../../proto/messages.js';

const key = (seq: number, incarnation = 'inc-a'): TrialKey => ({
  runId: 'run-1',
  actorId: 'actor-1',
  incarnation,
  seq,
});
const payload = (n: number) => Buffer.alloc(200, n & 0xff);
const segments = (d: string) =>
  readdirSync(d)
    .filter((n) => n.startsWith('seg-'))
    .sort();

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lamer-retention-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** 30 records of ~260 bytes in 1000-byte segments: 8 segments, the last one open. */
async function filled(): Promise<{ l: Ledger; offsets: number[] }> {
  const l = await Ledger.open(dir, { segmentBytes: 1000, fsync: false });
  const offsets: number[] = [];
  for (let s = 0; s < 30; s++) {
    const r = await l.append(key(s), payload(s));
    if (r.status !== 'committed') throw new Error(r.status);
    offsets.push(r.offset);
  }
  return { l, offsets };
}

describe('ledger retention', () => {
  it('a duplicate of a compacted key is still acked duplicate, before and after a restart', async () => {
    const { l } = await filled();
    const r = await l.compact(l.offset, 0);
    expect(r.covered).toBeGreaterThan(3);
    expect(r.deleted).toBe(r.covered);
    expect(l.stats()).toMatchObject({ entries: 30, coveredSegments: 0 });
    expect(await l.append(key(0), payload(0))).toEqual({ status: 'duplicate' });
    expect(l.status(key(1))).toBe('committed');
    await l.close();
    const again = await Ledger.open(dir, { segmentBytes: 1000, fsync: false });
    expect(again.size).toBe(30);
    for (const s of [0, 5, 29]) expect(await again.append(key(s), payload(s))).toEqual({ status: 'duplicate' });
    expect(again.committedMarks('run-1', 'actor-1')).toEqual([{ incarnation: 'inc-a', upTo: 29, seqs: [] }]);
    expect(await again.append(key(30), payload(30))).toMatchObject({ status: 'committed' });
    // A still-uncovered record keeps its hash: different bytes are a conflict.
    expect(await again.append(key(29), payload(99))).toEqual({ status: 'conflict' });
    await again.close();
  });

  it(
    'keeps the gaps of an out-of-order stream: a missing ' + 'seq still commits, a covered one is a duplicate',
    async () => {
      const l = await Ledger.open(dir, { segmentBytes: 500, fsync: false });
      for (const s of [0, 1, 3, 4, 7]) await l.append(key(s), payload(s));
      for (let s = 0; s < 4; s++) await l.append(key(s, 'inc-b'), payload(s)); // rolls past the first segments
      await l.compact(l.offset, 0);
      await l.close();
      const again = await Ledger.open(dir, { segmentBytes: 500, fsync: false });
      expect(again.committedMarks('run-1', 'actor-1').find((m) => m.incarnation === 'inc-a')).toEqual({
        incarnation: 'inc-a',
        upTo: 1,
        seqs: [3, 4, 7],
      });
      expect(await again.append(key(3), payload(3))).toEqual({ status: 'duplicate' });
      expect(await again.append(key(2), payload(2))).toMatchObject({ status: 'committed' });
      expect(await again.append(key(5), payload(5))).toMatchObject({ status: 'committed' });
      expect(again.committedMarks('run-1', 'actor-1').find((m) => m.incarnation === 'inc-a')).toEqual({
        incarnation: 'inc-a',
        upTo: 5,
        seqs: [7],
      });
      await again.close();
    },
  );

  it("start-up does not read covered segments; 'all' keeps them readable, N deletes the rest", async () => {
    const { l, offsets } = await filled();
    await l.compact(offsets[20], 'all');
    const covered = l.stats().coveredSegments;
    expect(covered).toBeGreaterThan(2);
    expect(segments(dir)).toHaveLength(l.stats().segments);
    await l.close();
    // Damage a covered segment: a start-up that read it would refuse to open.
    writeFileSync(join(dir, segments(dir)[0]), Buffer.alloc(50, 7), { flag: 'r+' });
    const again = await Ledger.open(dir, { segmentBytes: 1000, fsync: false });
    expect(again.stats().coveredSegments).toBe(covered);
    const seqs: number[] = [];
    for await (const r of again.iterate(again.stats().coveredTo)) seqs.push(r.key.seq);
    expect(seqs[seqs.length - 1]).toBe(29);
    const r = await again.compact(offsets[20], 1);
    expect(r).toMatchObject({ covered: 0, deleted: covered - 1 });
    expect(segments(dir)).toHaveLength(again.stats().segments);
    await expect(async () => {
      for await (const _ of again.iterate(0)) {
        /* drain */
      }
    }).rejects.toThrow(/removed by ledger.retention/);
    await again.close();
  });

  it('never covers the open segment or anything past the horizon', async () => {
    const { l, offsets } = await filled();
    expect(await l.compact(offsets[2], 0)).toMatchObject({ covered: 0, deleted: 0 });
    await l.compact(Number.MAX_SAFE_INTEGER, 0);
    expect(l.stats().coveredTo).toBeLessThan(l.offset);
    const live: number[] = [];
    for await (const r of l.iterate(l.stats().coveredTo)) live.push(r.key.seq);
    expect(live.length).toBeGreaterThan(0);
    expect(live[live.length - 1]).toBe(29);
    await l.close();
  });

  for (const step of ['index-written', 'segment-deleted'] as const) {
    it(`a crash after '${step}' leaves a readable ledger that finishes the compaction later`, () => {
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'ledger-compactor.ts'), dir, step],
        { stdio: 'inherit' },
      );
      expect(child.status).toBe(137);
      expect(existsSync(join(dir, INDEX_FILE))).toBe(true);
      return (async () => {
        const l = await Ledger.open(dir, { segmentBytes: 1000 });
        expect(l.size).toBe(30);
        for (let s = 0; s < 30; s++) expect(await l.append(key(s), payload(s))).toEqual({ status: 'duplicate' });
        expect(await l.append(key(30), payload(30))).toMatchObject({ status: 'committed' });
        // Covered segments the crash left behind are ignored on open and deleted by the next compaction.
        const leftovers = l.stats().coveredSegments;
        expect(leftovers).toBeGreaterThan(0);
        expect(await l.compact(0, 0)).toMatchObject({ covered: 0, deleted: leftovers });
        expect(l.stats().coveredSegments).toBe(0);
        expect(segments(dir)).toHaveLength(l.stats().segments);
        await l.close();
      })();
    });
  }

  it('a crash while the index temp file is written leaves the previous index in force', async () => {
    const { l } = await filled();
    await l.compact(l.offset, 'all');
    await l.close();
    writeFileSync(join(dir, `.${INDEX_FILE}.tmp-123-abcdef01`), '{"format":1,"cover');
    const again = await Ledger.open(dir, { segmentBytes: 1000, fsync: false });
    expect(again.size).toBe(30);
    expect(readdirSync(dir).some((n) => n.includes('.tmp-'))).toBe(false);
    await again.close();
  });

  it('a damaged index is an error, not a silent fresh start', async () => {
    const { l } = await filled();
    await l.compact(l.offset, 0);
    await l.close();
    writeFileSync(join(dir, INDEX_FILE), '{"format":1,"coveredTo":');
    await expect(Ledger.open(dir)).rejects.toThrow(/INDEX.json is unreadable/);
  });

  it('the retention horizon is the lowest replayFrom of the kept checkpoints (0 if one lacks it)', async () => {
    const store = new CheckpointStore(join(dir, 'ckpt'), { keep: 3 });
    expect(await retentionHorizon(store)).toBe(0);
    await store.save(1, new Map([['a', Buffer.from('x')]]), { replayFrom: 500 });
    await store.save(2, new Map([['a', Buffer.from('y')]]), { replayFrom: 300 });
    await store.save(3, new Map([['a', Buffer.from('z')]]), { replayFrom: 900 });
    expect(await retentionHorizon(store)).toBe(300);
    await store.save(4, new Map([['a', Buffer.from('w')]]), { replayFrom: 1000 }); // prunes step 1
    expect(await retentionHorizon(store)).toBe(300);
    await store.save(5, new Map([['a', Buffer.from('v')]]), {});
    expect(await retentionHorizon(store)).toBe(0);
  });
});
