/** Main-thread handle of the trainer worker: the `TrainerApi` the update uses, plus weights/optimizer access. */
import type { AdamWOptions, AdamWState } from '../shared/model/adamw.js';
import type { ModelConfig } from '../shared/model/config.js';
import type { PpoMinibatch, PpoStepSummary } from '../shared/model/trainer.js';
import { RpcClient, spawnTsWorker } from '../shared/worker-rpc.js';
import type { BcMinibatch, TrainerWorkerApi } from './trainer-api.js';
import type { TrainerApi } from './update.js';

export class TrainerClient implements TrainerApi {
  private constructor(private readonly rpc: RpcClient<TrainerWorkerApi>, readonly batchSize: number, readonly seqLen: number) {}

  static async start(o: {
    config: ModelConfig; params: Float32Array; optimizer: AdamWOptions; optimizerState?: AdamWState;
    batchSize: number; seqLen: number; padId: number; threads?: number;
  }): Promise<TrainerClient> {
    const rpc = new RpcClient<TrainerWorkerApi>(spawnTsWorker(new URL('./trainer.worker.ts', import.meta.url)));
    try {
      const shape = await rpc.call('init', o);
      return new TrainerClient(rpc, shape.batchSize, shape.seqLen);
    } catch (e) {
      await rpc.close();
      throw e;
    }
  }

  score(tokens: Int32Array, B: number, T: number): Promise<Float32Array> {
    return this.rpc.call('score', { tokens, B, T });
  }

  ppoStep(b: PpoMinibatch): Promise<PpoStepSummary> {
    return this.rpc.call('ppoStep', b);
  }

  bcStep(b: BcMinibatch) {
    return this.rpc.call('bcStep', b);
  }

  params(): Promise<Float32Array> {
    return this.rpc.call('params');
  }

  optimizerState(): Promise<AdamWState> {
    return this.rpc.call('optimizerState');
  }

  async close(): Promise<void> {
    try {
      await this.rpc.call('close');
    } finally {
      await this.rpc.close();
    }
  }
}
