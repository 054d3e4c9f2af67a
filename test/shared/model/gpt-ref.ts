/**
 * An independent jax-js implementation of the GPT-2 forward pass and the PPO/BC losses (float64), written
 * straight from the math (HF GPT-2 semantics), used as the oracle for the ONNX graphs. Test-only.
 */
import type { ModelConfig } from '../../../shared/model/config.js';
import type { Manifest } from '../../../shared/model/manifest.js';
import { jarr, jint, nn, np, scipySpecial, type JArray } from './jax-helpers.js';

export type JParams = Record<string, JArray>;

/** Splits a flat buffer into named jax arrays (float64). */
export function jaxParams(m: Manifest, flat: ArrayLike<number>): JParams {
  const out: JParams = {};
  for (const e of m.entries)
    out[e.name] = jarr(
      Array.from({ length: e.size }, (_, i) => flat[e.offset + i]!),
      e.shape,
    );
  return out;
}

function layerNorm(x: JArray, g: JArray, b: JArray): JArray {
  const mu = np.mean(x.ref, -1, { keepdims: true }) as JArray;
  const xc = x.sub(mu);
  const v = np.mean(xc.ref.mul(xc.ref), -1, { keepdims: true }) as JArray;
  return xc
    .div(np.sqrt(v.add(1e-5)) as JArray)
    .mul(g)
    .add(b);
}

/** x [R, K] @ w [K, N] + b, with 2-D matmuls only. */
function linear(x: JArray, w: JArray, b: JArray, lead: number[]): JArray {
  const K = w.shape[0]!;
  const N = w.shape[1]!;
  return (np.matmul(x.reshape([-1, K]), w) as JArray).add(b).reshape([...lead, N]);
}

/** Final hidden states [B, T, d] (after ln_f) of tokens [B, T]. Params are referenced (.ref), never consumed. */
function gptHidden(cfg: ModelConfig, P: JParams, ids: number[], B: number, T: number): JArray {
  const R = (n: string) => P[n]!.ref;
  const d = cfg.dModel;
  const H = cfg.nHead;
  const dh = d / H;
  let x = (np.take(R('transformer.wte.weight'), jint(ids, [B, T]), 0) as JArray).add(
    R('transformer.wpe.weight').slice([0, T]),
  );
  const causal = Array.from({ length: T * T }, (_, k) => (Math.floor(k / T) >= k % T ? 0 : -1e9));
  for (let i = 0; i < cfg.nLayer; i++) {
    const p = `transformer.h.${i}.`;
    const h = layerNorm(x.ref, R(p + 'ln_1.weight'), R(p + 'ln_1.bias'));
    const qkv = linear(h, R(p + 'attn.c_attn.weight'), R(p + 'attn.c_attn.bias'), [B, T]);
    const head = (k: number) =>
      qkv.ref
        .slice([], [], [k * d, (k + 1) * d])
        .reshape([B, T, H, dh])
        .transpose([0, 2, 1, 3]);
    const q = head(0).mul(1 / Math.sqrt(dh));
    const k = head(1);
    const v = head(2);
    qkv.dispose();
    const s = (np.matmul(q, k.transpose([0, 1, 3, 2])) as JArray).add(jarr(causal, [T, T]));
    const a = nn.softmax(s, -1) as JArray;
    const y = (np.matmul(a, v) as JArray).transpose([0, 2, 1, 3]).reshape([B, T, d]);
    x = x.add(linear(y, R(p + 'attn.c_proj.weight'), R(p + 'attn.c_proj.bias'), [B, T]));
    const h2 = layerNorm(x.ref, R(p + 'ln_2.weight'), R(p + 'ln_2.bias'));
    const u = linear(h2, R(p + 'mlp.c_fc.weight'), R(p + 'mlp.c_fc.bias'), [B, T]);
    const g = u.ref.mul(0.5).mul((scipySpecial.erf(u.mul(Math.SQRT1_2)) as JArray).add(1));
    x = x.add(linear(g, R(p + 'mlp.c_proj.weight'), R(p + 'mlp.c_proj.bias'), [B, T]));
  }
  return layerNorm(x, R('transformer.ln_f.weight'), R('transformer.ln_f.bias'));
}

/** Logits [B, T, V] of tokens [B, T]. Params are referenced (.ref), never consumed. */
export function gptLogits(cfg: ModelConfig, P: JParams, ids: number[], B: number, T: number): JArray {
  const hid = gptHidden(cfg, P, ids, B, T);
  return (np.matmul(hid.reshape([B * T, cfg.dModel]), P['transformer.wte.weight']!.ref.transpose()) as JArray).reshape([
    B,
    T,
    cfg.vocabSize,
  ]);
}

/** The value head V = h·w + b at every position [B, T] (h the final hidden state). */
export function gptValues(cfg: ModelConfig, P: JParams, ids: number[], B: number, T: number): JArray {
  const hid = gptHidden(cfg, P, ids, B, T);
  return (np.matmul(hid.reshape([B * T, cfg.dModel]), P['value_head.weight']!.ref) as JArray)
    .add(P['value_head.bias']!.ref)
    .reshape([B, T]);
}

export interface ValueRefInputs {
  valueMask: number[];
  returns: number[];
  oldValues: number[];
  valueClip: number;
  valueCoef: number;
}

/**
 * The clipped value loss of docs/method.md §4.7, written independently: per masked position
 * ½·max((V − R)², (V_old + clip(V − V_old, ±ε_v) − R)²), averaged over the mask; returned times the coefficient.
 */
export function valueLossRef(cfg: ModelConfig, P: JParams, ids: number[], B: number, T: number, o: ValueRefInputs) {
  const sh = [B, T];
  const V = gptValues(cfg, P, ids, B, T);
  const R = jarr(o.returns, sh);
  const old = jarr(o.oldValues, sh);
  const Vc = old.ref.add(np.clip(V.ref.sub(old), -o.valueClip, o.valueClip) as JArray);
  const d1 = V.sub(R.ref);
  const d2 = Vc.sub(R);
  const vl = (np.maximum(d1.ref.mul(d1), d2.ref.mul(d2)) as JArray).mul(0.5);
  const n = Math.max(
    o.valueMask.reduce((a, b) => a + b, 0),
    1,
  );
  return jarr(o.valueMask, sh).mul(vl).sum().div(n).mul(o.valueCoef);
}

/** log p(token t | < t) [B, T] (position 0 = 0) and the entropy of the distribution over token t [B, T]. */
export function tokenLogprobsAndEntropy(
  cfg: ModelConfig,
  P: JParams,
  ids: number[],
  B: number,
  T: number,
): { logp: JArray; H: JArray } {
  const lsm = nn.logSoftmax(gptLogits(cfg, P, ids, B, T).slice([], [0, T - 1]), -1) as JArray;
  const targets = jint(
    Array.from({ length: B * (T - 1) }, (_, k) => ids[Math.floor(k / (T - 1)) * T + (k % (T - 1)) + 1]!),
    [B, T - 1, 1],
  );
  const lp = (np.takeAlongAxis(lsm.ref, targets, -1) as JArray).reshape([B, T - 1]);
  const H = (np.exp(lsm.ref) as JArray).mul(lsm).sum(-1).neg();
  return {
    logp: np.pad(lp, [
      [0, 0],
      [1, 0],
    ]) as JArray,
    H: np.pad(H, [
      [0, 0],
      [1, 0],
    ]) as JArray,
  };
}

export interface PpoRefInputs {
  mask: number[];
  adv: number[];
  prox: number[];
  w: number[];
  clipEps: number;
  dualClipC: number;
  entropyCoef: number;
}

/** The PPO loss of docs/method.md §4 / shared/rl/policy-loss.ts, written independently in jax. */
export function ppoLossRef(cfg: ModelConfig, P: JParams, ids: number[], B: number, T: number, o: PpoRefInputs): JArray {
  const { logp, H } = tokenLogprobsAndEntropy(cfg, P, ids, B, T);
  const sh = [B, T];
  const m = jarr(o.mask, sh);
  const A = jarr(o.adv, sh);
  const n = o.mask.reduce((a, b) => a + b, 0);
  const r = np.exp(np.clip(logp.sub(jarr(o.prox, sh)), -20, 20)) as JArray;
  const pg1 = A.ref.neg().mul(r.ref);
  const pg2 = A.ref.neg().mul(np.clip(r, 1 - o.clipEps, 1 + o.clipEps));
  const pgc = np.maximum(pg1, pg2) as JArray;
  const pg = np.where(A.ref.less(0), np.minimum(pgc.ref, A.ref.neg().mul(o.dualClipC)), pgc) as JArray;
  A.dispose();
  const pgLoss = m.ref.mul(jarr(o.w, sh)).mul(pg).sum().div(n);
  const ent = m.mul(H).sum().div(n);
  return pgLoss.sub(ent.mul(o.entropyCoef));
}

/** −Σ w·logp / Σ w. */
export function bcLossRef(cfg: ModelConfig, P: JParams, ids: number[], B: number, T: number, w: number[]): JArray {
  const { logp, H } = tokenLogprobsAndEntropy(cfg, P, ids, B, T);
  H.dispose();
  return logp
    .mul(jarr(w, [B, T]))
    .sum()
    .div(w.reduce((a, b) => a + b, 0))
    .neg();
}
