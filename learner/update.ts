/**
 * The learner's update, top to bottom (CleanRL style): task groups in, one policy version out.
 *
 *   0. estimators with a critic (ppo): V(s) of every row's state from the value head (docs/method.md §4.7)
 *   1. cross-episode returns and GiGPO advantages per task group           (shared/rl, docs/method.md §3–§4)
 *   2. rows -> [B, T] token minibatches                                     (shared/rl/batch)
 *   3. π_prox log-probs: the learner's weights at the start of the update   (docs/design.md §3, three-policy form)
 *   4. behaviour importance weights w = π_prox/μ (truncated / masked / bypass)
 *   5. PPO dual-clip surrogate + entropy bonus, token-mean (+ clipped value loss), AdamW (inside the graph)
 *
 * Plumbing (sockets, ledger, checkpoints) lives elsewhere; this file only does the mathematics' bookkeeping.
 */
import { computeAdvantages } from '../shared/rl/advantages.js';
import { keptPrompt, packMinibatches, type PackedBatch, type TrainRow } from '../shared/rl/batch.js';
import { ESTIMATORS } from '../shared/rl/estimators/index.js';
import { offPolicyDiagnostics, offPolicyMetrics } from '../shared/rl/diagnostics.js';
import { importanceWeights } from '../shared/rl/importance.js';
import type { Group, Row } from '../shared/rl/types.js';
import type { Config } from '../shared/config.js';
import type { PpoMinibatch, PpoStepSummary } from '../shared/model/trainer.js';

export const SUCCESS_REWARD = 10;

/** A trial row as the learner receives it (decoded from the wire). */
export interface RecordedRow extends Row {
  /** True on the play turn that won its episode. */
  won?: boolean;
  policyVersion: number;
  prompt: Int32Array;
  response: Int32Array;
  behavLogp: Float32Array;
  /** Sampled by a policy other than the learner's own weights (an inference server): never treated as on-policy. */
  external?: boolean;
}

/**
 * Rows whose behaviour log-probs are missing (an inference server gave none: `hasLogp: false` on the wire, an
 * empty `behavLogp`) cannot be importance-corrected, so the update refuses to train on them; they still count
 * in the group statistics (advantages), like stale rows.
 */
export function lacksLogp(row: Pick<RecordedRow, 'response' | 'behavLogp'>): boolean {
  return row.behavLogp.length !== row.response.length;
}

/** What the update needs from the training engine (a worker thread in production, anything in tests). */
export interface TrainerApi {
  score(tokens: Int32Array, B: number, T: number): Promise<Float32Array>;
  /** Log-probs and the value head's V per position (needed by estimators with a critic only). */
  scoreWithValues?(tokens: Int32Array, B: number, T: number): Promise<{ logp: Float32Array; values: Float32Array }>;
  ppoStep(
    b: PpoMinibatch,
  ): Promise<Pick<PpoStepSummary, 'loss' | 'gradNorm' | 'entropy' | 'clipFrac'> & { valueLoss?: number }>;
}

export interface UpdateResult {
  /**
   * Groups the update refused, by index into its input, with the reason (non-finite advantages): when non-empty
   * nothing was trained and the weights are unchanged; the caller sets those groups' records aside and retries.
   */
  unusable: Array<{ group: number; reason: string }>;
  rows: number;
  rowsDroppedStale: number;
  /** Rows not trained on because they carry no behaviour log-probs (see {@link lacksLogp}). */
  rowsDroppedNoLogp: number;
  tokens: number;
  metrics: Record<string, number>;
}

type AlgoConfig = Config['algo'];

/** Whether μ = π_prox by construction: every row sampled by the current weights at temperature 1, top-p 1. */
function samplesAreOnPolicy(
  rows: RecordedRow[],
  version: number,
  sampling: { temperature: number; topP: number },
): boolean {
  return (
    sampling.temperature === 1 && sampling.topP === 1 && rows.every((r) => r.policyVersion === version && !r.external)
  );
}

export async function runUpdate(
  trainer: TrainerApi,
  groups: Group<RecordedRow>[],
  version: number,
  algo: AlgoConfig,
  opts: { nCtx: number; padId: number; seed: number; sampling: { temperature: number; topP: number } },
): Promise<UpdateResult> {
  // ---- 1. advantages over whole groups (stale rows still count in the group statistics) -------------------
  // `success`: only winning counts (10 on the winning turn), as LaMer does for WebShop; the invalid-action
  // penalty still applies through the episode score.
  const scored =
    algo.reward === 'success'
      ? groups.map((g) => ({
          ...g,
          trials: g.trials.map((t) => ({
            ...t,
            rows: t.rows.map((r) => ({ ...r, reward: r.won ? SUCCESS_REWARD : 0 })),
          })),
        }))
      : groups;
  const critic = ESTIMATORS[algo.estimator].critic === true;
  const tValues = performance.now();
  const valued = critic ? await withValues(trainer, scored, opts) : scored;
  const valuesMs = performance.now() - tValues;
  const advantages = computeAdvantages(valued, algo);
  // Last line of defence: ingest bounds rewards so advantages stay finite, but one NaN would poison every weight.
  const unusable: UpdateResult['unusable'] = [];
  advantages.forEach((g, gi) => {
    const bad = g.trials.findIndex((t) => t.rows.some((r) => !Number.isFinite(r.advantage)));
    if (bad !== -1) unusable.push({ group: gi, reason: `trial ${bad} has a non-finite advantage` });
  });
  if (unusable.length > 0)
    return { unusable, rows: 0, rowsDroppedStale: 0, rowsDroppedNoLogp: 0, tokens: 0, metrics: {} };
  const trainRows: TrainRow[] = [];
  const staleness: number[] = [];
  const used: RecordedRow[] = [];
  let dropped = 0;
  let noLogp = 0;
  groups.forEach((g, gi) =>
    g.trials.forEach((t, ti) =>
      t.rows.forEach((row, ri) => {
        if (lacksLogp(row)) {
          noLogp++;
          return;
        }
        // A text backend's reply can be empty (the server's end-of-text is not part of the text): nothing to train.
        if (row.response.length === 0) return;
        const lag = version - row.policyVersion;
        if (lag > algo.maxPolicyLag || lag < 0) {
          dropped++;
          return;
        }
        const a = advantages[gi].trials[ti].rows[ri];
        trainRows.push({
          promptTokens: row.prompt,
          responseTokens: row.response,
          behavLogp: row.behavLogp,
          advantage: a.advantage,
          critic: critic ? { ret: a.G, old: valued[gi].trials[ti].rows[ri].value ?? 0 } : undefined,
        });
        staleness.push(lag);
        used.push(row);
      }),
    ),
  );
  if (ESTIMATORS[algo.estimator].whitenBatch) whitenAdvantages(trainRows);
  const metrics: Record<string, number> = {};
  if (noLogp > 0) metrics['train/rows_dropped_no_logp'] = noLogp;
  if (trainRows.length === 0)
    return { unusable, rows: 0, rowsDroppedStale: dropped, rowsDroppedNoLogp: noLogp, tokens: 0, metrics };

  // ---- 2. minibatches ----------------------------------------------------------------------------------------
  const tPack = performance.now();
  const batches = packMinibatches(trainRows, {
    context: opts.nCtx,
    padId: opts.padId,
    size: algo.miniBatchRows,
    seed: opts.seed,
    groupByLength: algo.groupByLength,
  });

  // ---- 3. π_prox for every minibatch, before any weight changes ---------------------------------------------
  const onPolicy = algo.isMode === 'bypass' || samplesAreOnPolicy(used, version, opts.sampling);
  const prox: Float32Array[] = [];
  const tProx = performance.now();
  for (const b of batches) prox.push(onPolicy ? b.behavLogp : await trainer.score(b.tokens, b.B, b.T));
  const tSteps = performance.now();

  // ---- 4 + 5. importance weights and PPO steps ---------------------------------------------------------------
  let tokens = 0;
  const sums = { loss: 0, gradNorm: 0, entropy: 0, clipFrac: 0, valueLoss: 0, steps: 0 };
  let diagAcc: ReturnType<typeof offPolicyDiagnostics> | null = null;
  for (let epoch = 0; epoch < algo.ppoEpochs; epoch++) {
    for (let i = 0; i < batches.length; i++) {
      const b: PackedBatch = batches[i];
      const { w } = importanceWeights(prox[i], b.behavLogp, { isMode: algo.isMode, isCap: algo.isCap }, b.respMask);
      if (epoch === 0) {
        const rowStale = Float64Array.from(b.rowIndex, (ri) => staleness[ri]);
        const d = offPolicyDiagnostics(
          { proxLogp: prox[i], behavLogp: b.behavLogp, mask: b.respMask, staleness: rowStale },
          algo,
        );
        diagAcc = mergeDiagnostics(diagAcc, d);
        for (let t = 0; t < b.respMask.length; t++) if (b.respMask[t]) tokens++;
      }
      const out = await trainer.ppoStep({
        tokens: b.tokens,
        B: b.B,
        T: b.T,
        respMask: b.respMask,
        advantages: b.advantages,
        proxLogp: prox[i],
        isWeight: Float32Array.from(w),
        clipEps: algo.clipEps,
        dualClipC: algo.dualClipC,
        entropyCoef: algo.entropyCoef,
        critic: b.critic && { ...b.critic, valueClip: algo.valueClip, valueCoef: algo.valueCoef },
      });
      sums.loss += out.loss;
      sums.valueLoss += out.valueLoss ?? 0;
      sums.gradNorm += out.gradNorm;
      sums.entropy += out.entropy;
      sums.clipFrac += out.clipFrac;
      sums.steps++;
    }
  }
  if (diagAcc) Object.assign(metrics, offPolicyMetrics(diagAcc));
  Object.assign(metrics, {
    'train/loss': sums.loss / sums.steps,
    'train/grad_norm': sums.gradNorm / sums.steps,
    'train/entropy': sums.entropy / sums.steps,
    'train/clip_frac': sums.clipFrac / sums.steps,
    'train/optimizer_steps': sums.steps,
    'train/rows': trainRows.length,
    'train/rows_dropped_stale': dropped,
    'train/rows_dropped_no_logp': noLogp,
    'train/response_tokens': tokens,
    'train/prox_recomputed': onPolicy ? 0 : 1,
    'perf/pack_ms': tProx - tPack,
    'perf/prox_ms': tSteps - tProx,
    'perf/steps_ms': performance.now() - tSteps,
    'train/padded_tokens': batches.reduce((a, b) => a + b.B * b.T, 0),
    'train/adv_mean': trainRows.reduce((a, r) => a + r.advantage, 0) / trainRows.length,
  });
  if (critic) {
    Object.assign(metrics, {
      'train/value_loss': sums.valueLoss / sums.steps,
      'train/value_mean': trainRows.reduce((a, r) => a + (r.critic?.old ?? 0), 0) / trainRows.length,
      'train/return_mean': trainRows.reduce((a, r) => a + (r.critic?.ret ?? 0), 0) / trainRows.length,
      'perf/values_ms': valuesMs,
    });
  }
  return { unusable, rows: trainRows.length, rowsDroppedStale: dropped, rowsDroppedNoLogp: noLogp, tokens, metrics };
}

/**
 * Advantages whitened over the trained response tokens, in place: (A − mean) / sqrt(var + 1e-8) with the
 * token-weighted mean and unbiased variance (verl's `masked_whiten`; every token of a row carries its A).
 */
export function whitenAdvantages(rows: TrainRow[]): void {
  let n = 0;
  let sum = 0;
  for (const r of rows) {
    n += r.responseTokens.length;
    sum += r.advantage * r.responseTokens.length;
  }
  if (n === 0) return;
  const mean = sum / n;
  let ss = 0;
  for (const r of rows) ss += (r.advantage - mean) ** 2 * r.responseTokens.length;
  const variance = n > 1 ? ss / (n - 1) : 0;
  const scale = 1 / Math.sqrt(variance + 1e-8);
  for (const r of rows) r.advantage = (r.advantage - mean) * scale;
}

/**
 * The critic's V of every row's state (its last prompt token, the prompt cut as packing cuts it), at the weights
 * of the start of the update; every row of a group gets one (GAE bootstraps through rows that are not trained).
 */
async function withValues(
  trainer: TrainerApi,
  groups: Group<RecordedRow>[],
  opts: { nCtx: number; padId: number },
): Promise<Group<RecordedRow>[]> {
  if (!trainer.scoreWithValues) throw new Error('the estimator needs a critic but the trainer has no value head');
  const prompts: Int32Array[] = [];
  for (const g of groups)
    for (const t of g.trials) for (const r of t.rows) prompts.push(keptPrompt(r.prompt, r.response.length, opts.nCtx));
  // Similar lengths together: one scoring run costs rows × the longest prompt.
  const order = prompts.map((_, i) => i).sort((a, b) => prompts[a].length - prompts[b].length);
  const V = new Float64Array(prompts.length);
  const CHUNK = 64;
  for (let s = 0; s < order.length; s += CHUNK) {
    const idx = order.slice(s, s + CHUNK).filter((i) => prompts[i].length > 0);
    if (idx.length === 0) continue;
    const T = prompts[idx[idx.length - 1]].length;
    const tokens = new Int32Array(idx.length * T).fill(opts.padId);
    idx.forEach((i, b) => tokens.set(prompts[i], b * T));
    const { values } = await trainer.scoreWithValues(tokens, idx.length, T);
    idx.forEach((i, b) => {
      V[i] = values[b * T + prompts[i].length - 1];
    });
  }
  let k = 0;
  return groups.map((g) => ({
    ...g,
    trials: g.trials.map((t) => ({ ...t, rows: t.rows.map((r) => ({ ...r, value: V[k++] })) })),
  }));
}

type Diagnostics = ReturnType<typeof offPolicyDiagnostics>;

/** Token-weighted merge of per-minibatch diagnostics (max/min where the statistic is an extreme). */
function mergeDiagnostics(a: Diagnostics | null, b: Diagnostics): Diagnostics {
  if (!a) return b;
  const n = a.tokens + b.tokens;
  const avg = (x: number, y: number) => (n ? (x * a.tokens + y * b.tokens) / n : 0);
  const out = { ...a };
  for (const k of Object.keys(b) as Array<keyof Diagnostics>) {
    if (k === 'tokens') out.tokens = n;
    else if (k.endsWith('Max')) out[k] = Math.max(a[k], b[k]);
    else if (k.endsWith('Min')) out[k] = Math.min(a[k], b[k]);
    else out[k] = avg(a[k], b[k]);
  }
  return out;
}
