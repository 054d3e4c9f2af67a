/** Where a learner starts (learner/run-state.ts) and what a checkpoint holds (learner/checkpointer.ts). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../learner/checkpoint-store.js';
import { Checkpointer } from '../../learner/checkpointer.js';
import { resumeOrStart } from '../../learner/run-state.js';
import { RunDir } from '../../shared/run-dir.js';
import { config, silent } from './components.js';

let dir = '';
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

const cfg = config({ model: { dModel: 8, nLayer: 1, nHead: 2, nCtx: 16, init: 'random' } });

describe('resumeOrStart + Checkpointer', () => {
  it('starts fresh with a stable run id, then resumes the checkpointed state in a new epoch', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lamer-state-'));
    const runDir = new RunDir(dir);
    const store = () => new CheckpointStore(runDir.file('checkpoints'), { keep: 2 });
    const a = await resumeOrStart({ config: cfg, runDir, logger: silent, store: store(), vocabulary: ['a', 'b'] });
    expect(a.state.policyVersion).toBe(0);
    expect(a.state.learnerEpoch).toBe(0);
    expect(a.tokenizer.vocabSize).toBe(6);
    expect(a.optimizerState).toBeUndefined();
    a.state.policyVersion = 7;
    a.state.counters.trialsTrained = 42;
    const optimizer = {
      step: 3,
      m: new Float32Array(a.params.length).fill(0.1),
      v: new Float32Array(a.params.length).fill(0.2),
    };
    await new Checkpointer(store(), silent).save(
      a.state,
      { config: a.modelConfig, params: a.params, optimizer, tokenizer: a.tokenizer },
      0,
    );
    const b = await resumeOrStart({ config: cfg, runDir, logger: silent, store: store(), vocabulary: ['ignored'] });
    expect(b.state.runId).toBe(a.state.runId);
    expect(b.state.policyVersion).toBe(7);
    expect(b.state.counters.trialsTrained).toBe(42);
    expect(b.state.learnerEpoch).toBe(1);
    expect(Array.from(b.params)).toEqual(Array.from(a.params));
    expect(b.optimizerState?.step).toBe(3);
    expect(b.tokenizer.words).toEqual(a.tokenizer.words);
    expect(readFileSync(runDir.file('learner-epoch'), 'utf8').trim()).toBe('1');
  });

  it('refuses a learner-epoch file that does not hold a number', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lamer-state-'));
    const runDir = new RunDir(dir);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(runDir.file('learner-epoch'), 'garbage\n');
    await expect(
      resumeOrStart({
        config: cfg,
        runDir,
        logger: silent,
        store: new CheckpointStore(runDir.file('checkpoints'), { keep: 1 }),
        vocabulary: [],
      }),
    ).rejects.toThrow(/does not hold an epoch number/);
  });
});
