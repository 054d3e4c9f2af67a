/**
 * Packs trained rows into the fixed [B, T] per-token arrays the training graph consumes, and splits a batch
 * into minibatches. Layout of row b (row-major, index b·T + t):
 *   tokens    = prompt (cut from the LEFT if prompt + response > context) ++ response ++ padId…
 *   respMask  = 1 at positions t holding a response token, else 0. Position t's value is about token t given
 *               tokens < t, so a graph computing log π(tokens[t] | tokens[<t]) from the logits of position t−1
 *               reads it at t. Position 0 is never a response token (at least one prompt token is kept).
 *   advantages, behavLogp = the row's advantage / the behaviour log-prob of that response token at the same
 *               positions, 0 elsewhere.
 *   critic     (rows with value targets, the ppo estimator) valueMask 1 at the row's last prompt token (the state
 *               the turn acts from; its hidden state sees exactly the prompt), returns / oldValues there.
 * T = the longest packed row of the (mini)batch (≤ context). The response is never truncated.
 */
import { badInput } from '../errors.js';

/** A row ready for training: token ids, per-response-token behaviour log-probs, and its advantage. */
export interface TrainRow {
  promptTokens: Int32Array;
  responseTokens: Int32Array;
  /** log μ of each response token (same length as responseTokens). */
  behavLogp: Float32Array;
  advantage: number;
  /** The critic's target G and its value V_old at the start of the update (estimators with a critic). */
  critic?: { ret: number; old: number };
}

export interface PackOptions {
  /** Context length of the model (max T). */
  context: number;
  /** Token id used for right padding. */
  padId: number;
}

export interface PackedBatch {
  B: number;
  T: number;
  tokens: Int32Array;
  respMask: Float32Array;
  advantages: Float32Array;
  behavLogp: Float32Array;
  /** Used (non-pad) positions of each row. */
  seqLens: Int32Array;
  /** Prompt tokens cut from the left of each row to fit the context. */
  promptDropped: Int32Array;
  /** Index of each packed row in the input array. */
  rowIndex: Int32Array;
  /** Value targets, when the rows carry them (see the layout above). */
  critic?: { valueMask: Float32Array; returns: Float32Array; oldValues: Float32Array };
}

function checkOptions(o: PackOptions): void {
  if (!Number.isInteger(o.context) || o.context < 2)
    throw badInput(`pack: context must be an integer >= 2, got ${o.context}`);
  if (!Number.isInteger(o.padId)) throw badInput(`pack: padId must be an integer, got ${o.padId}`);
}

function checkRow(r: TrainRow, i: number, context: number): void {
  const R = r.responseTokens.length;
  if (R === 0) throw badInput(`pack: row ${i} has no response tokens`);
  if (r.behavLogp.length !== R)
    throw badInput(`pack: row ${i} has ${r.behavLogp.length} behaviour log-probs for ${R} response tokens`);
  if (r.promptTokens.length === 0)
    throw badInput(`pack: row ${i} has an empty prompt (the first response token needs a token before it)`);
  if (R > context - 1)
    throw badInput(
      `pack: row ${i} has a response of ${R} tokens, which does not fit a context ` +
        `of ${context} (at most ${context - 1}: one prompt token must precede it)`,
    );
  if (!Number.isFinite(r.advantage)) throw badInput(`pack: row ${i} has a non-finite advantage ${r.advantage}`);
  for (let t = 0; t < R; t++)
    if (!Number.isFinite(r.behavLogp[t])) throw badInput(`pack: row ${i} behavLogp[${t}] is ${r.behavLogp[t]}`);
}

/** Packs the rows selected by `indices` (default: all, in order) into one [B, T] batch. */
export function packRows(rows: readonly TrainRow[], opts: PackOptions, indices?: readonly number[]): PackedBatch {
  checkOptions(opts);
  const idx = indices ?? rows.map((_, i) => i);
  if (idx.length === 0) throw badInput('pack: no rows');
  const keep = idx.map((i) => {
    const r = rows[i];
    if (r === undefined) throw badInput(`pack: row index ${i} is out of range (${rows.length} rows)`);
    checkRow(r, i, opts.context);
    return Math.min(r.promptTokens.length, opts.context - r.responseTokens.length);
  });
  const B = idx.length;
  let T = 0;
  idx.forEach((i, b) => {
    T = Math.max(T, keep[b] + rows[i].responseTokens.length);
  });
  const out: PackedBatch = {
    B,
    T,
    tokens: new Int32Array(B * T).fill(opts.padId),
    respMask: new Float32Array(B * T),
    advantages: new Float32Array(B * T),
    behavLogp: new Float32Array(B * T),
    seqLens: new Int32Array(B),
    promptDropped: new Int32Array(B),
    rowIndex: Int32Array.from(idx),
  };
  if (idx.some((i) => rows[i].critic)) {
    const n = B * T;
    out.critic = { valueMask: new Float32Array(n), returns: new Float32Array(n), oldValues: new Float32Array(n) };
  }
  idx.forEach((i, b) => {
    const r = rows[i];
    const P = keep[b];
    const R = r.responseTokens.length;
    const base = b * T;
    out.tokens.set(r.promptTokens.subarray(r.promptTokens.length - P), base);
    out.tokens.set(r.responseTokens, base + P);
    out.respMask.fill(1, base + P, base + P + R);
    out.advantages.fill(r.advantage, base + P, base + P + R);
    out.behavLogp.set(r.behavLogp, base + P);
    out.seqLens[b] = P + R;
    if (out.critic && r.critic) {
      out.critic.valueMask[base + P - 1] = 1;
      out.critic.returns[base + P - 1] = r.critic.ret;
      out.critic.oldValues[base + P - 1] = r.critic.old;
    }
    out.promptDropped[b] = r.promptTokens.length - P;
  });
  return out;
}

/**
 * The prompt a row keeps when packed (cut from the left so prompt + response fit the context, at least one
 * token): the critic's state is its last token, so its value can be computed from this alone (causal attention).
 */
export function keptPrompt(prompt: Int32Array, responseLength: number, context: number): Int32Array {
  return prompt.subarray(prompt.length - Math.max(1, Math.min(prompt.length, context - responseLength)));
}

/** mulberry32: a tiny seeded PRNG, so a shuffled minibatch order is reproducible from the seed alone. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Row indices per minibatch: consecutive chunks of `size` (the last one may be smaller). Without a seed the
 * order is the input order (the reference does not shuffle); with a seed, a Fisher–Yates permutation from it.
 */
export function minibatchIndices(nRows: number, size = 64, seed?: number): number[][] {
  if (!Number.isInteger(nRows) || nRows < 0) throw badInput(`minibatch: nRows must be an integer >= 0, got ${nRows}`);
  if (!Number.isInteger(size) || size < 1) throw badInput(`minibatch: size must be an integer >= 1, got ${size}`);
  const order = Array.from({ length: nRows }, (_, i) => i);
  if (seed !== undefined) {
    if (!Number.isInteger(seed)) throw badInput(`minibatch: seed must be an integer, got ${seed}`);
    const rand = mulberry32(seed);
    for (let i = nRows - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
  }
  const out: number[][] = [];
  for (let i = 0; i < nRows; i += size) out.push(order.slice(i, i + size));
  return out;
}

/**
 * Length-grouped minibatches: the rows in a seeded random order, then sorted by `lengths` (stable, so equal lengths
 * keep the random order), cut into chunks of `size`, and the chunks shuffled. Every row is used once, as with
 * `minibatchIndices`, but each minibatch holds rows of similar length, so its padded [B, T] is close to its real
 * token count (the trainer pays for B x T). Ties and chunk order come from the seed alone.
 */
export function lengthGroupedIndices(lengths: readonly number[], size = 64, seed = 0): number[][] {
  const shuffled = minibatchIndices(lengths.length, Math.max(1, lengths.length), seed)[0] ?? [];
  const order = shuffled
    .map((i, rank) => ({ i, rank }))
    .sort((a, b) => lengths[a.i] - lengths[b.i] || a.rank - b.rank)
    .map((x) => x.i);
  const chunks: number[][] = [];
  for (let i = 0; i < order.length; i += size) chunks.push(order.slice(i, i + size));
  const perm = minibatchIndices(chunks.length, Math.max(1, chunks.length), seed ^ 0x5bd1e995)[0] ?? [];
  return perm.map((c) => chunks[c]);
}

/**
 * Minibatches of `size` rows (default 64), each packed with its own T; `groupByLength` packs similar lengths together.
 */
export function packMinibatches(
  rows: readonly TrainRow[],
  opts: PackOptions & { size?: number; seed?: number; groupByLength?: boolean },
): PackedBatch[] {
  const size = opts.size ?? 64;
  const indices = opts.groupByLength
    ? lengthGroupedIndices(
        rows.map((r) => Math.min(r.promptTokens.length + r.responseTokens.length, opts.context)),
        size,
        opts.seed ?? 0,
      )
    : minibatchIndices(rows.length, size, opts.seed);
  return indices.map((idx) => packRows(rows, opts, idx));
}
