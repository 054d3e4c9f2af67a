/**
 * Deadlines of the learner's disk awaits: a stuck fdatasync or checkpoint save surfaces as an error with its reason.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpointer } from '../../learner/checkpointer.js';
import type { CheckpointStore } from '../../learner/checkpoint-store.js';
import { Ledger } from '../../learner/ledger.js';
import type { LearnerState } from '../../learner/run-state.js';
import { buildManifest, initParams } from '../../shared/model/manifest.js';
import { WordTokenizer } from '../../shared/model/tokenizer.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lamer-deadlines-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('learner disk deadlines', () => {
  it(
    'an fdatasync past syncTimeoutMs fails the ledger: ' + 'the pending append rejects with the reason, later ones too',
    async () => {
      const l = await Ledger.open(dir, { syncTimeoutMs: 100 });
      expect(await l.append({ runId: 'r', actorId: 'a', incarnation: 'i', seq: 0 }, Buffer.from('x'))).toMatchObject({
        status: 'committed',
      });
      // Every FileHandle shares one prototype: make its datasync hang like a stuck disk.
      const probe = await open(join(dir, 'probe'), 'w');
      vi.spyOn(Object.getPrototypeOf(probe) as { datasync(): Promise<void> }, 'datasync').mockImplementation(
        () => new Promise(() => undefined),
      );
      await probe.close();
      await expect(l.append({ runId: 'r', actorId: 'a', incarnation: 'i', seq: 1 }, Buffer.from('y'))).rejects.toThrow(
        'ledger write failed: ledger fdatasync did not finish within 100 ms',
      );
      await expect(l.append({ runId: 'r', actorId: 'a', incarnation: 'i', seq: 2 }, Buffer.from('z'))).rejects.toThrow(
        /ledger failed earlier/,
      );
      vi.restoreAllMocks();
      await l.close();
    },
  );

  it('a checkpoint save past its deadline rejects with RL_ERR_TIMEOUT and logs why', async () => {
    const errors: string[] = [];
    const logger = { error: (_: unknown, m: string) => errors.push(m), info: () => undefined };
    const stuck = { save: () => new Promise<string>(() => undefined) } as unknown as CheckpointStore;
    const cfg = { vocabSize: 6, nCtx: 16, dModel: 8, nLayer: 1, nHead: 1 };
    const params = initParams(buildManifest(cfg), 1);
    const state = { runId: 'r', policyVersion: 4, learnerEpoch: 0, ledgerOffset: 0 } as LearnerState;
    const model = {
      config: cfg,
      params,
      optimizer: { step: 0, m: new Float32Array(params.length), v: new Float32Array(params.length) },
      tokenizer: new WordTokenizer(['a', 'b']),
    };
    await expect(new Checkpointer(stuck, logger as never, 80).save(state, model, 0)).rejects.toMatchObject({
      code: 'RL_ERR_TIMEOUT',
      message: 'checkpoint save of policy v4 did not finish within 80 ms',
    });
    expect(errors).toEqual(['checkpoint save missed its deadline (stuck disk?); stopping']);
  });
});
