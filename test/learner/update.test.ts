/**
 * The learner's update (learner/update.ts) with a recording trainer: what reaches the optimizer, with which
 * advantages, π_prox and importance weights, and which rows are left out and counted.
 */
import { describe, expect, it } from 'vitest';
import { runUpdate, type RecordedRow, type TrainerApi } from '../../learner/update.js';
import { resolveConfig } from '../../shared/config.js';
import type { PpoMinibatch } from '../../shared/model/trainer.js';
import { computeAdvantages } from '../../shared/rl/advantages.js';
import type { Group } from '../../shared/rl/types.js';

function recorder(proxLogp = -0.5) {
  const steps: PpoMinibatch[] = [];
  let scored = 0;
  const trainer: TrainerApi = {
    score: async (_tokens, B, T) => {
      scored++;
      return new Float32Array(B * T).fill(proxLogp);
    },
    ppoStep: async (b) => {
      steps.push(b);
      return { loss: 1, gradNorm: 2, entropy: 3, clipFrac: 0.25 };
    },
  };
  return { trainer, steps, scoredCalls: () => scored };
}

const row = (o: Partial<RecordedRow> & Pick<RecordedRow, 'turn' | 'reward' | 'anchor'>): RecordedRow => ({
  phase: 'play',
  episode: 0,
  valid: true,
  policyVersion: 3,
  prompt: Int32Array.from([5, 6]),
  response: Int32Array.from([7, 8]),
  behavLogp: Float32Array.from([-1, -1]),
  ...o,
});

/** One group, two single-episode trials: a winner (reward 10.9 on its last turn) and a loser. */
function group(overrides: Partial<RecordedRow> = {}): Group<RecordedRow> {
  return {
    groupId: 'g',
    trials: [
      {
        trialId: 'w',
        rows: [
          row({ turn: 0, reward: -0.1, anchor: 's0', ...overrides }),
          row({ turn: 1, reward: 10.9, anchor: 's1', won: true, ...overrides }),
        ],
      },
      {
        trialId: 'l',
        rows: [
          row({ turn: 0, reward: -0.1, anchor: 's0', ...overrides }),
          row({ turn: 1, reward: -0.1, anchor: 's2', ...overrides }),
        ],
      },
    ],
  };
}

const opts = { nCtx: 32, padId: 0, seed: 1, sampling: { temperature: 0.7, topP: 1 } };
const algo = resolveConfig({}).algo;

/** The advantage of every trained row, read back from the minibatches (one value per row's response tokens). */
function trainedAdvantages(steps: PpoMinibatch[]): number[] {
  const out: number[] = [];
  for (const b of steps)
    for (let r = 0; r < b.B; r++) {
      for (let t = 0; t < b.T; t++)
        if (b.respMask[r * b.T + t]) {
          out.push(b.advantages[r * b.T + t]);
          break;
        }
    }
  return out.sort((x, y) => x - y);
}

describe('runUpdate', () => {
  it('trains every row with its group advantage, recomputing π_prox when sampling was not on-policy', async () => {
    const r = recorder(-0.5);
    const g = group();
    const res = await runUpdate(r.trainer, [g], 3, algo, opts);
    const expected = computeAdvantages([g], algo)[0].trials.flatMap((t) => t.rows.map((x) => x.advantage));
    expect(trainedAdvantages(r.steps)).toEqual(expected.map((a) => Math.fround(a)).sort((x, y) => x - y));
    expect(res.rows).toBe(4);
    expect(res.tokens).toBe(8);
    expect(r.scoredCalls()).toBeGreaterThan(0);
    expect(res.metrics['train/prox_recomputed']).toBe(1);
    // w = π_prox/μ = exp(−0.5 − (−1)) = e^0.5 < C = 2 on every response token.
    for (const b of r.steps)
      b.respMask.forEach((m, i) => {
        if (m) expect(b.isWeight[i]).toBeCloseTo(Math.exp(0.5), 5);
      });
    expect(res.metrics['train/loss']).toBe(1);
    expect(res.metrics['train/clip_frac']).toBe(0.25);
  });

  it('uses μ as π_prox without a recompute when every row is on-policy (T 1, top-p 1, current version)', async () => {
    const r = recorder();
    const res = await runUpdate(r.trainer, [group()], 3, algo, { ...opts, sampling: { temperature: 1, topP: 1 } });
    expect(r.scoredCalls()).toBe(0);
    expect(res.metrics['train/prox_recomputed']).toBe(0);
    for (const b of r.steps)
      b.respMask.forEach((m, i) => {
        if (m) expect(b.isWeight[i]).toBe(1);
      });
  });

  it('leaves out rows without behaviour log-probs but keeps them in the group statistics', async () => {
    const r = recorder();
    const g = group();
    g.trials[1].rows[1] = { ...g.trials[1].rows[1], behavLogp: new Float32Array(0) };
    const res = await runUpdate(r.trainer, [g], 3, algo, opts);
    expect(res.rows).toBe(3);
    expect(res.rowsDroppedNoLogp).toBe(1);
    expect(res.metrics['train/rows_dropped_no_logp']).toBe(1);
    const all = computeAdvantages([g], algo)[0].trials.flatMap((t) => t.rows.map((x) => x.advantage));
    expect(trainedAdvantages(r.steps)).toEqual(
      all
        .slice(0, 3)
        .map((a) => Math.fround(a))
        .sort((x, y) => x - y),
    );
  });

  it('success reward: only the winning turn scores 10', async () => {
    const r = recorder();
    const g = group();
    await runUpdate(r.trainer, [g], 3, { ...algo, reward: 'success' }, opts);
    const success: Group<RecordedRow> = {
      ...g,
      trials: g.trials.map((t) => ({ ...t, rows: t.rows.map((x) => ({ ...x, reward: x.won ? 10 : 0 })) })),
    };
    const expected = computeAdvantages([success], algo)[0].trials.flatMap((t) => t.rows.map((x) => x.advantage));
    expect(trainedAdvantages(r.steps)).toEqual(expected.map((a) => Math.fround(a)).sort((x, y) => x - y));
  });

  it('runs ppoEpochs passes and reports the optimizer steps', async () => {
    const r = recorder();
    const res = await runUpdate(r.trainer, [group()], 3, { ...algo, ppoEpochs: 3, miniBatchRows: 2 }, opts);
    expect(r.steps.length).toBe(6);
    expect(res.metrics['train/optimizer_steps']).toBe(6);
  });

  it('with nothing trainable takes no step', async () => {
    const r = recorder();
    const res = await runUpdate(r.trainer, [group({ policyVersion: 0 })], 20, { ...algo, maxPolicyLag: 2 }, opts);
    expect(res.rows).toBe(0);
    expect(res.rowsDroppedStale).toBe(4);
    expect(r.steps.length).toBe(0);
  });
});
