/**
 * The three ONNX graphs of the policy, all emitted by one transformer builder (`emitGpt`) over one parameter
 * manifest:
 * - scoring:  params [P], tokens [batch, seq] int32 → logp [batch, seq] (log p(token t | < t); position 0 = 0)
 *             and, for a model with a value head, values [batch, seq] (the critic's V at every position)
 * - decode:   KV-cache step in the Hugging Face/optimum I/O layout (input_ids, position_ids, attention_mask,
 *             past_key_values.{i}.key/value → logits, present.{i}.key/value); weights baked in as initializers
 * - training: static [B, T]; forward + in-graph loss (PPO-clip with IS weights, dual clip and entropy bonus, or
 *             weighted log-likelihood; with a value head, plus the clipped value loss) + backward by autodiff →
 *             loss, stats, logp and the flat gradient [P].
 *             Its forward computes the same function but is emitted for a cheap backward: LayerNorm affine parts
 *             folded into the next linear layer (column-centred), GELU's constants in the MLP weights, residual
 *             sums as one op, attention in two causal query blocks (see emitGpt's `training`).
 *
 * Model: GPT-2 (pre-LayerNorm, eps 1e-5; learned positions; exact erf GELU; head tied to wte). Optional value
 * head (PPO critic, docs/method.md §4.7): V = h·w + b on the final hidden state h; the decode graph leaves it out.
 */
import { hasValueHead, headDim, type ModelConfig } from './config.js';
import { buildManifest, VALUE_HEAD_BIAS, VALUE_HEAD_WEIGHT, type Manifest } from './manifest.js';
import { gradients } from './onnx/autodiff.js';
import { attention, gelu, scaledGelu } from './onnx/layers.js';
import { GraphBuilder, staticShape, type Dim, type Tensor } from './onnx/graph.js';

export const LN_EPS = 1e-5;
/** Additive attention bias for masked keys; finite so fully masked (padding) rows never produce NaN. */
export const MASK_BIAS = -1e9;
const BIG = 2 ** 31 - 1;
/** |logp − prox_logp| is clamped here before exp (shared/rl/policy-loss.ts LOG_RATIO_CLAMP). */
export const LOG_RATIO_CLAMP = 20;

export type Params = Map<string, Tensor>;

/** Parameter tensors as Slice+Reshape views of one flat input (weights change every call without a rebuild). */
export function paramsFromFlat(b: GraphBuilder, m: Manifest, flat: Tensor): Params {
  const p: Params = new Map();
  for (const e of m.entries) {
    const s = b.slice(flat, [e.offset], [e.offset + e.size], [0]);
    p.set(e.name, e.shape.length === 1 ? s : b.reshape(s, e.shape));
  }
  return p;
}

/** Parameter tensors baked in as initializers named by the manifest (inference graphs; prepacked by ORT). */
export function paramsAsInitializers(b: GraphBuilder, m: Manifest, params: Float32Array): Params {
  const p: Params = new Map();
  for (const e of m.entries)
    p.set(e.name, b.initializer(e.name, 'float32', e.shape, params.slice(e.offset, e.offset + e.size)));
  return p;
}

/** Lower-triangular additive mask table [nCtx, nCtx]: 0 where key <= query, MASK_BIAS elsewhere. */
export function causalTable(n: number): Float32Array {
  return causalBlock(n, n, 0);
}

/** Additive causal mask [rows, keys] for queries first, first + 1, ...: 0 where key <= query. */
function causalBlock(rows: number, keys: number, first: number): Float32Array {
  const t = new Float32Array(rows * keys);
  for (let i = 0; i < rows; i++) for (let j = first + i + 1; j < keys; j++) t[i * keys + j] = MASK_BIAS;
  return t;
}

/**
 * Causal self-attention over a static [B, H, T, dh] (training graphs) in two query blocks: the first half of
 * the queries only sees the first half of the keys, so the [T, T] score tensors shrink to a [T/2, T/2] and a
 * [T/2, T] block (3/4 of the entries: a quarter less work in every score-sized MatMul and elementwise pass,
 * forward and backward), for a few slices of the small q, k, v tensors. Same result as one causal attention.
 */
function blockCausalAttention(b: GraphBuilder, q: Tensor, k: Tensor, v: Tensor): Tensor {
  const T = staticShape(q)[2]!;
  const h = T >> 1;
  const rows = (t: Tensor, s: number, e: number) => b.slice(t, [s], [e], [2]);
  const mask = (r: number, keys: number, first: number) => b.constant(causalBlock(r, keys, first), q.dtype, [r, keys]);
  const [q1, q2] = b.split(q, 2, [h, T - h]) as [Tensor, Tensor]; // Split: its gradient is one Concat
  const o1 = attention(b, q1, rows(k, 0, h), rows(v, 0, h), mask(h, h, 0));
  const o2 = attention(b, q2, k, v, mask(T - h, T, h));
  return b.concat([o1, o2], 2);
}

function linear(b: GraphBuilder, x: Tensor, w: Tensor, bias: Tensor): Tensor {
  return b.add(b.matmul(x, w), bias);
}

/**
 * x + (y·W + b). Training graphs add the three in one variadic Sum (one pass over [B, T, d] instead of two);
 * inference graphs keep MatMul + Add + Add, the pattern onnxruntime's inference fusions expect.
 */
function residual(
  b: GraphBuilder,
  x: Tensor,
  y: Tensor,
  w: Tensor,
  bias: Tensor,
  training: boolean | undefined,
): Tensor {
  return training ? b.sum([x, b.matmul(y, w), bias]) : b.add(x, linear(b, y, w, bias));
}

/** LayerNorm over the last axis without an affine part (scale a constant of ones; statistics emitted). */
function plainNorm(b: GraphBuilder, x: Tensor): Tensor {
  const d = staticShape(x).at(-1)!;
  return b.layerNorm(x, b.constant(new Array<number>(d).fill(1), x.dtype, [d]), null, LN_EPS, true).y;
}

/**
 * (x̂·γ + β)·W + b computed as x̂·(diag(γ)·W) + (β·W + b): the training graphs fold each LayerNorm's affine part
 * into the linear layer after it. The folded products are [d, N]-sized, so the backward no longer spends
 * passes over the [B, T, d] activations on recomputing x̂ (the plain LayerNorm's own output) or on dγ, dβ.
 */
function affineLinear(
  b: GraphBuilder,
  xhat: Tensor,
  gamma: Tensor,
  beta: Tensor,
  w: Tensor,
  bias: Tensor | null,
): Tensor {
  const [d, n] = staticShape(w) as [number, number];
  // x̂ has zero-mean rows, so centring the folded weights' columns leaves x̂·W unchanged and lets the LayerNorm
  // backward skip a pass (its incoming gradient G·Wᵀ then has zero-mean rows; see the LayerNormalization rule).
  const wf = b.centerColumns(b.mul(b.reshape(gamma, [d, 1]), w));
  const shift = b.reshape(b.matmul(b.reshape(beta, [1, d]), w), [n]);
  return b.add(b.matmul(xhat, wf), bias ? b.add(shift, bias) : shift);
}

/** LayerNorm then a linear layer; `fold`: the training form (see affineLinear). */
function normLinear(
  b: GraphBuilder,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  w: Tensor,
  bias: Tensor,
  fold: boolean | undefined,
): Tensor {
  if (fold) return affineLinear(b, plainNorm(b, x), gamma, beta, w, bias);
  return linear(b, b.layerNorm(x, gamma, beta, LN_EPS).y, w, bias);
}

export interface EmitOptions {
  ids: Tensor;
  /** Positional embeddings, broadcastable to [B, n, d]. */
  pos: Tensor;
  /** Additive attention bias, broadcastable to [B, H, n, past + n]. */
  attnBias: Tensor;
  /** KV cache per layer, [B, H, past, dh] each. */
  past?: { k: Tensor[]; v: Tensor[] };
  /**
   * Training graph: emit LayerNorm statistics (needed by the backward pass) and fold each LayerNorm's affine
   * part into the linear layer after it (see normLinear); `hidden` is then the final LayerNorm's x̂ and only
   * `logits` applies ln_f's γ, β.
   */
  training?: boolean;
}

export interface GptOutputs {
  /** Final hidden states [B, n, d] (training: before ln_f's affine part). */
  hidden: Tensor;
  /** The tied LM head applied to (a slice of) `hidden`: [.., d] → [.., V]. */
  logits: (h: Tensor) => Tensor;
  /** The value head applied to `hidden` [B, n, d] → [B, n]; null when the model has none. */
  values: ((h: Tensor) => Tensor) | null;
  presentK: Tensor[];
  presentV: Tensor[];
}

/** The transformer body: embeddings → blocks → final LayerNorm, and the tied head. */
export function emitGpt(b: GraphBuilder, cfg: ModelConfig, p: Params, o: EmitOptions): GptOutputs {
  const d = cfg.dModel;
  const H = cfg.nHead;
  const dh = headDim(cfg);
  const P = (name: string) => p.get(name)!;
  let x = b.add(b.gather(P('transformer.wte.weight'), o.ids, 0), o.pos);
  const scale = b.scalar(1 / Math.sqrt(dh));
  const presentK: Tensor[] = [];
  const presentV: Tensor[] = [];
  for (let i = 0; i < cfg.nLayer; i++) {
    const pre = `transformer.h.${i}.`;
    const qkv = normLinear(
      b,
      x,
      P(pre + 'ln_1.weight'),
      P(pre + 'ln_1.bias'),
      P(pre + 'attn.c_attn.weight'),
      P(pre + 'attn.c_attn.bias'),
      o.training,
    );
    const [q0, k0, v0] = b.split(qkv, -1, [d, d, d]);
    const heads = (t: Tensor) => b.transpose(b.reshape(t, [0, 0, H, dh]), [0, 2, 1, 3]);
    let k = heads(k0!);
    let v = heads(v0!);
    if (o.past) {
      k = b.concat([o.past.k[i]!, k], 2);
      v = b.concat([o.past.v[i]!, v], 2);
    }
    presentK.push(k);
    presentV.push(v);
    const q = b.mul(heads(q0!), scale);
    const att = o.training ? blockCausalAttention(b, q, k, v) : attention(b, q, k, v, o.attnBias);
    const y = b.reshape(b.transpose(att, [0, 2, 1, 3]), [0, 0, d]);
    x = residual(b, x, y, P(pre + 'attn.c_proj.weight'), P(pre + 'attn.c_proj.bias'), o.training);
    const [wFc, bFc, wProj, bProj] = ['mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias'].map(
      (n) => P(pre + n),
    ) as [Tensor, Tensor, Tensor, Tensor];
    if (o.training) {
      // GELU(x)·W = scaledGelu(x/√2)·(W/√2): both constants go into the [d, 4d] / [4d, d] weights, not into
      // passes over the [B, T, 4d] activations.
      const s = (t: Tensor) => b.mul(t, b.scalar(Math.SQRT1_2, t.dtype));
      const u = normLinear(b, x, P(pre + 'ln_2.weight'), P(pre + 'ln_2.bias'), s(wFc), s(bFc), true);
      x = residual(b, x, scaledGelu(b, u), s(wProj), bProj, true);
    } else {
      x = residual(
        b,
        x,
        gelu(b, normLinear(b, x, P(pre + 'ln_2.weight'), P(pre + 'ln_2.bias'), wFc, bFc, false)),
        wProj,
        bProj,
        false,
      );
    }
  }
  const gamma = P('transformer.ln_f.weight');
  const beta = P('transformer.ln_f.bias');
  const critic = hasValueHead(cfg) && p.has(VALUE_HEAD_WEIGHT);
  const scalarPerPosition = (t: Tensor) => b.reshape(t, [0, -1]); // [B, n, 1] → [B, n]
  if (o.training) {
    const wteT = b.transpose(P('transformer.wte.weight'), [1, 0]);
    const values = critic
      ? (h: Tensor) => scalarPerPosition(affineLinear(b, h, gamma, beta, P(VALUE_HEAD_WEIGHT), P(VALUE_HEAD_BIAS)))
      : null;
    return {
      hidden: plainNorm(b, x),
      logits: (h) => affineLinear(b, h, gamma, beta, wteT, null),
      values,
      presentK,
      presentV,
    };
  }
  const hidden = b.layerNorm(x, gamma, beta, LN_EPS).y;
  const values = critic
    ? (h: Tensor) => scalarPerPosition(linear(b, h, P(VALUE_HEAD_WEIGHT), P(VALUE_HEAD_BIAS)))
    : null;
  return { hidden, logits: (h) => lmHead(b, p, h), values, presentK, presentV };
}

/** Tied LM head: hidden [.., d] → logits [.., V]. */
export function lmHead(b: GraphBuilder, p: Params, hidden: Tensor): Tensor {
  return b.matmul(hidden, b.transpose(p.get('transformer.wte.weight')!, [1, 0]));
}

/**
 * Next-token log-softmax for positions 0..n-2 and the log-prob of the actual next tokens, padded with 0 at
 * position 0 so row t is log p(token t | < t).
 */
function tokenLogprobs(
  b: GraphBuilder,
  gpt: GptOutputs,
  ids: Tensor,
  training?: boolean,
): { lsm: Tensor; logp: Tensor } {
  // Training slices the logits rather than the hidden states (one extra position through the head), so the
  // final LayerNorm's output feeds the head MatMul directly (its gradient keeps the G·Wᵀ form).
  const lastOut = (t: Tensor) => b.slice(t, [0], [-1], [1]);
  const lsm = b.logSoftmax(training ? lastOut(gpt.logits(gpt.hidden)) : gpt.logits(lastOut(gpt.hidden)), -1);
  const targets = b.unsqueeze(b.slice(ids, [1], [BIG], [1]), [-1]);
  const lp = b.reshape(b.gatherElements(lsm, targets, -1), [0, -1]);
  return { lsm, logp: b.pad(lp, [0, 1, 0, 0]) };
}

/** Scoring graph: params [P], tokens [batch, seq] int32 → logp [batch, seq]. */
export function buildScoringGraph(cfg: ModelConfig): GraphBuilder {
  const m = buildManifest(cfg);
  const b = new GraphBuilder('float32');
  const flat = b.input('params', 'float32', [m.totalSize]);
  const ids = b.input('tokens', 'int32', ['batch', 'seq']);
  const p = paramsFromFlat(b, m, flat);
  const seqLen = b.slice(b.shapeOf(ids), [1], [2], [0]);
  const pos = b.sliceDyn(p.get('transformer.wpe.weight')!, b.ints([0]), seqLen, [0], ['seq', cfg.dModel]);
  const table = b.constant(causalTable(cfg.nCtx), 'float32', [cfg.nCtx, cfg.nCtx]);
  const bias = b.sliceDyn(table, b.ints([0, 0]), b.concat([seqLen, seqLen], 0), [0, 1], ['seq', 'seq']);
  const gpt = emitGpt(b, cfg, p, { ids, pos, attnBias: bias });
  b.output(tokenLogprobs(b, gpt, ids).logp, 'logp');
  if (gpt.values) b.output(gpt.values(gpt.hidden), 'values');
  return b;
}

/** Names of the decode graph's cache inputs/outputs for layer i. */
export const cacheNames = (i: number) => ({
  pastK: `past_key_values.${i}.key`,
  pastV: `past_key_values.${i}.value`,
  presentK: `present.${i}.key`,
  presentV: `present.${i}.value`,
});

/**
 * KV-cache decode graph (also the prefill: past length 0, n = prompt length). attention_mask [batch, past + n]
 * marks real tokens (1) and padding (0); causality is by cache index, so left-padded prompts work.
 * Weights are initializers when `params` is given, else a flat `params` input.
 */
export function buildDecodeGraph(cfg: ModelConfig, params?: Float32Array): GraphBuilder {
  // The decode graph never computes the value head (generation does not need it): a policy-only manifest.
  const m = buildManifest({ ...cfg, valueHead: undefined });
  const b = new GraphBuilder('float32');
  const H = cfg.nHead;
  const dh = headDim(cfg);
  const p = params
    ? paramsAsInitializers(b, m, params)
    : paramsFromFlat(b, m, b.input('params', 'float32', [m.totalSize]));
  const ids = b.input('input_ids', 'int64', ['batch', 'seq']);
  const posIds = b.input('position_ids', 'int64', ['batch', 'seq']);
  const mask = b.input('attention_mask', 'int64', ['batch', 'total']);
  const past = { k: [] as Tensor[], v: [] as Tensor[] };
  for (let i = 0; i < cfg.nLayer; i++) {
    const n = cacheNames(i);
    past.k.push(b.input(n.pastK, 'float32', ['batch', H, 'past', dh]));
    past.v.push(b.input(n.pastV, 'float32', ['batch', H, 'past', dh]));
  }
  const pos = b.gather(p.get('transformer.wpe.weight')!, posIds, 0);
  // Causality by cache index, built with Range: the cache of a left-padded batch can outgrow nCtx.
  const pastLen = b.gather(b.shapeOf(past.k[0]!), b.constant([2], 'int64', []), 0);
  const newLen = b.gather(b.shapeOf(ids), b.constant([1], 'int64', []), 0);
  const total = b.add(pastLen, newLen);
  const one = b.constant([1], 'int64', []);
  const qIdx = b.unsqueeze(b.range(pastLen, total, one, 'seq'), [1]);
  const kIdx = b.unsqueeze(b.range(b.constant([0], 'int64', []), total, one, 'total'), [0]);
  const causal = b.where(b.lessOrEqual(kIdx, qIdx), b.scalar(0), b.scalar(MASK_BIAS));
  const keyBias = b.mul(b.sub(b.cast(mask, 'float32'), b.scalar(1)), b.scalar(-MASK_BIAS));
  const bias = b.add(b.unsqueeze(keyBias, [1, 2]), causal);
  const { hidden, presentK, presentV } = emitGpt(b, cfg, p, { ids, pos, attnBias: bias, past });
  b.output(lmHead(b, p, hidden), 'logits');
  for (let i = 0; i < cfg.nLayer; i++) {
    b.output(presentK[i]!, cacheNames(i).presentK);
    b.output(presentV[i]!, cacheNames(i).presentV);
  }
  return b;
}

export type TrainingLoss = 'ppo' | 'bc';

/**
 * Training graph for a static batch [B, T]. Inputs: params [P], tokens [B, T] int32 and
 * - ppo: resp_mask, advantages, prox_logp, is_weight [B, T]; clip_eps, dual_clip_c, entropy_coef scalars
 * - bc:  weights [B, T]
 * Outputs: loss, (ppo: pg_loss, entropy, clip_frac, dual_clip_frac,) logp [B, T], grads [P].
 *
 * PPO per response token t (exactly shared/rl/policy-loss.ts, mask ∈ {0, 1}):
 * r = exp(clamp(logp − prox_logp, ±20)); pg1 = −A·r; pg2 = −A·clip(r, 1−ε, 1+ε); pgc = max(pg1, pg2);
 * pg = min(pgc, −A·c) if A < 0 else pgc; loss = Σ mask·w·pg / n − entropy_coef · Σ mask·H / n with
 * n = max(Σ mask, 1) and H the entropy of the model's distribution over token t. Ties take the unclipped
 * branch (autodiff Max/Min conventions). clip_frac counts pg2 > pg1, dual_clip_frac A < 0 ∧ pgc > −A·c.
 * BC: loss = −Σ w·logp / Σ w.
 *
 * With a value head (ppo; docs/method.md §4.7), inputs value_mask, returns, old_values [B, T] and value_clip,
 * value_coef scalars; V [B, T] is the head on every position and, at the positions where value_mask is 1 (one
 * per row: its last prompt token, the state the turn acts from),
 * Vc = old_values + clip(V − old_values, ±value_clip), vl = ½·max((V − R)², (Vc − R)²),
 * value_loss = Σ value_mask·vl / max(Σ value_mask, 1), and loss += value_coef · value_loss. Extra outputs
 * value_loss and values. In a bc graph the head gets a zero gradient.
 */
export function buildTrainingGraph(
  cfg: ModelConfig,
  B: number,
  T: number,
  loss: TrainingLoss,
  float: 'float32' | 'float64' = 'float32',
): GraphBuilder {
  const m = buildManifest(cfg);
  const b = new GraphBuilder(float);
  const flat = b.input('params', float, [m.totalSize]);
  const ids = b.input('tokens', 'int32', [B, T]);
  const p = paramsFromFlat(b, m, flat);
  const pos = b.slice(p.get('transformer.wpe.weight')!, [0], [T], [0]);
  const bias = b.constant(causalTable(T), float, [T, T]);
  const gpt = emitGpt(b, cfg, p, { ids, pos, attnBias: bias, training: true });
  const { lsm, logp } = tokenLogprobs(b, gpt, ids, true);
  const sumAll = (t: Tensor) => b.reduceSum(t, [0, 1], false);
  let lossT: Tensor;
  if (loss === 'ppo') {
    const mask = b.input('resp_mask', float, [B, T]);
    const adv = b.input('advantages', float, [B, T]);
    const prox = b.input('prox_logp', float, [B, T]);
    const w = b.input('is_weight', float, [B, T]);
    const eps = b.input('clip_eps', float, []);
    const c = b.input('dual_clip_c', float, []);
    const entCoef = b.input('entropy_coef', float, []);
    const zero = b.scalar(0, float);
    const one = b.scalar(1, float);
    const delta = b.clip(b.sub(logp, prox), b.scalar(-LOG_RATIO_CLAMP, float), b.scalar(LOG_RATIO_CLAMP, float));
    const ratio = b.exp(delta);
    const negA = b.neg(adv);
    const pg1 = b.mul(negA, ratio);
    const pg2 = b.mul(negA, b.clip(ratio, b.sub(one, eps), b.add(one, eps)));
    const pgc = b.max(pg1, pg2);
    const dualBound = b.mul(negA, c);
    const negAdv = b.less(adv, zero);
    const pg = b.where(negAdv, b.min(pgc, dualBound), pgc);
    // Token mean over the response (L = 0 for an empty mask, as in shared/rl/policy-loss.ts).
    const denom = b.max(sumAll(mask), one);
    const mean = (t: Tensor) => b.div(sumAll(b.mul(mask, t)), denom);
    const pgLoss = mean(b.mul(w, pg));
    const H = b.pad(b.neg(b.reduceSum(b.mul(b.exp(lsm), lsm), [-1], false)), [0, 1, 0, 0]);
    const ent = mean(H);
    lossT = b.sub(pgLoss, b.mul(entCoef, ent));
    if (gpt.values) lossT = b.add(lossT, clippedValueLoss(b, gpt.values(gpt.hidden), B, T, float));
    b.output(pgLoss, 'pg_loss');
    b.output(ent, 'entropy');
    b.output(mean(b.cast(b.greater(pg2, pg1), float)), 'clip_frac');
    b.output(mean(b.cast(b.and(negAdv, b.greater(pgc, dualBound)), float)), 'dual_clip_frac');
  } else {
    const w = b.input('weights', float, [B, T]);
    lossT = b.neg(b.div(sumAll(b.mul(w, logp)), sumAll(w)));
  }
  b.output(lossT, 'loss');
  b.output(logp, 'logp');
  const wrt = m.entries.map((e) => p.get(e.name)!);
  const grads = gradients(b, lossT, wrt);
  b.output(
    b.concat(
      grads.map((g, i) => (m.entries[i]!.shape.length === 1 ? g : b.reshape(g, [m.entries[i]!.size]))),
      0,
    ),
    'grads',
  );
  return b;
}

/**
 * The PPO critic's clipped value loss (see buildTrainingGraph) times value_coef; declares its inputs and emits
 * the value_loss and values outputs.
 */
function clippedValueLoss(b: GraphBuilder, V: Tensor, B: number, T: number, float: 'float32' | 'float64'): Tensor {
  const vMask = b.input('value_mask', float, [B, T]);
  const ret = b.input('returns', float, [B, T]);
  const old = b.input('old_values', float, [B, T]);
  const clipV = b.input('value_clip', float, []);
  const coef = b.input('value_coef', float, []);
  const sq = (t: Tensor) => b.mul(t, t);
  const Vc = b.add(old, b.clip(b.sub(V, old), b.neg(clipV), clipV));
  const vl = b.mul(b.max(sq(b.sub(V, ret)), sq(b.sub(Vc, ret))), b.scalar(0.5, float));
  const denom = b.max(b.reduceSum(vMask, [0, 1], false), b.scalar(1, float));
  const valueLoss = b.div(b.reduceSum(b.mul(vMask, vl), [0, 1], false), denom);
  b.output(valueLoss, 'value_loss');
  b.output(V, 'values');
  return b.mul(coef, valueLoss);
}

export type { Dim };
