/**
 * A standalone ONNX file of the policy for other tools: the KV-cache decode graph with the weights baked in,
 * in the Hugging Face/optimum decoder I/O layout —
 *   inputs  input_ids, position_ids [batch, seq] int64; attention_mask [batch, past + seq] int64 (1 = real token);
 *           past_key_values.{i}.key / .value [batch, nHead, past, headDim] float32 (past may be 0)
 *   outputs logits [batch, seq, vocab]; present.{i}.key / .value [batch, nHead, past + seq, headDim]
 * With past = 0 it scores whole sequences (log_softmax(logits) gives the scoring log-probs).
 */
import { parseModelConfig, type ModelConfig } from './config.js';
import { buildDecodeGraph } from './gpt-graphs.js';
import { buildManifest, checkParams } from './manifest.js';
import { toOnnxBytes } from './onnx/encode.js';

export function exportOnnx(cfg: ModelConfig, params: Float32Array): Uint8Array {
  const config = parseModelConfig(cfg);
  checkParams(buildManifest(config), params);
  return toOnnxBytes(buildDecodeGraph(config, params), 'lamer-policy');
}
