import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../learner/checkpoint-store.js';
import { resolveModelSource } from '../../scripts/lib/model-source.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('which model eval/serve load', () => {
  it('--run-dir takes the newest valid checkpoint, falling back past a corrupt one', async () => {
    const run = mkdtempSync(join(tmpdir(), 'lamer-src-'));
    const store = new CheckpointStore(join(run, 'checkpoints'));
    await store.save(10, new Map([['lamer.json', bytes('{"v":10}')]]));
    await store.save(20, new Map([['lamer.json', bytes('{"v":20}')]]));
    expect(basename((await resolveModelSource({ runDir: run })).dir)).toBe('ckpt-000000000020');
    writeFileSync(join(run, 'checkpoints', 'ckpt-000000000020', 'lamer.json'), '{"v":"tampered"}');
    const src = await resolveModelSource({ runDir: run });
    expect(basename(src.dir)).toBe('ckpt-000000000010');
    expect(src.skipped.map((s) => basename(s.dir))).toEqual(['ckpt-000000000020']);
    // A run directory passed as --checkpoint is read the same way; a model directory is taken as it is.
    expect(basename((await resolveModelSource({ checkpoint: run })).dir)).toBe('ckpt-000000000010');
    const model = join(run, 'checkpoints', 'ckpt-000000000010');
    expect((await resolveModelSource({ checkpoint: model })).dir).toBe(model);
  });

  it('says what to pass when the directory is not a model or a run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-src-'));
    mkdirSync(join(dir, 'empty'));
    await expect(resolveModelSource({})).rejects.toThrow(/which model\? pass --run-dir DIR/);
    await expect(resolveModelSource({ checkpoint: dir, runDir: dir })).rejects.toThrow(/not both/);
    await expect(resolveModelSource({ checkpoint: join(dir, 'empty') })).rejects.toThrow(
      /no lamer\.json there, so it is not a model directory/,
    );
    await expect(resolveModelSource({ runDir: join(dir, 'empty') })).rejects.toThrow(/no checkpoints\/ directory/);
    await expect(resolveModelSource({ runDir: join(dir, 'missing') })).rejects.toThrow(/no such directory/);
  });
});
