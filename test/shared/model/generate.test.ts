import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../shared/model/config.js';
import { buildManifest, initParams } from '../../../shared/model/manifest.js';
import { DecodeEngine, type GenRequest } from '../../../shared/model/generate.js';
import { createScorer, type Scorer } from '../../../shared/model/scorer.js';
import { sampleToken } from '../../../shared/model/sampling.js';
import { Xoshiro128Rng } from '../../../shared/rng.js';

const cfg: ModelConfig = { vocabSize: 17, nCtx: 24, dModel: 16, nLayer: 2, nHead: 2 };
const m = buildManifest(cfg);
const params = initParams(m, 4, 0.4); // peaked enough that greedy/top-p differ from uniform
let engine: DecodeEngine;
let scorer: Scorer;
beforeAll(async () => {
  engine = await DecodeEngine.create(cfg, params, 7);
  scorer = await createScorer(cfg, params);
});
afterAll(async () => {
  await engine?.close();
  await scorer?.close();
});

const req = (prompt: number[], o: Partial<GenRequest> = {}): GenRequest => ({
  prompt,
  maxTokens: 8,
  stop: [],
  temperature: 1,
  topP: 1,
  seed: 1,
  ...o,
});

describe('DecodeEngine', () => {
  it('decode-step log-probs match scoring log-probs (≤ 1e-5) with variable-length prompts in one batch', async () => {
    const reqs = [
      req([1, 5, 6, 7, 8, 9, 10], { seed: 1 }),
      req([1], { seed: 2, maxTokens: 12 }),
      req([1, 4, 4], { seed: 3 }),
      req([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], { seed: 4, maxTokens: 13 }),
    ];
    const res = await engine.generate(reqs);
    const full = reqs.map((r, i) => [...r.prompt, ...res[i]!.tokens]);
    const scored = await scorer.logprobs(full);
    let worst = 0;
    res.forEach((r, i) => {
      expect(r.tokens.length).toBe(reqs[i]!.maxTokens);
      expect(r.finish).toBe('length');
      expect(r.policyVersion).toBe(7);
      r.rawLogprobs.forEach((lp, k) => {
        worst = Math.max(worst, Math.abs(lp - scored[i]![reqs[i]!.prompt.length + k]!));
        // temperature 1, top-p 1: the sampling distribution is the model's own
        expect(r.logprobs[k]).toBeCloseTo(lp, 9);
      });
    });
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  it('is deterministic per seed, whatever batch a request lands in', async () => {
    const a = req([1, 3, 5], { seed: 42, temperature: 0.9, topP: 0.8, maxTokens: 10 });
    const alone = await engine.generate([a]);
    const again = await engine.generate([a]);
    expect(again).toEqual(alone);
    const batched = await engine.generate([req([1, 2, 3, 4, 5, 6, 7]), a, req([1], { seed: 9 })]);
    expect(batched[1]!.tokens).toEqual(alone[0]!.tokens);
    for (let k = 0; k < 10; k++) expect(batched[1]!.logprobs[k]).toBeCloseTo(alone[0]!.logprobs[k]!, 5);
    const other = await engine.generate([{ ...a, seed: 43 }]);
    expect(other[0]!.tokens).not.toEqual(alone[0]!.tokens);
  });

  it('stops on stop tokens (included), caps at maxTokens and at the context', async () => {
    const greedy = await engine.generate([req([1, 2], { temperature: 0, maxTokens: 6 })]);
    const first = greedy[0]!.tokens[0]!;
    expect(greedy[0]!.logprobs.every((x) => x === 0)).toBe(true); // greedy: μ(token) = 1
    const [stopped, capped, ctx, zero] = await engine.generate([
      req([1, 2], { temperature: 0, stop: [first], maxTokens: 6 }),
      req([1, 2], { maxTokens: 3 }),
      req(Array(cfg.nCtx - 2).fill(1), { maxTokens: 10 }),
      req([1], { maxTokens: 0 }),
    ]);
    expect(stopped).toMatchObject({ tokens: [first], finish: 'stop' });
    expect(capped!.tokens.length).toBe(3);
    expect(ctx).toMatchObject({ finish: 'length' });
    expect(ctx!.tokens.length).toBe(2);
    expect(zero).toMatchObject({ tokens: [], finish: 'length' });
    // Rows finishing early (stop on every id) while others continue: compaction keeps the live rows right.
    const all = Array.from({ length: cfg.vocabSize }, (_, i) => i);
    const mixed = await engine.generate([
      req([1, 4], { stop: all, seed: 5 }),
      req([1, 4], { seed: 5, maxTokens: 9 }),
      req([1, 4], { stop: all, seed: 6 }),
      req([1, 2, 3], { seed: 8, maxTokens: 9 }),
    ]);
    expect(mixed[0]!.tokens.length).toBe(1);
    expect(mixed[0]!.finish).toBe('stop');
    const solo = await engine.generate([
      req([1, 4], { seed: 5, maxTokens: 9 }),
      req([1, 2, 3], { seed: 8, maxTokens: 9 }),
    ]);
    expect(mixed[1]!.tokens).toEqual(solo[0]!.tokens);
    expect(mixed[3]!.tokens).toEqual(solo[1]!.tokens);
    expect(mixed[0]!.tokens[0]).toBe(solo[0]!.tokens[0]);
  });

  it('swaps weights: new version, new outputs; in-flight generation keeps its version', async () => {
    const e = await DecodeEngine.create(cfg, params, 1);
    try {
      const r = req([1, 2, 3], { temperature: 0, maxTokens: 12 });
      const before = await e.generate([r]);
      const inflight = e.generate([r]);
      await e.setWeights(initParams(m, 99, 0.4), 2);
      expect((await inflight)[0]!.policyVersion).toBe(1);
      const after = await e.generate([r]);
      expect(after[0]!.policyVersion).toBe(2);
      expect(after[0]!.rawLogprobs).not.toEqual(before[0]!.rawLogprobs);
      await e.setWeights(params, 3);
      expect((await e.generate([r]))[0]!.rawLogprobs).toEqual(before[0]!.rawLogprobs);
    } finally {
      await e.close();
    }
  });

  it('rejects bad requests with clear errors', async () => {
    await expect(engine.generate([req([1, 17])])).rejects.toThrow(
      /request 0: prompt token id 17 at position 1 is outside the vocabulary \(0..16\)/,
    );
    await expect(engine.generate([req([1]), req(Array(25).fill(1))])).rejects.toThrow(
      /request 1: prompt of 25 tokens is longer than the model context \(24\)/,
    );
    await expect(engine.generate([req([])])).rejects.toThrow(/non-empty/);
    await expect(engine.generate([req([1], { topP: 0 })])).rejects.toThrow(/topP/);
    await expect(engine.generate([req([1], { temperature: -1 })])).rejects.toThrow(/temperature/);
    await expect(engine.generate([req([1], { stop: [99] })])).rejects.toThrow(/stop/);
  });
});

describe('sampleToken', () => {
  const logits = Float32Array.from([2, 1, 0.5, -1, 0.9]);
  const p = Array.from(logits, (z) => Math.exp(z));
  const Z = p.reduce((a, b) => a + b, 0);
  it('samples the tempered distribution and reports both log-probs exactly', () => {
    const rng = new Xoshiro128Rng(3);
    const counts = new Array(5).fill(0);
    const tau = 0.7;
    const q = Array.from(logits, (z) => Math.exp(z / tau));
    const Zq = q.reduce((a, b) => a + b, 0);
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const s = sampleToken(logits, 0, 5, { temperature: tau, topP: 1 }, rng);
      counts[s.token]++;
      expect(s.logprob).toBeCloseTo(Math.log(q[s.token]! / Zq), 6);
      expect(s.rawLogprob).toBeCloseTo(Math.log(p[s.token]! / Z), 6);
    }
    counts.forEach((c, i) => expect(Math.abs(c / n - q[i]! / Zq)).toBeLessThan(0.015));
  });
  it('top-p keeps the smallest nucleus and renormalises', () => {
    const rng = new Xoshiro128Rng(4);
    // probs ≈ [.47 .17 .10 .02 .16]: nucleus for 0.7 = {0, 1, 4} (mass .80)
    const kept = [0, 1, 4];
    const mass = kept.reduce((a, i) => a + p[i]!, 0);
    const seen = new Set<number>();
    for (let i = 0; i < 3000; i++) {
      const s = sampleToken(logits, 0, 5, { temperature: 1, topP: 0.7 }, rng);
      seen.add(s.token);
      expect(s.logprob).toBeCloseTo(Math.log(p[s.token]! / mass), 6);
    }
    expect([...seen].sort()).toEqual(kept);
  });
  it('greedy takes the argmax with log μ = 0', () => {
    expect(sampleToken(logits, 0, 5, { temperature: 0, topP: 1 }, new Xoshiro128Rng(1))).toMatchObject({
      token: 0,
      logprob: 0,
    });
  });
});

describe('exportOnnx', () => {
  it('is a standalone decode graph whose full-sequence logits give the scoring log-probs', async () => {
    const { exportOnnx } = await import('../../../shared/model/export.js');
    const { createSession, OrtTensor } = await import('../../../shared/model/session.js');
    const s = await createSession(exportOnnx(cfg, params));
    const ids = [1, 5, 9, 2, 7, 3];
    const T = ids.length;
    const feeds: Record<string, InstanceType<typeof OrtTensor>> = {
      input_ids: new OrtTensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, T]),
      position_ids: new OrtTensor('int64', BigInt64Array.from(ids.map((_, i) => BigInt(i))), [1, T]),
      attention_mask: new OrtTensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
    };
    for (let i = 0; i < cfg.nLayer; i++) {
      for (const kv of ['key', 'value'])
        feeds[`past_key_values.${i}.${kv}`] = new OrtTensor('float32', new Float32Array(0), [1, 2, 0, 8]);
    }
    const out = await s.run(feeds);
    expect(out['present.1.value']!.dims).toEqual([1, 2, T, 8]);
    const logits = out.logits!.data as Float32Array;
    const V = cfg.vocabSize;
    const scored = (await scorer.logprobs([ids]))[0]!;
    for (let t = 1; t < T; t++) {
      const row = Array.from(logits.subarray((t - 1) * V, t * V));
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((a, z) => a + Math.exp(z - mx), 0));
      expect(Math.abs(row[ids[t]!]! - lse - scored[t]!)).toBeLessThanOrEqual(1e-5);
    }
    await s.release();
  });
});
