/**
 * The policy engine: a GPT-2-style causal transformer LM run by onnxruntime-node from ONNX graphs this code
 * builds — scoring, KV-cache decode and training (reverse-mode autodiff over the emitted nodes).
 *
 * Model and weights
 * - `ModelConfig` / `parseModelConfig` / `TOY_CONFIG` (config.ts): vocabSize, nCtx, dModel, nLayer, nHead.
 * - `buildManifest(cfg)` → `{ entries: {name, shape, offset, size}[], totalSize }` with Hugging Face GPT-2 names
 *   (`transformer.wte.weight`, `transformer.h.0.attn.c_attn.weight` [d, 3d], ...; head tied to wte);
 *   `initParams(manifest, seed)` GPT-2 init into one flat Float32Array (manifest.ts).
 * - `WordTokenizer` (tokenizer.ts): `<pad> <bos> <eos> <unk>` then words; whitespace split; unknown → `<unk>`.
 * - Checkpoints (checkpoint-files.ts): `serializeModel({config, params, optimizer?, tokenizer?, extra?})` →
 *   Map of files (model.safetensors, config.json, optimizer.safetensors, tokenizer.json, lamer.json);
 *   `parseModel(files)`; `saveModelDir(dir, model)` / `loadModelDir(dir)`. safetensors.ts is our own reader/writer.
 * - `exportOnnx(cfg, params)` (export.ts): standalone decode graph in the optimum I/O layout.
 *
 * Running it
 * - `createScorer(cfg, params)` (scorer.ts): `logprobs(seqs)` → entry t = log p(token t | < t), entry 0 null.
 * - `PolicyTrainer.create({config, params, optimizer, batchSize, seqLen, threads?})` (trainer.ts):
 *   `ppoStep`, `bcStep`, `ppoGradients`, `bcGradients`, `applyGradients`, `score`, `params`, `setParams`,
 *   `optimizerState`, `loadOptimizerState`, `close`. The PPO surrogate (shared/rl/policy-loss.ts) and the entropy
 *   bonus live inside the graph. Run it in a worker thread: `session.run` blocks its thread.
 * - `AdamW` (adamw.ts): PyTorch AdamW + global-norm clipping on the flat buffer; `decayMaskFor(manifest)`.
 * - `PolicyPool.create({config, params, version, threads?})` (policy-pool.ts): `generate(reqs)` runs ONE batched
 *   KV-cache decode for all requests in a piscina worker; `setWeights(params, version)`; `version`; `close()`.
 *   `GenResult.logprobs` = log μ under the sampling distribution actually used (temperature, then top-p
 *   renormalised; 0 for greedy); `rawLogprobs` = under the plain model distribution.
 * - `DecodeEngine` (generate.ts): the same decoding on the calling thread (tests, tools).
 *
 * Graph internals: onnx/graph.ts (builder with shape inference), onnx/autodiff.ts (one rule per op),
 * onnx/layers.ts (attention, GELU and the training graph's scaledGelu with hand-written backward), gpt-graphs.ts
 * (the three graphs; the training forward is emitted for a cheap backward), trainer.ts's
 * TRAINING_DISABLED_OPTIMIZERS (onnxruntime fusions skipped in training sessions).
 */
export { parseModelConfig, headDim, TOY_CONFIG, ModelConfigSchema, type ModelConfig } from './config.js';
export {
  buildManifest,
  initParams,
  paramView,
  entryOf,
  checkParams,
  type Manifest,
  type ManifestEntry,
} from './manifest.js';
export { WordTokenizer, SPECIAL_TOKENS, type WordTokenizerJson } from './tokenizer.js';
export { readSafetensors, writeSafetensors, type SafeTensor, type SafeDType } from './safetensors.js';
export { AdamW, decayMaskFor, type AdamWOptions, type AdamWState } from './adamw.js';
export {
  serializeModel,
  parseModel,
  saveModelDir,
  loadModelDir,
  hfConfigJson,
  MODEL_FILES,
  type ModelFiles,
} from './checkpoint-files.js';
export { createScorer, type Scorer } from './scorer.js';
export {
  PolicyTrainer,
  type PolicyTrainerOptions,
  type PpoBatch,
  type PpoResult,
  type BcBatch,
  type StepInfo,
} from './trainer.js';
export { DecodeEngine, checkGenRequests, type GenRequest, type GenResult } from './generate.js';
export { PolicyPool, type PolicyPoolOptions } from './policy-pool.js';
export { sampleToken, type SampleSettings, type Sampled } from './sampling.js';
export { exportOnnx } from './export.js';
export { Xoshiro128Rng } from '../rng.js';
