/**
 * A model checkpoint as a set of files, built and parsed purely in memory (the learner's atomic checkpoint
 * store writes them; `saveModelDir`/`loadModelDir` are conveniences for CLI commands):
 * - `model.safetensors`: every manifest tensor by its Hugging Face GPT-2 name (F32; the LM head is tied to
 *   `transformer.wte.weight` and omitted, as `save_pretrained` does), metadata `format: pt`; a model with the PPO
 *   critic also holds `value_head.weight`/`value_head.bias` (transformers ignores them when loading GPT-2);
 * - `config.json`: a Hugging Face GPT2Config (`activation_function: "gelu"`, i.e. exact erf GELU);
 * - `optimizer.safetensors` (optional): AdamW `m` and `v`, `step` in the metadata;
 * - `tokenizer.json` (optional): Hugging Face WordLevel tokenizer;
 * - `lamer.json`: our config, the manifest (so a mismatch is caught by name) and caller `extra` data.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { LamerError } from '../errors.js';
import type { AdamWState } from './adamw.js';
import { parseModelConfig, type ModelConfig } from './config.js';
import { buildManifest, type Manifest } from './manifest.js';
import { readSafetensors, writeSafetensors, type SafeTensor } from './safetensors.js';
import { WordTokenizer } from './tokenizer.js';

export const MODEL_FILES = {
  weights: 'model.safetensors',
  hfConfig: 'config.json',
  optimizer: 'optimizer.safetensors',
  tokenizer: 'tokenizer.json',
  lamer: 'lamer.json',
} as const;

export interface ModelFiles {
  config: ModelConfig;
  params: Float32Array;
  optimizer?: AdamWState;
  tokenizer?: WordTokenizer;
  extra?: Record<string, unknown>;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v, null, 2) + '\n');

function ckptError(msg: string): LamerError {
  return new LamerError('RL_ERR_CHECKPOINT', msg);
}

/** Hugging Face GPT2Config for `transformers.GPT2LMHeadModel`. */
export function hfConfigJson(cfg: ModelConfig, tok?: WordTokenizer): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: cfg.vocabSize,
    n_positions: cfg.nCtx,
    n_embd: cfg.dModel,
    n_layer: cfg.nLayer,
    n_head: cfg.nHead,
    n_inner: null,
    activation_function: 'gelu',
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    layer_norm_epsilon: 1e-5,
    initializer_range: 0.02,
    scale_attn_weights: true,
    tie_word_embeddings: true,
    use_cache: true,
    bos_token_id: tok?.bos ?? 1,
    eos_token_id: tok?.eos ?? 2,
    pad_token_id: tok?.pad ?? 0,
  };
}

/** Builds the checkpoint files in memory. */
export function serializeModel(m: ModelFiles): Map<string, Uint8Array> {
  const config = parseModelConfig(m.config);
  const manifest = buildManifest(config);
  if (!(m.params instanceof Float32Array) || m.params.length !== manifest.totalSize) {
    throw new LamerError(
      'RL_ERR_MODEL',
      `parameters have ${m.params?.length} values, the config needs ${manifest.totalSize}`,
    );
  }
  if (m.tokenizer && m.tokenizer.vocabSize > config.vocabSize) {
    throw new LamerError(
      'RL_ERR_MODEL',
      `tokenizer has ${m.tokenizer.vocabSize} words but the model vocabulary is ${config.vocabSize}`,
    );
  }
  const files = new Map<string, Uint8Array>();
  files.set(
    MODEL_FILES.weights,
    writeSafetensors(
      manifest.entries.map((e): [string, SafeTensor] => [
        e.name,
        { dtype: 'F32', shape: e.shape, data: m.params.subarray(e.offset, e.offset + e.size) },
      ]),
      { format: 'pt' },
    ),
  );
  files.set(MODEL_FILES.hfConfig, json(hfConfigJson(config, m.tokenizer)));
  if (m.optimizer) {
    const o = m.optimizer;
    if (o.m.length !== manifest.totalSize || o.v.length !== manifest.totalSize) {
      throw new LamerError(
        'RL_ERR_MODEL',
        `optimizer moments have ${o.m.length}/${o.v.length} values, the model has ${manifest.totalSize}`,
      );
    }
    files.set(
      MODEL_FILES.optimizer,
      writeSafetensors(
        [
          ['m', { dtype: 'F32', shape: [o.m.length], data: o.m }],
          ['v', { dtype: 'F32', shape: [o.v.length], data: o.v }],
        ],
        { format: 'lamer-adamw', step: String(o.step) },
      ),
    );
  }
  if (m.tokenizer) files.set(MODEL_FILES.tokenizer, json(m.tokenizer.toJSON()));
  files.set(
    MODEL_FILES.lamer,
    json({
      format: 'lamer-model',
      version: 1,
      config,
      manifest: manifest.entries,
      totalSize: manifest.totalSize,
      extra: m.extra ?? {},
    }),
  );
  return files;
}

function parseJsonFile(files: Map<string, Uint8Array>, name: string): unknown {
  const b = files.get(name);
  if (!b) throw ckptError(`checkpoint is missing ${name}`);
  try {
    return JSON.parse(dec.decode(b));
  } catch (e) {
    throw ckptError(`${name} is not valid JSON: ${(e as Error).message}`);
  }
}

function checkManifest(expected: Manifest, got: unknown): void {
  if (!Array.isArray(got)) throw ckptError('lamer.json has no manifest array');
  const n = Math.max(expected.entries.length, got.length);
  for (let i = 0; i < n; i++) {
    const e = expected.entries[i];
    const g = got[i] as { name?: unknown; shape?: unknown; offset?: unknown; size?: unknown } | undefined;
    const gs = g ? `${String(g.name)} [${String(g.shape)}] @${String(g.offset)}` : 'nothing';
    const es = e ? `${e.name} [${e.shape}] @${e.offset}` : 'nothing';
    if (
      !e ||
      !g ||
      g.name !== e.name ||
      JSON.stringify(g.shape) !== JSON.stringify(e.shape) ||
      g.offset !== e.offset ||
      g.size !== e.size
    ) {
      throw ckptError(
        `checkpoint manifest does not match its config at entry ${i}: file has ${gs}, config implies ${es}`,
      );
    }
  }
}

/** Parses checkpoint files; every mismatch between config, manifest and tensors is a clear RL_ERR_CHECKPOINT. */
export function parseModel(files: Map<string, Uint8Array>): ModelFiles {
  const meta = parseJsonFile(files, MODEL_FILES.lamer) as {
    format?: unknown;
    config?: unknown;
    manifest?: unknown;
    extra?: unknown;
  } | null;
  if (typeof meta !== 'object' || meta === null || meta.format !== 'lamer-model')
    throw ckptError('lamer.json is not a lamer model description');
  let config: ModelConfig;
  try {
    config = parseModelConfig(meta.config, 'lamer.json config');
  } catch (e) {
    throw ckptError((e as Error).message);
  }
  const manifest = buildManifest(config);
  checkManifest(manifest, meta.manifest);
  const hf = parseJsonFile(files, MODEL_FILES.hfConfig) as Record<string, unknown> | null;
  const pairs: Array<[string, number]> = [
    ['vocab_size', config.vocabSize],
    ['n_positions', config.nCtx],
    ['n_embd', config.dModel],
    ['n_layer', config.nLayer],
    ['n_head', config.nHead],
  ];
  for (const [k, v] of pairs) {
    if (hf?.[k] !== v) throw ckptError(`config.json ${k} is ${JSON.stringify(hf?.[k])} but lamer.json says ${v}`);
  }
  const wb = files.get(MODEL_FILES.weights);
  if (!wb) throw ckptError(`checkpoint is missing ${MODEL_FILES.weights}`);
  const { tensors } = readSafetensors(wb, MODEL_FILES.weights);
  const params = new Float32Array(manifest.totalSize);
  for (const e of manifest.entries) {
    const t = tensors.get(e.name);
    if (!t) throw ckptError(`${MODEL_FILES.weights} is missing tensor '${e.name}'`);
    if (t.dtype !== 'F32') throw ckptError(`tensor '${e.name}' is ${t.dtype}, expected F32`);
    if (JSON.stringify(t.shape) !== JSON.stringify(e.shape))
      throw ckptError(`tensor '${e.name}' has shape [${t.shape}], the config implies [${e.shape}]`);
    params.set(t.data as Float32Array, e.offset);
  }
  // The tied head may be stored explicitly by other tools; anything else is a different model.
  for (const name of tensors.keys()) {
    if (name !== 'lm_head.weight' && !manifest.entries.some((e) => e.name === name)) {
      throw ckptError(`${MODEL_FILES.weights} has tensor '${name}' that the manifest does not know`);
    }
  }
  const out: ModelFiles = { config, params };
  const ob = files.get(MODEL_FILES.optimizer);
  if (ob) {
    const o = readSafetensors(ob, MODEL_FILES.optimizer);
    const m = o.tensors.get('m');
    const v = o.tensors.get('v');
    const step = Number(o.metadata.step);
    if (!m || !v || m.dtype !== 'F32' || v.dtype !== 'F32')
      throw ckptError(`${MODEL_FILES.optimizer} needs F32 tensors 'm' and 'v'`);
    if (m.data.length !== manifest.totalSize || v.data.length !== manifest.totalSize) {
      throw ckptError(
        `${MODEL_FILES.optimizer} moments have ${m.data.length}/${v.data.length} ` +
          `values, the model has ${manifest.totalSize}`,
      );
    }
    if (!Number.isSafeInteger(step) || step < 0)
      throw ckptError(
        `${MODEL_FILES.optimizer} metadata step ${JSON.stringify(o.metadata.step)} is not a non-negative integer`,
      );
    out.optimizer = { step, m: m.data as Float32Array, v: v.data as Float32Array };
  }
  if (files.has(MODEL_FILES.tokenizer)) {
    const tok = WordTokenizer.fromJSON(parseJsonFile(files, MODEL_FILES.tokenizer));
    if (tok.vocabSize > config.vocabSize)
      throw ckptError(`tokenizer has ${tok.vocabSize} words but the model vocabulary is ${config.vocabSize}`);
    out.tokenizer = tok;
  }
  if (meta.extra !== undefined) {
    if (typeof meta.extra !== 'object' || meta.extra === null || Array.isArray(meta.extra))
      throw ckptError('lamer.json extra must be an object');
    out.extra = meta.extra as Record<string, unknown>;
  }
  return out;
}

/** Writes the checkpoint files into `dir` (created if needed); each file is written to a temp name then renamed. */
export function saveModelDir(dir: string, m: ModelFiles): void {
  const files = serializeModel(m);
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) {
    const tmp = join(dir, `.${name}.tmp-${process.pid}`);
    writeFileSync(tmp, bytes);
    renameSync(tmp, join(dir, name));
  }
}

/** Reads the checkpoint files found in `dir` and parses them. */
export function loadModelDir(dir: string): ModelFiles {
  if (!existsSync(dir)) throw ckptError(`checkpoint directory '${dir}' does not exist`);
  const files = new Map<string, Uint8Array>();
  const present = new Set(readdirSync(dir));
  for (const name of Object.values(MODEL_FILES)) {
    if (present.has(name)) files.set(name, new Uint8Array(readFileSync(join(dir, name))));
  }
  return parseModel(files);
}
