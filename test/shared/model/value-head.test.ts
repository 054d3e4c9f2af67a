/**
 * The PPO critic's value head (docs/method.md §4.7): its place in the manifest (after the policy, absent by
 * default), its values in the scoring and training graphs against the jax-js model, the gradient of the PPO loss
 * plus the clipped value loss against jax-js (the same tolerance as the rest of the training graph), the clipped
 * value loss on a hand-computed case, a value loss that falls on a fixed batch, and a decode graph that does not
 * contain the head.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelConfig, type ModelConfig } from '../../../shared/model/config.js';
import { DecodeEngine } from '../../../shared/model/generate.js';
import { buildDecodeGraph } from '../../../shared/model/gpt-graphs.js';
import { buildManifest, initParams, paramView, policyOnly, withValueHead } from '../../../shared/model/manifest.js';
import { toOnnxBytes } from '../../../shared/model/onnx/encode.js';
import { PolicyTrainer, type PpoBatch } from '../../../shared/model/trainer.js';
import { parseModel, serializeModel } from '../../../shared/model/checkpoint-files.js';
import { Xoshiro128Rng } from '../../../shared/rng.js';
import { grad, values, type JArray } from './jax-helpers.js';
import { gptValues, jaxParams, ppoLossRef, valueLossRef } from './gpt-ref.js';

const base: ModelConfig = { vocabSize: 13, nCtx: 10, dModel: 8, nLayer: 2, nHead: 2 };
const cfg: ModelConfig = { ...base, valueHead: true };
const B = 3;
const T = 7;
const m = buildManifest(cfg);
const rng = new Xoshiro128Rng(77);
const params = initParams(m, 11, 0.3);
for (const e of m.entries)
  if (!e.name.endsWith('.weight') || e.shape.length === 1 || e.name.startsWith('value_head')) {
    for (let i = 0; i < e.size; i++) params[e.offset + i] += 0.3 * rng.normal();
  }
const ids = Array.from({ length: B * T }, () => Math.floor(rng.uniform() * cfg.vocabSize));
const tokens = Int32Array.from(ids);

let trainer: PolicyTrainer;
beforeAll(async () => {
  trainer = await PolicyTrainer.create({ config: cfg, params, optimizer: { lr: 1e-2 }, batchSize: B, seqLen: T });
});
afterAll(async () => trainer?.close());

describe('value head in the manifest and checkpoints', () => {
  it('is absent by default and appended after every policy tensor when asked for', () => {
    const plain = buildManifest(base);
    expect(JSON.stringify(parseModelConfig(base))).toBe('{"vocabSize":13,"nCtx":10,"dModel":8,"nLayer":2,"nHead":2}');
    expect(plain.entries.some((e) => e.name.startsWith('value_head'))).toBe(false);
    expect(m.entries.slice(0, plain.entries.length)).toEqual(plain.entries);
    expect(m.entries.slice(plain.entries.length).map((e) => [e.name, e.shape])).toEqual([
      ['value_head.weight', [8, 1]],
      ['value_head.bias', [1]],
    ]);
    expect(m.totalSize).toBe(plain.totalSize + 9);
    // Fresh heads start at 0 and leave the policy's initial weights as they were.
    const fresh = initParams(m, 3);
    expect(fresh.subarray(0, plain.totalSize)).toEqual(initParams(plain, 3));
    expect(Array.from(fresh.subarray(plain.totalSize))).toEqual(new Array(9).fill(0));
  });

  it('withValueHead adds a zero head (and zero moments) to a model saved without one; checkpoints round-trip', () => {
    const plain = buildManifest(base);
    const p0 = initParams(plain, 5);
    const opt = { step: 4, m: p0.map((x) => x * 2), v: p0.map((x) => x * x) };
    const r = withValueHead(base, p0, opt);
    expect(r.added).toBe(true);
    expect(r.config).toEqual(cfg);
    expect(r.params.subarray(0, plain.totalSize)).toEqual(p0);
    expect(Array.from(paramView(m, r.params, 'value_head.weight'))).toEqual(new Array(8).fill(0));
    expect(r.optimizer!.step).toBe(4);
    expect(r.optimizer!.m.subarray(0, plain.totalSize)).toEqual(opt.m);
    expect(r.optimizer!.v.length).toBe(m.totalSize);
    expect(withValueHead(cfg, r.params).added).toBe(false);
    // What actors receive: the policy alone (a model without a head passes through as the same objects).
    const pol = policyOnly(r.config, r.params);
    expect(pol.config).toEqual(base);
    expect(pol.params).toEqual(p0);
    const same = policyOnly(base, p0);
    expect(same.params).toBe(p0);
    expect(same.config).toBe(base);
    const back = parseModel(serializeModel({ config: cfg, params, optimizer: r.optimizer }));
    expect(back.config).toEqual(cfg);
    expect(back.params).toEqual(params);
  });

  it('the decode graph leaves the head out (byte-identical to the policy-only graph)', () => {
    const policyOnly = params.subarray(0, buildManifest(base).totalSize);
    expect(toOnnxBytes(buildDecodeGraph(cfg, params))).toEqual(toOnnxBytes(buildDecodeGraph(base, policyOnly)));
  });
});

/** A PPO batch plus value targets: some rows' V moves beyond the clip, some stay inside it. */
function criticBatch(logp: ArrayLike<number>, V: ArrayLike<number>): PpoBatch {
  const n = B * T;
  const respMask = new Float32Array(n);
  const advantages = new Float32Array(n);
  const proxLogp = new Float32Array(n);
  const isWeight = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (i % T < 3) continue;
    respMask[i] = 1;
    advantages[i] = rng.uniform() * 2 - 1;
    proxLogp[i] = logp[i]! + 0.3 * rng.normal();
    isWeight[i] = 0.5 + rng.uniform();
  }
  const valueMask = new Float32Array(n);
  const returns = new Float32Array(n);
  const oldValues = new Float32Array(n);
  // Row 0: V_old far below V, target above V → the clipped term is larger (no gradient through V).
  // Row 1: V_old close to V → unclipped. Row 2: V_old far above, target below V → unclipped term larger.
  const at = (row: number) => row * T + 2;
  const set = (row: number, old: number, ret: number) => {
    valueMask[at(row)] = 1;
    oldValues[at(row)] = V[at(row)]! + old;
    returns[at(row)] = V[at(row)]! + ret;
  };
  set(0, -0.5, 1.5);
  set(1, 0.02, -0.7);
  set(2, 0.6, -1.2);
  return {
    tokens,
    respMask,
    advantages,
    proxLogp,
    isWeight,
    clipEps: 0.2,
    dualClipC: 3,
    entropyCoef: 0.05,
    critic: { valueMask, returns, oldValues, valueClip: 0.2, valueCoef: 0.7 },
  };
}

describe('generation ignores the value head', () => {
  it('a model with a head decodes exactly as its policy alone, also after a weight update', async () => {
    const P = buildManifest(base).totalSize;
    const withHead = await DecodeEngine.create(cfg, params);
    const policyOnly = await DecodeEngine.create(base, params.slice(0, P));
    try {
      const reqs = [0, 1, 2].map((seed) => ({
        prompt: [1, 4, 7],
        maxTokens: 5,
        stop: [],
        temperature: 1,
        topP: 1,
        seed,
      }));
      const strip = (r: Awaited<ReturnType<DecodeEngine['generate']>>) => r.map((x) => [x.tokens, x.logprobs]);
      expect(strip(await withHead.generate(reqs))).toEqual(strip(await policyOnly.generate(reqs)));
      const next = params.map((x, i) => x + 0.05 * Math.sin(i));
      await withHead.setWeights(next, 1);
      await policyOnly.setWeights(next.slice(0, P), 1);
      expect(strip(await withHead.generate(reqs))).toEqual(strip(await policyOnly.generate(reqs)));
    } finally {
      await withHead.close();
      await policyOnly.close();
    }
  });
});

describe('value head in the graphs', () => {
  it('scoring and training graphs give the jax-js values (≤ 1e-5)', async () => {
    const ref = values(gptValues(cfg, jaxParams(m, params), ids, B, T));
    const scored = await trainer.scoreWithValues(tokens, B, T);
    const trained = await trainer.ppoGradients(criticBatch(scored.logp, scored.values));
    for (let i = 0; i < B * T; i++) {
      expect(Math.abs(scored.values[i]! - ref[i]!), `scoring ${i}`).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(trained.values![i]! - ref[i]!), `training ${i}`).toBeLessThanOrEqual(1e-5);
    }
  });

  it('gradients of the PPO loss plus the clipped value loss match jax-js (≤ 1e-4 per tensor)', async () => {
    const s = await trainer.scoreWithValues(tokens, B, T);
    const b = criticBatch(s.logp, s.values);
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
    const c = b.critic!;
    const vo = {
      valueMask: Array.from(c.valueMask),
      returns: Array.from(c.returns),
      oldValues: Array.from(c.oldValues),
      valueClip: c.valueClip,
      valueCoef: c.valueCoef,
    };
    const total = (p: Record<string, JArray>) =>
      ppoLossRef(cfg, p, ids, B, T, o).add(valueLossRef(cfg, p, ids, B, T, vo));
    const P = jaxParams(m, params);
    const lossRef = total(P).item();
    expect(Math.abs(ours.loss - lossRef)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(lossRef)));
    const vRef = valueLossRef(cfg, jaxParams(m, params), ids, B, T, { ...vo, valueCoef: 1 }).item();
    expect(ours.valueLoss).toBeCloseTo(vRef, 5);
    const g = grad(total)(P) as unknown as Record<string, JArray>;
    let worst = 0;
    let worstName = '';
    for (const e of m.entries) {
      const r = values(g[e.name]!);
      let num = 0;
      let den = 0;
      for (let i = 0; i < e.size; i++) {
        num += (ours.grads[e.offset + i]! - r[i]!) ** 2;
        den += r[i]! ** 2;
      }
      expect(den, `${e.name} has a zero reference gradient`).toBeGreaterThan(0);
      if (Math.sqrt(num / den) > worst) [worst, worstName] = [Math.sqrt(num / den), e.name];
    }
    expect(worst, `worst tensor ${worstName}`).toBeLessThanOrEqual(1e-4);
    // The value loss reaches the trunk too (a shared network): without it the trunk's gradient differs.
    const noCritic = await trainer.ppoGradients({ ...b, critic: { ...c, valueCoef: 0 } });
    const wte = m.entries[0]!;
    const diff = ours.grads.subarray(0, wte.size).reduce((a, x, i) => a + Math.abs(x - noCritic.grads[i]!), 0);
    expect(diff).toBeGreaterThan(1e-4);
    expect(Array.from(paramView(m, noCritic.grads, 'value_head.bias'))).toEqual([0]);
  });

  it('the clipped value loss on a hand-computed case: V = 1 everywhere (head weight 0, bias 1)', async () => {
    const p = params.slice();
    paramView(m, p, 'value_head.weight').fill(0);
    paramView(m, p, 'value_head.bias').fill(1);
    const t = await PolicyTrainer.create({ config: cfg, params: p, optimizer: { lr: 1e-2 }, batchSize: B, seqLen: T });
    try {
      const n = B * T;
      const valueMask = new Float32Array(n);
      const returns = new Float32Array(n);
      const oldValues = new Float32Array(n);
      // Row 0: V_old 0.8, R 3, ε 0.1 → Vc = 0.9; ½·max((1−3)², (0.9−3)²) = ½·4.41 = 2.205, no gradient (clipped).
      valueMask[2] = 1;
      oldValues[2] = 0.8;
      returns[2] = 3;
      // Row 1: V_old 1.05, R 0.5 → Vc = V = 1; ½·0.25 = 0.125, ∂/∂V = V − R = 0.5.
      valueMask[T + 4] = 1;
      oldValues[T + 4] = 1.05;
      returns[T + 4] = 0.5;
      const r = await t.ppoGradients({
        tokens,
        respMask: new Float32Array(n),
        advantages: new Float32Array(n),
        proxLogp: new Float32Array(n),
        isWeight: new Float32Array(n),
        clipEps: 0.2,
        dualClipC: 3,
        entropyCoef: 0,
        critic: { valueMask, returns, oldValues, valueClip: 0.1, valueCoef: 2 },
      });
      expect(r.valueLoss).toBeCloseTo((2.205 + 0.125) / 2, 5);
      expect(r.loss).toBeCloseTo(2 * ((2.205 + 0.125) / 2), 5);
      // ∂(2·mean)/∂b = 2 · (0 + 0.5) / 2 = 0.5; ∂/∂w = 2/2 · 0.5 · h(row 1, position 4).
      expect(paramView(m, r.grads, 'value_head.bias')[0]).toBeCloseTo(0.5, 5);
    } finally {
      await t.close();
    }
  });

  it('ppoStep lowers the value loss on a fixed batch', async () => {
    const t = await PolicyTrainer.create({
      config: cfg,
      params,
      optimizer: { lr: 3e-3, weightDecay: 0 },
      batchSize: B,
      seqLen: T,
    });
    try {
      const s = await t.scoreWithValues(tokens, B, T);
      const b = criticBatch(s.logp, s.values);
      // A clip wide enough not to bind: the loss is then plain squared error and must fall step by step.
      b.critic!.valueClip = 10;
      const first = await t.ppoStep(b);
      let last = first;
      for (let i = 0; i < 15; i++) last = await t.ppoStep(b);
      expect(last.valueLoss).toBeLessThan(first.valueLoss * 0.8);
    } finally {
      await t.close();
    }
  });

  it('value targets for a model without a head are refused', async () => {
    const P = buildManifest(base).totalSize;
    const t = await PolicyTrainer.create({
      config: base,
      params: params.slice(0, P),
      optimizer: { lr: 1e-2 },
      batchSize: B,
      seqLen: T,
    });
    try {
      const s = await trainer.scoreWithValues(tokens, B, T);
      await expect(t.ppoGradients(criticBatch(s.logp, s.values))).rejects.toThrow(/has no value head/);
      await expect(t.scoreWithValues(tokens, B, T)).rejects.toThrow(/has no value head/);
    } finally {
      await t.close();
    }
  });

  it('without critic targets the head gets no gradient and the PPO loss is the plain one', async () => {
    const s = await trainer.scoreWithValues(tokens, B, T);
    const { critic: _, ...b } = criticBatch(s.logp, s.values);
    const r = await trainer.ppoGradients(b);
    expect(r.valueLoss).toBe(0);
    expect(Array.from(paramView(m, r.grads, 'value_head.weight'))).toEqual(new Array(8).fill(0));
    const ref = ppoLossRef(cfg, jaxParams(m, params), ids, B, T, {
      mask: Array.from(b.respMask),
      adv: Array.from(b.advantages),
      prox: Array.from(b.proxLogp),
      w: Array.from(b.isWeight),
      clipEps: b.clipEps,
      dualClipC: b.dualClipC,
      entropyCoef: b.entropyCoef,
    }).item();
    expect(Math.abs(r.loss - ref)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(ref)));
  });
});
