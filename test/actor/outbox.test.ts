import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../../actor/outbox.js';
import { encode } from '../../proto/codec.js';
import { trialKeyString } from '../../proto/messages.js';
import { sampleKey, sampleTrial } from '../proto/samples.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lamer-outbox-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const record = (seq: number, incarnation = 'inc-a') => {
  const key = sampleKey(seq, { incarnation });
  return { key, bytes: encode(sampleTrial(seq + 1, key)) };
};

describe('Outbox bounds (backpressure)', () => {
  it('push waits while the entry count is at its limit and resumes on remove', async () => {
    const box = await Outbox.open({ maxEntries: 2 });
    await box.push(record(0).key, record(0).bytes);
    await box.push(record(1).key, record(1).bytes);
    let third = false;
    const p = box.push(record(2).key, record(2).bytes).then(() => {
      third = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(third).toBe(false);
    expect(box.size).toBe(2);
    expect(await box.remove(trialKeyString(record(0).key))).toBe(true);
    await p;
    expect(third).toBe(true);
    expect(box.entries().map((e) => e.key.seq)).toEqual([1, 2]);
  });

  it('bounds bytes too, and refuses a record larger than the whole outbox', async () => {
    const r0 = record(0);
    const box = await Outbox.open({ maxBytes: r0.bytes.byteLength * 2 + 10 });
    await box.push(r0.key, r0.bytes);
    await box.push(record(1).key, record(1).bytes);
    let done = false;
    const p = box.push(record(2).key, record(2).bytes).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    await box.remove(trialKeyString(r0.key));
    await p;
    expect(box.bytes).toBeLessThanOrEqual(box.maxBytes);
    await expect(box.push(sampleKey(9), new Uint8Array(box.maxBytes + 1))).rejects.toThrow(/exceeds the outbox limit/);
    await expect(box.push(record(1).key, record(1).bytes)).rejects.toThrow(/already holds/);
    await expect(Outbox.open({ maxEntries: 0 })).rejects.toThrow(/maxEntries/);
  });
});

describe('Outbox durable mode', () => {
  it('survives a restart: records reload under their original keys and bytes; acked ones are gone', async () => {
    let box = await Outbox.open({ dir });
    for (let s = 0; s < 4; s++) await box.push(record(s).key, record(s).bytes);
    await box.remove(trialKeyString(record(1).key));
    expect(readdirSync(dir).filter((n) => n.endsWith('.msgpack'))).toHaveLength(3);
    // "Crash": drop the object without any shutdown and reopen.
    box = await Outbox.open({ dir });
    expect(box.recovery).toEqual({ loaded: 3, corrupt: [] });
    expect(box.entries().map((e) => e.key.seq)).toEqual([0, 2, 3]);
    for (const e of box.entries()) expect(Buffer.from(e.bytes).equals(Buffer.from(record(e.key.seq).bytes))).toBe(true);
    expect(box.maxSeq('inc-a')).toBe(3);
    expect(box.maxSeq('inc-z')).toBe(-1);
  });

  it('discards temp files of interrupted writes and quarantines corrupt records', async () => {
    const box = await Outbox.open({ dir });
    await box.push(record(0).key, record(0).bytes);
    writeFileSync(join(dir, '.inc-a-0000000000000001.msgpack.tmp-123-deadbeef'), 'partial');
    writeFileSync(join(dir, 'inc-a-0000000000000002.msgpack'), Buffer.from([0x93, 0x01]));
    const other = record(3);
    writeFileSync(join(dir, 'inc-a-0000000000000004.msgpack'), other.bytes); // name does not match its key
    const again = await Outbox.open({ dir });
    expect(again.recovery.loaded).toBe(1);
    expect(again.recovery.corrupt.map((c) => c.file).sort()).toEqual([
      'inc-a-0000000000000002.msgpack',
      'inc-a-0000000000000004.msgpack',
    ]);
    expect(existsSync(join(dir, 'inc-a-0000000000000002.msgpack.corrupt'))).toBe(true);
    expect(readdirSync(dir).some((n) => n.includes('.tmp-'))).toBe(false);
  });
});
