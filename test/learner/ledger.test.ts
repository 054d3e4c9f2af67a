import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger, type RecoveryReport } from '../../learner/ledger.js';
import type { TrialKey } from '../../proto/messages.js';

const key = (seq: number, incarnation = 'inc-a', actorId = 'actor-1'): TrialKey => ({
  runId: 'run-1',
  actorId,
  incarnation,
  seq,
});
const payload = (n: number, size = 100) => Buffer.alloc(size, n & 0xff);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lamer-ledger-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('Ledger exactly-once semantics', () => {
  it('commits once, answers duplicate for the same bytes and conflict for different bytes', async () => {
    const l = await Ledger.open(dir);
    const first = await l.append(key(0), payload(1));
    expect(first).toEqual({ status: 'committed', offset: 0 });
    expect(await l.append(key(0), payload(1))).toEqual({ status: 'duplicate' });
    expect(await l.append(key(0), payload(2))).toEqual({ status: 'conflict' });
    expect(l.size).toBe(1);
    expect(l.stats()).toMatchObject({ entries: 1, duplicates: 1, conflicts: 1 });
    await l.close();
  });

  it('a duplicate of a record still in flight resolves only after that record is durable', async () => {
    const l = await Ledger.open(dir);
    const a = l.append(key(0), payload(1));
    const b = l.append(key(0), payload(1));
    const c = l.append(key(0), payload(9));
    expect(l.status(key(0))).toBe('pending');
    const order: string[] = [];
    a.then(() => order.push('a'));
    b.then(() => order.push('b'));
    expect(await b).toEqual({ status: 'duplicate' });
    expect(order[0]).toBe('a');
    expect(await c).toEqual({ status: 'conflict' });
    expect(l.status(key(0))).toBe('committed');
    await l.close();
  });

  it('group commit: many concurrent appends share few fdatasyncs, each resolves only once durable', async () => {
    const l = await Ledger.open(dir);
    const n = 300;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        l.append(key(i), payload(i, 2000)).then((r) => {
          // At resolution the durable end already covers this record.
          expect(r.status).toBe('committed');
          if (r.status === 'committed') expect(l.offset).toBeGreaterThan(r.offset);
          expect(l.stats().fsyncs).toBeGreaterThan(0);
          return r;
        }),
      ),
    );
    expect(results.length).toBe(n);
    const st = l.stats();
    expect(st.entries).toBe(n);
    expect(st.fsyncs).toBeLessThan(n / 10);
    expect(st.maxBatch).toBeGreaterThan(10);
    await l.close();
  });

  it('rejects seqs far ahead of the watermark instead of allocating for them', async () => {
    const l = await Ledger.open(dir, { maxSeqAhead: 100 });
    expect((await l.append(key(99), payload(1))).status).toBe('committed');
    const r = await l.append(key(100), payload(1));
    expect(r.status).toBe('rejected');
    expect(r.status === 'rejected' && r.reason).toMatch(/ahead of the committed watermark/);
    await l.close();
  });

  it('reports committed marks per incarnation for the welcome message', async () => {
    const l = await Ledger.open(dir);
    for (const s of [0, 1, 2, 4, 7]) await l.append(key(s), payload(s));
    await l.append(key(0, 'inc-b'), payload(0));
    await l.append(key(0, 'inc-z', 'other-actor'), payload(0));
    const marks = l.committedMarks('run-1', 'actor-1');
    expect(marks).toEqual([
      { incarnation: 'inc-b', upTo: 0, seqs: [] },
      { incarnation: 'inc-a', upTo: 2, seqs: [4, 7] },
    ]);
    expect(l.committedMarks('run-1', 'actor-1', 1)).toHaveLength(1);
    expect(l.committedMarks('run-2', 'actor-1')).toEqual([]);
    await l.close();
  });
});

describe('Ledger durability and recovery', () => {
  it('survives a restart: dedup state, conflict detection and the records themselves', async () => {
    let l = await Ledger.open(dir);
    for (let i = 0; i < 20; i++) await l.append(key(i), payload(i));
    const end = l.offset;
    await l.close();
    l = await Ledger.open(dir);
    expect(l.size).toBe(20);
    expect(l.offset).toBe(end);
    expect(await l.append(key(5), payload(5))).toEqual({ status: 'duplicate' });
    expect(await l.append(key(5), payload(6))).toEqual({ status: 'conflict' });
    expect((await l.append(key(20), payload(20))).status).toBe('committed');
    const seen: number[] = [];
    for await (const r of l.iterate(0)) {
      expect(Buffer.from(r.bytes).equals(payload(r.key.seq))).toBe(true);
      seen.push(r.key.seq);
    }
    expect(seen).toEqual(Array.from({ length: 21 }, (_, i) => i));
    await l.close();
  });

  it('iterates from a checkpoint offset across segments and rejects a non-boundary offset', async () => {
    const l = await Ledger.open(dir, { segmentBytes: 1000 });
    const offsets: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await l.append(key(i), payload(i, 300));
      if (r.status === 'committed') offsets.push(r.offset);
    }
    expect(l.stats().segments).toBeGreaterThan(5);
    const tail: number[] = [];
    for await (const r of l.iterate(offsets[17])) tail.push(r.key.seq);
    expect(tail).toEqual(Array.from({ length: 13 }, (_, i) => 17 + i));
    const none: number[] = [];
    for await (const r of l.iterate(l.offset)) none.push(r.key.seq);
    expect(none).toEqual([]);
    await expect(async () => {
      for await (const _ of l.iterate(offsets[3] + 5)) {
        /* drain */
      }
    }).rejects.toThrow(/not an entry boundary/);
    await l.close();
    // And the segmented ledger reopens with every record.
    const again = await Ledger.open(dir, { segmentBytes: 1000 });
    expect(again.size).toBe(30);
    await again.close();
  });

  it('truncates a torn tail on open, reports it, and accepts the lost key again', async () => {
    let l = await Ledger.open(dir);
    for (let i = 0; i < 5; i++) await l.append(key(i), payload(i, 500));
    await l.close();
    const seg = join(dir, readdirSync(dir).find((n) => n.endsWith('.log'))!);
    const full = statSync(seg).size;
    truncateSync(seg, full - 200); // the last entry is cut mid-payload, as by a crash mid-write
    const reports: RecoveryReport[] = [];
    l = await Ledger.open(dir, { onRecovery: (r) => reports.push(r) });
    expect(reports).toHaveLength(1);
    expect(reports[0].reason).toBe('truncated entry');
    expect(l.size).toBe(4);
    expect(statSync(seg).size).toBe(l.offset);
    expect(l.status(key(4))).toBe('absent');
    expect((await l.append(key(4), payload(4, 500))).status).toBe('committed');
    await l.close();
  });

  it('detects a corrupted (CRC) tail entry and garbage appended after the last entry', async () => {
    let l = await Ledger.open(dir);
    for (let i = 0; i < 3; i++) await l.append(key(i), payload(i, 500));
    const end = l.offset;
    await l.close();
    const seg = join(dir, readdirSync(dir).find((n) => n.endsWith('.log'))!);
    // Flip one payload byte of the last entry: same length, bad CRC.
    const fd = openSync(seg, 'r+');
    writeSync(fd, Buffer.from([0x55]), 0, 1, end - 100);
    closeSync(fd);
    appendFileSync(seg, Buffer.from('garbage after a crash'));
    const reports: RecoveryReport[] = [];
    l = await Ledger.open(dir, { onRecovery: (r) => reports.push(r) });
    expect(reports[0]?.reason).toBe('crc mismatch');
    expect(l.size).toBe(2);
    await l.close();
  });

  it('refuses to open when an older (sealed) segment is damaged', async () => {
    let l = await Ledger.open(dir, { segmentBytes: 600 });
    for (let i = 0; i < 6; i++) await l.append(key(i), payload(i, 500));
    await l.close();
    const first = join(
      dir,
      readdirSync(dir)
        .filter((n) => n.endsWith('.log'))
        .sort()[0],
    );
    const fd = openSync(first, 'r+');
    writeSync(fd, Buffer.from([0xaa]), 0, 1, 100);
    closeSync(fd);
    await expect(Ledger.open(dir, { segmentBytes: 600 })).rejects.toThrow(
      /damaged .*refusing to drop committed records/,
    );
    l = undefined as unknown as Ledger;
  });

  it('holds a directory lock and stops acking after a write failure', async () => {
    const l = await Ledger.open(dir);
    await expect(Ledger.open(dir)).rejects.toThrow(/already open in this process/);
    expect((await l.append(key(0), payload(0))).status).toBe('committed');
    // Break the file handle underneath the ledger: the next batch fails to write.
    await (l as unknown as { writeHandle: { close(): Promise<void> } }).writeHandle.close();
    await expect(l.append(key(1), payload(1))).rejects.toThrow(/ledger write failed/);
    await expect(l.append(key(2), payload(2))).rejects.toThrow(/ledger failed earlier/);
    expect(l.status(key(1))).toBe('absent');
  });

  it('loses no acked record when the writing process is SIGKILLed mid-stream', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'ledger-writer.ts'), dir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const acked: number[] = [];
    let buf = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const line of lines) if (line) acked.push(Number(line));
        if (acked.length >= 400 && !child.killed) {
          child.kill('SIGKILL');
        }
      });
      child.on('exit', () => resolve());
    });
    expect(acked.length).toBeGreaterThanOrEqual(400);
    const l = await Ledger.open(dir);
    for (const seq of acked) expect(l.status(key(seq))).toBe('committed');
    // Everything on disk is intact and in order; nothing is stored twice.
    const seqs: number[] = [];
    for await (const r of l.iterate(0)) seqs.push(r.key.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.length).toBeGreaterThanOrEqual(acked.length);
    await l.close();
  });
});
