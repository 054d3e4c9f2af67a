/**
 * The learner's update with the ppo estimator (docs/method.md §4.7): the critic's values come from the value head
 * at each row's last prompt token, GAE turns them into advantages (whitened over the update's tokens) and
 * targets, the minibatches carry the value
 * targets at that position, and on a fixed batch repeated updates lower the value loss (a real trainer worker).
 * The default estimator never asks for values and sends no value targets.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runUpdate, whitenAdvantages, type RecordedRow, type TrainerApi } from '../../learner/update.js';
import { TrainerClient } from '../../learner/trainer-client.js';
import { resolveConfig } from '../../shared/config.js';
import type { ModelConfig } from '../../shared/model/config.js';
import { buildManifest, initParams } from '../../shared/model/manifest.js';
import type { PpoMinibatch } from '../../shared/model/trainer.js';
import { gae } from '../../shared/rl/estimators/ppo.js';
import { Xoshiro128Rng } from '../../shared/rng.js';
import type { Group } from '../../shared/rl/types.js';

const row = (o: Partial<RecordedRow> & Pick<RecordedRow, 'turn' | 'reward' | 'anchor'>): RecordedRow => ({
  phase: 'play',
  episode: 0,
  valid: true,
  policyVersion: 3,
  prompt: Int32Array.from([5, 6, 4]),
  response: Int32Array.from([7, 8]),
  behavLogp: Float32Array.from([-1, -1]),
  ...o,
});

/** Two single-episode trials; prompts differ in length so the value positions differ. */
const group = (): Group<RecordedRow> => ({
  groupId: 'g',
  trials: [
    {
      trialId: 'w',
      rows: [
        row({ turn: 0, reward: -0.1, anchor: 's0', prompt: Int32Array.from([5, 6]) }),
        row({ turn: 1, reward: 10.9, anchor: 's1', won: true }),
      ],
    },
    {
      trialId: 'l',
      rows: [
        row({ turn: 0, reward: -0.1, anchor: 's0', prompt: Int32Array.from([5, 6]) }),
        row({ turn: 1, reward: -0.1, anchor: 's2', prompt: Int32Array.from([1, 2, 3, 4, 5]) }),
      ],
    },
  ],
});

const opts = { nCtx: 32, padId: 0, seed: 1, sampling: { temperature: 1, topP: 1 } };

describe('runUpdate with the ppo estimator (recording trainer)', () => {
  it('values at the last prompt token, GAE advantages and targets, value targets in the minibatches', async () => {
    const steps: PpoMinibatch[] = [];
    let valueCalls = 0;
    // V of a prompt = its last token / 2 (so every row's value is known by hand).
    const trainer: TrainerApi = {
      score: async (_t, B, T) => new Float32Array(B * T).fill(-1),
      scoreWithValues: async (tokens, B, T) => {
        valueCalls++;
        return { logp: new Float32Array(B * T), values: Float32Array.from(tokens, (x) => x / 2) };
      },
      ppoStep: async (b) => {
        steps.push(b);
        return { loss: 1, gradNorm: 2, entropy: 3, clipFrac: 0.25, valueLoss: 0.75 };
      },
    };
    const algo = resolveConfig({ algo: { estimator: 'ppo', gaeLambda: 0.9 } }).algo;
    const res = await runUpdate(trainer, [group()], 3, algo, opts);
    expect(valueCalls).toBeGreaterThan(0);
    expect(res.metrics['train/value_loss']).toBe(0.75);
    // Hand values: prompt [5, 6] → 3, [5, 6, 4] → 2, [1, …, 5] → 2.5.
    const w = gae(
      [
        { ...group().trials[0].rows[0], value: 3 },
        { ...group().trials[0].rows[1], value: 2 },
      ],
      algo,
      algo.gammaTraj,
    );
    const l = gae(
      [
        { ...group().trials[1].rows[0], value: 3 },
        { ...group().trials[1].rows[1], value: 2.5 },
      ],
      algo,
      algo.gammaTraj,
    );
    // The learner whitens the GAE advantages over the trained tokens (every response here has 2 tokens).
    const raw = [w.A[0], w.A[1], l.A[0], l.A[1]];
    const mean = raw.reduce((a, x) => a + x, 0) / 4;
    const sd = Math.sqrt((2 * raw.reduce((a, x) => a + (x - mean) ** 2, 0)) / 7 + 1e-8);
    const white = raw.map((a) => (a - mean) / sd);
    const expected = [
      { A: white[0], G: w.G[0], V: 3 },
      { A: white[1], G: w.G[1], V: 2 },
      { A: white[2], G: l.G[0], V: 3 },
      { A: white[3], G: l.G[1], V: 2.5 },
    ].sort((a, b) => a.A - b.A);
    const seen: Array<{ A: number; G: number; V: number }> = [];
    for (const b of steps) {
      expect(b.critic).toMatchObject({ valueClip: algo.valueClip, valueCoef: algo.valueCoef });
      for (let r = 0; r < b.B; r++) {
        const first = Array.from({ length: b.T }, (_, t) => t).find((t) => b.respMask[r * b.T + t] === 1)!;
        const vm = Array.from({ length: b.T }, (_, t) => b.critic!.valueMask[r * b.T + t]);
        expect(vm.indexOf(1)).toBe(first - 1); // the last prompt token, right before the response
        expect(vm.filter((x) => x === 1).length).toBe(1);
        seen.push({
          A: b.advantages[r * b.T + first],
          G: b.critic!.returns[r * b.T + first - 1],
          V: b.critic!.oldValues[r * b.T + first - 1],
        });
      }
    }
    seen.sort((a, b) => a.A - b.A);
    expect(seen.length).toBe(4);
    seen.forEach((s, i) => {
      expect(s.A).toBeCloseTo(expected[i].A, 5);
      expect(s.G).toBeCloseTo(expected[i].G, 5);
      expect(s.V).toBeCloseTo(expected[i].V, 6);
    });
  });

  it('the default estimator asks for no values and sends no value targets', async () => {
    const steps: PpoMinibatch[] = [];
    const trainer: TrainerApi = {
      score: async (_t, B, T) => new Float32Array(B * T).fill(-1),
      scoreWithValues: async () => {
        throw new Error('not expected');
      },
      ppoStep: async (b) => {
        steps.push(b);
        return { loss: 1, gradNorm: 2, entropy: 3, clipFrac: 0.25 };
      },
    };
    const res = await runUpdate(trainer, [group()], 3, resolveConfig({}).algo, opts);
    expect(steps.length).toBeGreaterThan(0);
    for (const b of steps) expect(b.critic).toBeUndefined();
    expect(Object.keys(res.metrics).filter((k) => /value|return_mean/.test(k))).toEqual([]);
  });
});

describe('whitenAdvantages', () => {
  it('whitens over tokens: a row counts once per response token (hand case)', () => {
    const r = (advantage: number, n: number) => ({
      promptTokens: Int32Array.of(1),
      responseTokens: new Int32Array(n),
      behavLogp: new Float32Array(n),
      advantage,
    });
    // Tokens 0, 4, 4, 4: mean 3, unbiased variance (9 + 1 + 1 + 1) / 3 = 4 → (0 − 3)/2 and (4 − 3)/2.
    const rows = [r(0, 1), r(4, 3)];
    whitenAdvantages(rows);
    expect(rows[0].advantage).toBeCloseTo(-1.5, 6);
    expect(rows[1].advantage).toBeCloseTo(0.5, 6);
  });
});

describe('runUpdate with the ppo estimator (trainer worker)', () => {
  const cfg: ModelConfig = { vocabSize: 12, nCtx: 32, dModel: 16, nLayer: 1, nHead: 2, valueHead: true };
  let client: TrainerClient | null = null;
  afterAll(async () => client?.close());

  it('repeated updates on a fixed batch lower the value loss', async () => {
    client = await TrainerClient.start({
      config: cfg,
      params: initParams(buildManifest(cfg), 3),
      optimizer: { lr: 1e-2 },
      batchSize: 16,
      seqLen: 32,
      padId: 0,
    });
    const rng = new Xoshiro128Rng(9);
    const toks = (n: number) => Int32Array.from({ length: n }, () => 1 + Math.floor(rng.uniform() * 11));
    const groups: Group<RecordedRow>[] = [0, 1].map((gi) => ({
      groupId: `g${gi}`,
      trials: [0, 1].map((ti) => ({
        trialId: `t${ti}`,
        rows: [0, 1, 2].map((turn) =>
          row({
            turn,
            reward: turn === 2 ? 10 * ((gi + ti) % 2) : -0.1,
            anchor: `s${turn}`,
            prompt: toks(6 + turn),
            response: toks(2),
          }),
        ),
      })),
    }));
    // λ = 1: the targets are Monte-Carlo returns, fixed across updates, so the loss must fall as V fits them.
    const algo = resolveConfig({
      algo: { estimator: 'ppo', gaeLambda: 1, isMode: 'bypass', miniBatchRows: 16, ppoEpochs: 3 },
    }).algo;
    const losses: number[] = [];
    for (let i = 0; i < 12; i++)
      losses.push((await runUpdate(client, groups, 3, algo, opts)).metrics['train/value_loss']);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)).toBeLessThan(losses[0] * 0.6);
  });
});
