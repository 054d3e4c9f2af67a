import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { TrainerClient } from '../../learner/trainer-client.js';
import type { ModelConfig } from '../../shared/model/config.js';
import { buildManifest, initParams } from '../../shared/model/manifest.js';
import { PolicyTrainer, type PpoMinibatch } from '../../shared/model/trainer.js';

const stuckWorker = (starts: SharedArrayBuffer) => () =>
  new Worker(
    "import { register } from 'tsx/esm/api'; register(); " +
      `await import(${JSON.stringify(fileURLToPath(new URL('./fixtures/stuck-trainer.worker.ts', import.meta.url)))});`,
    { eval: true, workerData: { starts } },
  );

describe('trainer watchdog', () => {
  it('replaces a worker stuck in an update with one holding the last published weights', async () => {
    const starts = new SharedArrayBuffer(4);
    const logged: string[] = [];
    const logger = {
      warn: (_: unknown, m: string) => logged.push(m),
      error: (_: unknown, m: string) => logged.push(m),
    };
    const params = Float32Array.from([10, 20, 30]);
    const t = await TrainerClient.start({
      config: { vocabSize: 8, nCtx: 16, dModel: 8, nLayer: 1, nHead: 1 } as ModelConfig,
      params,
      optimizer: { lr: 1e-3, weightDecay: 0, clipNorm: 1 },
      batchSize: 2,
      seqLen: 16,
      padId: 0,
      callTimeoutMs: 1500,
      logger: logger as never,
      spawn: stuckWorker(starts),
    });
    try {
      expect(Array.from(await t.params())).toEqual([10, 20, 30]);
      await expect(t.ppoStep({} as PpoMinibatch)).rejects.toMatchObject({
        code: 'RL_ERR_TIMEOUT',
        message: "worker call 'ppoStep' did not finish within 1500 ms",
      });
      expect(t.restarts).toBe(1);
      expect(new Int32Array(starts)[0]).toBe(2);
      expect(logged).toEqual([
        'trainer worker missed a deadline; replacing it',
        'trainer worker restarted from the last published weights and the last checkpointed optimizer state',
      ]);
      // The replacement answers, starting from the weights the main thread last held.
      await t.ppoStep({} as PpoMinibatch);
      expect(Array.from(await t.params())).toEqual([11, 20, 30]);
    } finally {
      await t.close();
    }
  });
});

describe('trainer worker shapes', () => {
  const config: ModelConfig = { vocabSize: 12, nCtx: 128, dModel: 16, nLayer: 1, nHead: 2 };
  const params = initParams(buildManifest(config), 3);
  const opts = {
    config,
    params,
    optimizer: { lr: 1e-3, weightDecay: 0, clipNorm: 1 },
    batchSize: 8,
    seqLen: 128,
    padId: 0,
  };

  it('scores any [B, T] on its bucket shape with the same log-probs as an unpadded pass', async () => {
    const B = 3;
    const T = 37;
    const tokens = Int32Array.from({ length: B * T }, (_, i) => 1 + ((i * 7) % 11));
    const t = await TrainerClient.start(opts);
    const direct = await PolicyTrainer.create(opts);
    try {
      const got = await t.score(tokens, B, T);
      const want = await direct.score(tokens, B, T);
      expect(got.length).toBe(B * T);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
    } finally {
      await t.close();
      await direct.close();
    }
  });

  it('prewarm runs every bucket shape in the background after start and logs them', async () => {
    const infos: Array<{ shapes: string[]; ms: number }> = [];
    const logger = { info: (o: { shapes: string[]; ms: number }) => infos.push(o), warn() {}, error() {} };
    const t = await TrainerClient.start({ ...opts, prewarm: true, logger: logger as never });
    try {
      // In the background: start returns first; `warmed` settles when it is done.
      await t.warmed;
      expect(infos).toHaveLength(1);
      expect(infos[0]!.shapes).toEqual(['2x64', '2x128', '8x64', '8x128']);
      // Still a working trainer afterwards: the weights were not moved by the warm-up passes.
      expect(Array.from(await t.params())).toEqual(Array.from(params));
    } finally {
      await t.close();
    }
  });
});
