/**
 * The trainer worker's API, written once: the worker implements it (trainer.worker.ts), the main thread calls it
 * through a typed RPC client (trainer-client.ts), and the update (update.ts) sees the part it needs.
 */
import type { AdamWOptions, AdamWState } from '../shared/model/adamw.js';
import type { PolicyTrainerOptions, PpoMinibatch, PpoStepSummary } from '../shared/model/trainer.js';

export interface BcMinibatch {
  tokens: Int32Array;
  B: number;
  T: number;
  weights: Float32Array;
}

export interface TrainerInit extends PolicyTrainerOptions {
  optimizer: AdamWOptions;
  padId: number;
}

export interface TrainerWorkerApi {
  init(o: TrainerInit): Promise<{ batchSize: number; seqLen: number }>;
  ppoStep(b: PpoMinibatch): Promise<PpoStepSummary>;
  bcStep(b: BcMinibatch): Promise<{ loss: number; gradNorm: number; clipped: boolean }>;
  score(b: { tokens: Int32Array; B: number; T: number }): Promise<Float32Array>;
  scoreWithValues(b: {
    tokens: Int32Array;
    B: number;
    T: number;
  }): Promise<{ logp: Float32Array; values: Float32Array }>;
  /** Runs every bucket shape once so that the worker's memory is at its ceiling now (trainer.worker.ts). */
  prewarm(): Promise<{ shapes: string[]; ms: number }>;
  params(): Float32Array;
  setParams(p: Float32Array): void;
  optimizerState(): AdamWState;
  close(): Promise<void>;
}
