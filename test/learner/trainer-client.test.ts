import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { TrainerClient } from '../../learner/trainer-client.js';
import type { ModelConfig } from '../../shared/model/config.js';
import type { PpoMinibatch } from '../../shared/model/trainer.js';

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
