/**
 * Session options reach onnxruntime: the memory-pattern switch of createSession, and the setting the trainer's
 * and the scorer's scoring sessions use (their input shapes change at every call; see shared/model/scorer.ts).
 */
import ort from 'onnxruntime-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ModelConfig } from '../../../shared/model/config.js';
import { buildManifest, initParams } from '../../../shared/model/manifest.js';
import { buildScoringGraph } from '../../../shared/model/gpt-graphs.js';
import { toOnnxBytes } from '../../../shared/model/onnx/encode.js';
import { createScorer } from '../../../shared/model/scorer.js';
import { createSession } from '../../../shared/model/session.js';
import { PolicyTrainer } from '../../../shared/model/trainer.js';

const cfg: ModelConfig = { vocabSize: 11, nCtx: 8, dModel: 8, nLayer: 1, nHead: 2 };
const params = initParams(buildManifest(cfg), 3);

/** The options of every InferenceSession.create call while `f` runs (the sessions are still created). */
async function sessionOptions(f: () => Promise<void>): Promise<ort.InferenceSession.SessionOptions[]> {
  const spy = vi.spyOn(ort.InferenceSession, 'create');
  await f();
  return spy.mock.calls.map((c) => c.at(-1) as ort.InferenceSession.SessionOptions);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('createSession', () => {
  const bytes = toOnnxBytes(buildScoringGraph(cfg));

  it('passes memPattern as enableMemPattern and leaves onnxruntime its default otherwise', async () => {
    const opts = await sessionOptions(async () => {
      for (const o of [{ memPattern: false }, { memPattern: true }, {}])
        await (await createSession(bytes, o)).release();
    });
    expect(opts.map((o) => o.enableMemPattern)).toEqual([false, true, undefined]);
    expect(opts.every((o) => o.enableCpuMemArena === true)).toBe(true);
  });
});

describe('sessions with varying input shapes', () => {
  it('the trainer scores without the memory pattern; its static-shape training session keeps it', async () => {
    const opts = await sessionOptions(async () => {
      const t = await PolicyTrainer.create({ config: cfg, params, optimizer: { lr: 1e-3 }, batchSize: 2, seqLen: 4 });
      await t.score(new Int32Array(3 * 5).fill(4), 3, 5);
      await t.close();
    });
    expect(opts.map((o) => o.enableMemPattern)).toEqual([undefined, false]);
  });

  it("a trainer's memory option applies to all its sessions", async () => {
    const opts = await sessionOptions(async () => {
      const t = await PolicyTrainer.create({
        config: cfg,
        params,
        optimizer: { lr: 1e-3 },
        batchSize: 2,
        seqLen: 4,
        memory: { memPattern: true, memArena: false },
      });
      await t.score(new Int32Array(2 * 3).fill(4), 2, 3);
      await t.close();
    });
    expect(opts.map((o) => [o.enableMemPattern, o.enableCpuMemArena])).toEqual([
      [true, false],
      [true, false],
    ]);
  });

  it('the scorer creates its session without the memory pattern', async () => {
    const opts = await sessionOptions(async () => {
      const s = await createScorer(cfg, params);
      expect((await s.logprobs([[1, 4, 5]]))[0]).toHaveLength(3);
      await s.close();
    });
    expect(opts.map((o) => o.enableMemPattern)).toEqual([false]);
  });
});
