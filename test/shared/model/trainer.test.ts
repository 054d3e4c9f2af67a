/**
 * The training graph end to end: whole-model parameter gradients against an independent jax-js model
 * (float64), the in-graph PPO loss against shared/rl/policy-loss.ts, scoring against jax, a supervised task
 * trained to ~0 loss, and clear errors on bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../shared/model/config.js';
import { buildManifest, initParams, type Manifest } from '../../../shared/model/manifest.js';
import { PolicyTrainer, type PpoBatch } from '../../../shared/model/trainer.js';
import { createScorer } from '../../../shared/model/scorer.js';
import { LOG_RATIO_CLAMP } from '../../../shared/model/gpt-graphs.js';
import * as policyLoss from '../../../shared/rl/policy-loss.js';
import { Xoshiro128Rng } from '../../../shared/rng.js';
import { grad, jarr, values, type JArray } from './jax-helpers.js';
import { bcLossRef, jaxParams, ppoLossRef, tokenLogprobsAndEntropy } from './gpt-ref.js';

const cfg: ModelConfig = { vocabSize: 13, nCtx: 10, dModel: 8, nLayer: 2, nHead: 2 };
const B = 3;
const T = 7;
const m: Manifest = buildManifest(cfg);
const rng = new Xoshiro128Rng(2024);
// Larger-than-GPT-2 init so the function is far from uniform and every parameter matters.
const params = initParams(m, 11, 0.3);
for (const e of m.entries)
  if (!e.name.endsWith('.weight') || e.shape.length === 1) {
    for (let i = 0; i < e.size; i++) params[e.offset + i] += 0.2 * rng.normal();
  }
const ids = Array.from({ length: B * T }, () => Math.floor(rng.uniform() * cfg.vocabSize));
const tokens = Int32Array.from(ids);

let trainer: PolicyTrainer;
beforeAll(async () => {
  trainer = await PolicyTrainer.create({ config: cfg, params, optimizer: { lr: 1e-2 }, batchSize: B, seqLen: T });
});
afterAll(async () => trainer?.close());

function jaxLogp(): Float64Array {
  const { logp, H } = tokenLogprobsAndEntropy(cfg, jaxParams(m, params), ids, B, T);
  H.dispose();
  return values(logp);
}

/** ||a − b|| / ||b|| per manifest tensor; returns the worst. */
function worstRelErr(ours: Float32Array, ref: Record<string, JArray>): { worst: number; name: string } {
  let worst = 0;
  let name = '';
  for (const e of m.entries) {
    const r = values(ref[e.name]!);
    let num = 0;
    let den = 0;
    for (let i = 0; i < e.size; i++) {
      num += (ours[e.offset + i]! - r[i]!) ** 2;
      den += r[i]! ** 2;
    }
    expect(den, `${e.name} has a zero reference gradient`).toBeGreaterThan(0);
    const rel = Math.sqrt(num / den);
    if (rel > worst) [worst, name] = [rel, e.name];
  }
  return { worst, name };
}

function ppoBatch(logp: ArrayLike<number>): PpoBatch {
  const n = B * T;
  const respMask = new Float32Array(n);
  const advantages = new Float32Array(n);
  const proxLogp = new Float32Array(n);
  const isWeight = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (i % T === 0) continue;
    respMask[i] = i % T >= 2 || i < T ? 1 : 0;
    advantages[i] = rng.uniform() * 2 - 1;
    proxLogp[i] = logp[i]! + 0.4 * rng.normal();
    isWeight[i] = 0.5 + rng.uniform();
  }
  // Make each branch of the surrogate happen: dual clip (A < 0, r > c) and the ±20 log-ratio clamp.
  advantages[T + 3] = -0.8;
  proxLogp[T + 3] = logp[T + 3]! - 1.6;
  proxLogp[2 * T + 4] = logp[2 * T + 4]! - 25;
  respMask[2 * T + 4] = 1;
  return { tokens, respMask, advantages, proxLogp, isWeight, clipEps: 0.2, dualClipC: 3, entropyCoef: 0.05 };
}

describe('scoring', () => {
  it('matches the jax-js model (≤ 1e-5) and the trainer/scorer APIs agree', async () => {
    const ref = jaxLogp();
    const ours = await trainer.score(tokens, B, T);
    for (let i = 0; i < B * T; i++) expect(Math.abs(ours[i]! - ref[i]!)).toBeLessThanOrEqual(1e-5);
    const scorer = await createScorer(cfg, params);
    try {
      const rows = [ids.slice(0, T), ids.slice(T, T + 3), [5], []];
      const lp = await scorer.logprobs(rows);
      expect(lp.map((r) => r.length)).toEqual([T, 3, 1, 0]);
      expect(lp[0]![0]).toBeNull();
      for (let t = 1; t < T; t++) expect(Math.abs(lp[0]![t]! - ref[t]!)).toBeLessThanOrEqual(1e-5);
      for (let t = 1; t < 3; t++) expect(Math.abs(lp[1]![t]! - ref[T + t]!)).toBeLessThanOrEqual(1e-5);
      await expect(scorer.logprobs([[1, 2, 13]])).rejects.toThrow(
        /token id 13 at position 2 is outside the vocabulary \(0..12\)/,
      );
      await expect(scorer.logprobs([Array(11).fill(1)])).rejects.toThrow(
        /sequence of 11 tokens is longer than the model context \(10\)/,
      );
    } finally {
      await scorer.close();
    }
  });
});

describe('training graph forward', () => {
  // The training graph's forward is emitted differently from the scoring graph's (LayerNorm affine folded into
  // the next linear layer, GELU constants in the MLP weights, attention in two causal query blocks); its
  // log-probs must still be the scoring graph's, or importance ratios on fresh data would drift from 1.
  it("gives the scoring graph's log-probs (≤ 1e-5) for odd and even sequence lengths", async () => {
    for (const len of [T, 8]) {
      const t =
        len === T
          ? trainer
          : await PolicyTrainer.create({ config: cfg, params, optimizer: { lr: 1e-2 }, batchSize: B, seqLen: len });
      try {
        const toks = Int32Array.from({ length: B * len }, (_, i) => ids[i % ids.length]!);
        const scored = await t.score(toks, B, len);
        const { logp } = await t.bcGradients({
          tokens: toks,
          weights: new Float32Array(B * len).map((_, i) => (i % len ? 1 : 0)),
        });
        for (let i = 0; i < B * len; i++)
          expect(Math.abs(logp[i]! - scored[i]!), `T=${len} token ${i}`).toBeLessThanOrEqual(1e-5);
      } finally {
        if (t !== trainer) await t.close();
      }
    }
  });
});

describe('PPO training graph', () => {
  it('parameter gradients match jax-js (relative error ≤ 1e-4 per tensor)', async () => {
    const b = ppoBatch(jaxLogp());
    const ours = await trainer.ppoGradients(b);
    const o = {
      mask: Array.from(b.respMask),
      adv: Array.from(b.advantages),
      prox: Array.from(b.proxLogp),
      w: Array.from(b.isWeight),
      clipEps: b.clipEps,
      dualClipC: b.dualClipC,
      entropyCoef: b.entropyCoef,
    };
    const P = jaxParams(m, params);
    const lossRef = ppoLossRef(cfg, P, ids, B, T, o).item();
    expect(Math.abs(ours.loss - lossRef)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(lossRef)));
    const g = grad((p: Record<string, JArray>) => ppoLossRef(cfg, p, ids, B, T, o))(P) as unknown as Record<
      string,
      JArray
    >;
    const { worst, name } = worstRelErr(ours.grads, g);
    expect(worst, `worst tensor ${name}`).toBeLessThanOrEqual(1e-4);
    expect(ours.dualClipFrac).toBeGreaterThan(0);
    expect(ours.clipFrac).toBeGreaterThan(0);
  });

  it('implements shared/rl/policy-loss.ts: loss, clip flags and ∂L/∂logp', async () => {
    expect(LOG_RATIO_CLAMP).toBe(policyLoss.LOG_RATIO_CLAMP);
    const b = ppoBatch(jaxLogp());
    const ours = await trainer.ppoGradients(b);
    const ref = policyLoss.ppoTokenLoss(ours.logp, b.proxLogp, b.advantages, {
      clipEps: b.clipEps,
      dualClipC: b.dualClipC,
    });
    const n = b.respMask.reduce((a, x) => a + x, 0);
    let pg = 0;
    let clipped = 0;
    let dual = 0;
    for (let i = 0; i < B * T; i++) {
      if (!b.respMask[i]) continue;
      pg += b.isWeight[i]! * ref.loss[i]!;
      clipped += ref.clipped[i]!;
      dual += ref.dualClipped[i]!;
    }
    expect(ours.pgLoss).toBeCloseTo(pg / n, 5);
    expect(ours.clipFrac).toBeCloseTo(clipped / n, 6);
    expect(ours.dualClipFrac).toBeCloseTo(dual / n, 6);
    // Gradient: by the chain rule, dL/dθ = Σ_t c_t·dlogp_t/dθ − β/n·Σ_t m_t·dH_t/dθ with the reference's
    // c_t = m_t·w_t·∂pg_t/∂logp_t / n. Differentiate that surrogate in jax and compare with the graph.
    const c = Array.from({ length: B * T }, (_, i) => (b.respMask[i] ? (b.isWeight[i]! * ref.dLossDLogp[i]!) / n : 0));
    const mH = Array.from(b.respMask, (x) => (-b.entropyCoef * x) / n);
    const P = jaxParams(m, params);
    const g = grad((p: Record<string, JArray>) => {
      const { logp, H } = tokenLogprobsAndEntropy(cfg, p, ids, B, T);
      return logp
        .mul(jarrOf(c))
        .sum()
        .add(H.mul(jarrOf(mH)).sum());
    })(P) as unknown as Record<string, JArray>;
    const { worst, name } = worstRelErr(ours.grads, g);
    expect(worst, `worst tensor ${name}`).toBeLessThanOrEqual(1e-4);
  });

  it('an empty response mask gives loss 0 and skips the optimizer step', async () => {
    const t = await PolicyTrainer.create({ config: cfg, params, optimizer: { lr: 1e-2 }, batchSize: B, seqLen: T });
    try {
      const b = ppoBatch(jaxLogp());
      b.respMask.fill(0);
      const r = await t.ppoStep(b);
      expect(r).toMatchObject({ loss: 0, tokens: 0, skipped: true });
      expect(t.params()).toEqual(params);
    } finally {
      await t.close();
    }
  });

  it('ppoStep lowers the PPO loss on a fixed batch', async () => {
    const t = await PolicyTrainer.create({
      config: cfg,
      params,
      optimizer: { lr: 3e-3, weightDecay: 0 },
      batchSize: B,
      seqLen: T,
    });
    try {
      const b = ppoBatch(jaxLogp());
      const first = await t.ppoStep(b);
      let last = first;
      for (let i = 0; i < 10; i++) last = await t.ppoStep(b);
      expect(last.loss).toBeLessThan(first.loss - 0.01);
      expect(t.optimizerState().step).toBe(11);
    } finally {
      await t.close();
    }
  });
});

function jarrOf(v: number[]): JArray {
  return jarr(v, [B, T]);
}

describe('behaviour-cloning graph', () => {
  it('parameter gradients match jax-js', async () => {
    const w = Array.from({ length: B * T }, (_, i) => (i % T === 0 ? 0 : rng.uniform()));
    const ours = await trainer.bcGradients({ tokens, weights: Float32Array.from(w) });
    const P = jaxParams(m, params);
    expect(ours.loss).toBeCloseTo(bcLossRef(cfg, P, ids, B, T, w).item(), 5);
    const g = grad((p: Record<string, JArray>) => bcLossRef(cfg, p, ids, B, T, w))(P) as unknown as Record<
      string,
      JArray
    >;
    const { worst, name } = worstRelErr(ours.grads, g);
    expect(worst, `worst tensor ${name}`).toBeLessThanOrEqual(1e-4);
  });

  it('learns a small supervised task (reverse 4 symbols) to near-zero loss', async () => {
    // Sequences "<bos> a b c d | d c b a": the second half is fully determined by the first.
    const c2: ModelConfig = { vocabSize: 10, nCtx: 10, dModel: 32, nLayer: 2, nHead: 2 };
    const r = new Xoshiro128Rng(5);
    const BB = 16;
    const TT = 10;
    const t = await PolicyTrainer.create({
      config: c2,
      params: initParams(buildManifest(c2), 1),
      optimizer: { lr: 1e-2, weightDecay: 0 },
      batchSize: BB,
      seqLen: TT,
    });
    try {
      const weights = new Float32Array(BB * TT);
      for (let b = 0; b < BB; b++) for (let k = 6; k < TT; k++) weights[b * TT + k] = 1;
      let loss = Infinity;
      for (let step = 0; step < 400 && loss > 0.01; step++) {
        const tk = new Int32Array(BB * TT);
        for (let b = 0; b < BB; b++) {
          const s = [0, 1, 2, 3].map(() => 2 + Math.floor(r.uniform() * 8));
          tk.set([1, ...s, 0, ...s.reverse()], b * TT);
        }
        loss = (await t.bcStep({ tokens: tk, weights })).loss;
      }
      expect(loss).toBeLessThan(0.02);
    } finally {
      await t.close();
    }
  });
});

describe('bad input', () => {
  it('gives clear errors', async () => {
    const b = ppoBatch(jaxLogp());
    const bad = Int32Array.from(tokens);
    bad[4] = 13;
    await expect(trainer.ppoStep({ ...b, tokens: bad })).rejects.toThrow(
      /token id 13 at position 4 is outside the vocabulary/,
    );
    await expect(trainer.ppoStep({ ...b, tokens: tokens.subarray(1) })).rejects.toThrow(/B·T = 3·7 = 21/);
    const mask0 = b.respMask.slice();
    mask0[T] = 1;
    await expect(trainer.ppoStep({ ...b, respMask: mask0 })).rejects.toThrow(/position 0 of row 1/);
    const adv = b.advantages.slice();
    adv[3] = NaN;
    await expect(trainer.ppoStep({ ...b, advantages: adv })).rejects.toThrow(/advantages\[3\] is NaN/);
    await expect(trainer.ppoStep({ ...b, clipEps: 0 })).rejects.toThrow(/clipEps/);
    await expect(trainer.bcStep({ tokens, weights: new Float32Array(B * T) })).rejects.toThrow(/weights sum to 0/);
    await expect(trainer.score(tokens, 1, 21)).rejects.toThrow(/longer than the model context \(10\)/);
    await expect(
      PolicyTrainer.create({ config: cfg, params: params.subarray(1), optimizer: { lr: 1 }, batchSize: 1, seqLen: 4 }),
    ).rejects.toThrow(/parameters have/);
    await expect(
      PolicyTrainer.create({ config: cfg, params, optimizer: { lr: 1 }, batchSize: 1, seqLen: 11 }),
    ).rejects.toThrow(/longer than the model context/);
  });
});
