/**
 * The shape of the policy network: a GPT-2-style causal transformer LM. One validated config drives the
 * parameter manifest, every ONNX graph and the Hugging Face `config.json` written beside a checkpoint.
 */
import { z } from 'zod';
import { LamerError } from '../errors.js';

const posInt = z.number().int().positive();

export const ModelConfigSchema = z
  .strictObject({
    vocabSize: posInt.describe('vocabulary size (token ids are 0..vocabSize-1)'),
    nCtx: posInt.describe('context length: the longest sequence the model accepts'),
    dModel: posInt.describe('width (embedding size)'),
    nLayer: posInt.describe('transformer blocks'),
    nHead: posInt.describe('attention heads; must divide dModel'),
    /**
     * A critic: a linear value head on the final hidden state (docs/method.md §4.7). Absent (the default) and
     * false mean no head, so every model without one keeps its config, manifest and checkpoint bytes.
     */
    valueHead: z.boolean().optional().describe('linear value head (PPO critic) on the final hidden state'),
  })
  .refine((c) => c.dModel % c.nHead === 0, { message: 'dModel must be divisible by nHead', path: ['dModel'] });

/** Shape of the model. `dModel % nHead == 0`; the MLP width is 4·dModel (GPT-2). */
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** Validates a config (from a file, CLI or the wire) and names every problem. */
export function parseModelConfig(value: unknown, what = 'model config'): ModelConfig {
  const r = ModelConfigSchema.safeParse(value);
  if (!r.success)
    throw new LamerError('RL_ERR_CONFIG', `invalid ${what}: ${z.prettifyError(r.error).replace(/\n/g, '; ')}`);
  return r.data;
}

/** The network of a run's `model` config section over a vocabulary of `vocabSize` tokens (no value head). */
export function modelConfigOf(
  model: Pick<ModelConfig, 'nCtx' | 'dModel' | 'nLayer' | 'nHead'>,
  vocabSize: number,
): ModelConfig {
  return { vocabSize, nCtx: model.nCtx, dModel: model.dModel, nLayer: model.nLayer, nHead: model.nHead };
}

/** Whether the model carries the PPO critic's value head. */
export function hasValueHead(cfg: ModelConfig): boolean {
  return cfg.valueHead === true;
}

/** Head width dModel / nHead. */
export function headDim(cfg: ModelConfig): number {
  return cfg.dModel / cfg.nHead;
}

/** The toy size every benchmark and the targets refer to (116,544 parameters). */
export const TOY_CONFIG: ModelConfig = Object.freeze({ vocabSize: 64, nCtx: 128, dModel: 64, nLayer: 2, nHead: 4 });
