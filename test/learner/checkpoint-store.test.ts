import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointStore } from '../../learner/checkpoint-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lamer-ckpt-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const files = (step: number) =>
  new Map<string, Uint8Array>([
    ['weights.bin', Buffer.alloc(4096, step)],
    ['optimizer.bin', Buffer.alloc(8192, step + 1)],
    ['state.json', Buffer.from(JSON.stringify({ step }))],
  ]);

describe('CheckpointStore', () => {
  it('returns null when no checkpoint exists, then round-trips files and meta', async () => {
    const store = new CheckpointStore(dir, { keep: 2 });
    expect(await store.loadLatest()).toBeNull();
    await store.save(10, files(10), { policyVersion: 10, learnerEpoch: 1, ledgerOffset: 1234 });
    const c = await store.loadLatest();
    expect(c?.step).toBe(10);
    expect(c?.meta).toEqual({ policyVersion: 10, learnerEpoch: 1, ledgerOffset: 1234 });
    expect(Buffer.from(c!.files.get('weights.bin')!).equals(Buffer.alloc(4096, 10))).toBe(true);
    expect(c?.skipped).toEqual([]);
    expect(
      JSON.parse(readFileSync(join(dir, 'ckpt-000000000010', 'MANIFEST.json'), 'utf8')).files['state.json'].sha256,
    ).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps the newest N and removes older ones only after a save', async () => {
    const store = new CheckpointStore(dir, { keep: 2 });
    for (const s of [1, 2, 3, 4]) await store.save(s, files(s));
    expect(await store.steps()).toEqual([3, 4]);
  });

  it.each([
    [
      'a flipped byte',
      (d: string) => {
        const p = join(d, 'weights.bin');
        const b = readFileSync(p);
        b[100] ^= 0xff;
        writeFileSync(p, b);
      },
      /weights.bin: sha256 mismatch/,
    ],
    [
      'a truncated file',
      (d: string) => truncateSync(join(d, 'optimizer.bin'), 100),
      /optimizer.bin: 100 bytes, manifest says 8192/,
    ],
    ['a deleted MANIFEST', (d: string) => unlinkSync(join(d, 'MANIFEST.json')), /MANIFEST.json missing/],
    ['a deleted file', (d: string) => unlinkSync(join(d, 'state.json')), /state.json: ENOENT/],
    [
      'a garbled MANIFEST',
      (d: string) => writeFileSync(join(d, 'MANIFEST.json'), '{"formatVersion": 1, "step'),
      /MANIFEST.json unreadable/,
    ],
  ])('falls back to the previous checkpoint on %s, reporting why', async (_name, damage, reason) => {
    const store = new CheckpointStore(dir, { keep: 3 });
    await store.save(1, files(1), { policyVersion: 1 });
    await store.save(2, files(2), { policyVersion: 2 });
    damage(join(dir, 'ckpt-000000000002'));
    const c = await store.loadLatest();
    expect(c?.step).toBe(1);
    expect(c?.meta.policyVersion).toBe(1);
    expect(c?.skipped).toHaveLength(1);
    expect(c?.skipped[0].reason).toMatch(reason);
  });

  it('throws (never starts fresh silently) when checkpoints exist but none is valid', async () => {
    const store = new CheckpointStore(dir, { keep: 3 });
    await store.save(1, files(1));
    unlinkSync(join(dir, 'ckpt-000000000001', 'MANIFEST.json'));
    mkdirSync(join(dir, 'ckpt-000000000005'));
    await expect(store.loadLatest()).rejects.toThrow(
      /no valid checkpoint .*ckpt-000000000005: MANIFEST.json missing.*--fresh/,
    );
    await expect(store.loadLatest()).rejects.toMatchObject({ code: 'RL_ERR_CHECKPOINT' });
    await store.clear();
    expect(await store.loadLatest()).toBeNull();
  });

  it('ignores and cleans partial saves, replaces a re-saved step, drops abandoned newer ones', async () => {
    const store = new CheckpointStore(dir, { keep: 3 });
    mkdirSync(join(dir, 'ckpt-000000000009.partial-123'));
    expect(await store.loadLatest()).toBeNull(); // a crash during the first save leaves no checkpoint
    await store.save(3, files(3), { v: 'a' });
    await store.save(8, files(8));
    unlinkSync(join(dir, 'ckpt-000000000008', 'weights.bin'));
    const fallback = await store.loadLatest();
    expect(fallback?.step).toBe(3);
    await store.save(3, files(3), { v: 'b' });
    expect((await store.loadLatest())?.meta.v).toBe('b');
    await store.save(4, files(4));
    expect(readdirSync(dir).sort()).toEqual(['ckpt-000000000003', 'ckpt-000000000004']);
  });

  it('rejects unsafe file names and bad options', async () => {
    const store = new CheckpointStore(dir);
    await expect(store.save(1, new Map([['../x', new Uint8Array(1)]]))).rejects.toThrow(/invalid checkpoint file name/);
    await expect(store.save(1, new Map([['MANIFEST.json', new Uint8Array(1)]]))).rejects.toThrow(
      /invalid checkpoint file name/,
    );
    expect(() => new CheckpointStore(dir, { keep: 0 })).toThrow(/keep/);
  });

  it('never leaves a torn checkpoint when the saving process is SIGKILLed at random moments', async () => {
    const kills = 8;
    let loaded = 0;
    for (let k = 0; k < kills; k++) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'checkpoint-writer.ts'), dir],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      // Wait until the child has started saving, then kill it at a varying moment.
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 5 + ((k * 37) % 60)));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      const c = await new CheckpointStore(dir, { keep: 2 }).loadLatest();
      if (c) {
        loaded++;
        expect(c.skipped).toEqual([]);
        const step = c.step;
        expect(Buffer.from(c.files.get('weights.bin')!).equals(Buffer.alloc(1 << 20, step & 0xff))).toBe(true);
      }
    }
    expect(loaded).toBeGreaterThan(0);
  });
});
