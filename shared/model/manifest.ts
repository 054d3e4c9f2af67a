/**
 * The one parameter manifest: every tensor of the model by its Hugging Face GPT-2 name, with its shape and its
 * offset into one flat Float32Array. Graphs, checkpoints, the optimizer and the wire all use this layout.
 */
import { hasValueHead, type ModelConfig } from './config.js';
import { LamerError } from '../errors.js';
import { Xoshiro128Rng } from '../rng.js';

/** One tensor of the flat parameter buffer (offset and size in elements, not bytes). */
export interface ManifestEntry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

export interface Manifest {
  entries: ManifestEntry[];
  /** Total number of parameters (length of the flat buffer). */
  totalSize: number;
}

/** Names of the PPO critic's value head tensors (after every policy tensor, so the policy is a prefix). */
export const VALUE_HEAD_WEIGHT = 'value_head.weight';
export const VALUE_HEAD_BIAS = 'value_head.bias';

/** Whether a manifest entry belongs to the value head (inference graphs leave it out). */
export function isValueHeadEntry(name: string): boolean {
  return name === VALUE_HEAD_WEIGHT || name === VALUE_HEAD_BIAS;
}

/**
 * HF GPT-2 tensor shapes for one config; the LM head is tied to `transformer.wte.weight` (not a separate tensor).
 * With `valueHead`, the critic's [d, 1] weight and [1] bias follow every policy tensor.
 */
export function buildManifest(cfg: ModelConfig): Manifest {
  const d = cfg.dModel;
  const shapes: Array<[string, number[]]> = [
    ['transformer.wte.weight', [cfg.vocabSize, d]],
    ['transformer.wpe.weight', [cfg.nCtx, d]],
  ];
  for (let i = 0; i < cfg.nLayer; i++) {
    const p = `transformer.h.${i}.`;
    shapes.push(
      [p + 'ln_1.weight', [d]],
      [p + 'ln_1.bias', [d]],
      [p + 'attn.c_attn.weight', [d, 3 * d]],
      [p + 'attn.c_attn.bias', [3 * d]],
      [p + 'attn.c_proj.weight', [d, d]],
      [p + 'attn.c_proj.bias', [d]],
      [p + 'ln_2.weight', [d]],
      [p + 'ln_2.bias', [d]],
      [p + 'mlp.c_fc.weight', [d, 4 * d]],
      [p + 'mlp.c_fc.bias', [4 * d]],
      [p + 'mlp.c_proj.weight', [4 * d, d]],
      [p + 'mlp.c_proj.bias', [d]],
    );
  }
  shapes.push(['transformer.ln_f.weight', [d]], ['transformer.ln_f.bias', [d]]);
  if (hasValueHead(cfg)) shapes.push([VALUE_HEAD_WEIGHT, [d, 1]], [VALUE_HEAD_BIAS, [1]]);
  let offset = 0;
  const entries = shapes.map(([name, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const e = { name, shape, offset, size };
    offset += size;
    return e;
  });
  return { entries, totalSize: offset };
}

/** Looks an entry up by name (throws on a name the manifest does not have). */
export function entryOf(m: Manifest, name: string): ManifestEntry {
  const e = m.entries.find((x) => x.name === name);
  if (!e) throw new LamerError('RL_ERR_INTERNAL', `no parameter '${name}' in the manifest`);
  return e;
}

/** A view (no copy) of one tensor inside the flat buffer. */
export function paramView(m: Manifest, params: Float32Array, name: string): Float32Array {
  const e = entryOf(m, name);
  return params.subarray(e.offset, e.offset + e.size);
}

/**
 * GPT-2 initialisation (as Hugging Face `GPT2PreTrainedModel._init_weights`): weights and embeddings
 * N(0, 0.02), the two residual projections (`attn.c_proj`, `mlp.c_proj`) N(0, 0.02/sqrt(2·nLayer)),
 * biases 0, LayerNorm gains 1; the value head (last in the buffer, so the policy's draws are unchanged) 0, so a
 * fresh critic predicts 0 like one added to an existing checkpoint. Deterministic given the seed.
 */
export function initParams(m: Manifest, seed: number, std = 0.02): Float32Array {
  const nLayer = m.entries.filter((e) => /\.ln_1\.weight$/.test(e.name)).length;
  const rng = new Xoshiro128Rng(seed);
  const out = new Float32Array(m.totalSize);
  for (const e of m.entries) {
    const v = out.subarray(e.offset, e.offset + e.size);
    if (/(ln_\d|ln_f)\.weight$/.test(e.name)) v.fill(1);
    else if (e.name.endsWith('.bias') || isValueHeadEntry(e.name)) v.fill(0);
    else {
      const s = /c_proj\.weight$/.test(e.name) ? std / Math.sqrt(2 * nLayer) : std;
      for (let i = 0; i < v.length; i++) v[i] = rng.normal() * s;
    }
  }
  return out;
}

/** Throws a clear error when a flat buffer does not fit the manifest. */
export function checkParams(m: Manifest, params: Float32Array, what = 'parameters'): void {
  if (!(params instanceof Float32Array)) throw new LamerError('RL_ERR_MODEL', `${what} must be a Float32Array`);
  if (params.length !== m.totalSize) {
    throw new LamerError('RL_ERR_MODEL', `${what} have ${params.length} values but the model needs ${m.totalSize}`);
  }
}

/**
 * The policy alone: the config without `valueHead` and the parameters before the head (the same objects when the
 * model has no head). What generation needs, e.g. the weights published to actors.
 */
export function policyOnly(config: ModelConfig, params: Float32Array): { config: ModelConfig; params: Float32Array } {
  if (!hasValueHead(config)) return { config, params };
  const { valueHead: _, ...policy } = config;
  return { config: policy, params: params.slice(0, buildManifest(policy).totalSize) };
}

/**
 * The same model with a zero-initialised value head appended (a checkpoint saved without one: every model before
 * the critic existed, and the base models). Optimizer moments, when given, get zeros for the new tensors; the
 * step count is kept. A model that already has a head is returned as is.
 */
export function withValueHead<O extends { step: number; m: Float32Array; v: Float32Array }>(
  config: ModelConfig,
  params: Float32Array,
  optimizer?: O,
): { config: ModelConfig; params: Float32Array; optimizer?: O; added: boolean } {
  if (hasValueHead(config)) return { config, params, optimizer, added: false };
  const next: ModelConfig = { ...config, valueHead: true };
  const n = buildManifest(next).totalSize;
  const grow = (a: Float32Array) => {
    const out = new Float32Array(n);
    out.set(a);
    return out;
  };
  checkParams(buildManifest(config), params);
  return {
    config: next,
    params: grow(params),
    optimizer: optimizer && { ...optimizer, m: grow(optimizer.m), v: grow(optimizer.v) },
    added: true,
  };
}
