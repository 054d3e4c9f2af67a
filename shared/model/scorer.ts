/**
 * Log-probs of given token sequences (the scoring graph, weights fed as an input so `setParams` is free).
 * Runs on the calling thread: fine for tests, the CLI and the learner's worker; actors use PolicyPool.
 */
import type { ModelConfig } from './config.js';
import { parseModelConfig } from './config.js';
import { buildScoringGraph } from './gpt-graphs.js';
import { buildManifest, checkParams } from './manifest.js';
import { toOnnxBytes } from './onnx/encode.js';
import { LamerError } from '../errors.js';
import { createSession, OrtTensor, releaseSession, runSession, type Session } from './session.js';
import { checkSequences } from './validate.js';

export interface Scorer {
  /** Entry t of each row is log p(token t | tokens < t); entry 0 is null. */
  logprobs(seqs: number[][]): Promise<Array<Array<number | null>>>;
  /** Replaces the weights (copied). */
  setParams(p: Float32Array): void;
  close(): Promise<void>;
}

/**
 * onnxruntime's memory pattern for scoring sessions (trainer, scorer): off. Their [B, T] changes at almost every
 * call and onnxruntime keeps one pattern per input shape it has seen, for the session's lifetime. Measured with
 * scripts/bench/trainer-memory.ts (default model, learner-like minibatches, 800 steps, 251 distinct shapes):
 * with the pattern the trainer worker's RSS crept +2.7 MB per 100 steps over steps 100-500 while new shapes kept
 * coming, and plateaued near 2.90 GB; without it on the scoring session, RSS stayed flat
 * (-0.1 MB per 100 steps in the second half) near 2.75 GB, and a step was no slower (0.96x, timed alternately).
 */
export const SCORING_MEM_PATTERN = false;

/** Scores a right-padded [B, T] int32 batch: per-token logp (position 0 = 0). */
export async function scoreBatch(
  session: Session,
  params: Float32Array,
  tokens: Int32Array,
  B: number,
  T: number,
): Promise<Float32Array> {
  const r = await runSession(session, {
    params: new OrtTensor('float32', params, [params.length]),
    tokens: new OrtTensor('int32', tokens, [B, T]),
  });
  return r.logp!.data as Float32Array;
}

/** Like scoreBatch, plus the value head's V at every position [B, T] (a model with a value head only). */
export async function scoreBatchWithValues(
  session: Session,
  params: Float32Array,
  tokens: Int32Array,
  B: number,
  T: number,
): Promise<{ logp: Float32Array; values: Float32Array }> {
  const r = await runSession(session, {
    params: new OrtTensor('float32', params, [params.length]),
    tokens: new OrtTensor('int32', tokens, [B, T]),
  });
  if (!r.values) throw new LamerError('RL_ERR_MODEL', 'the model has no value head (model config valueHead)');
  return { logp: r.logp!.data as Float32Array, values: r.values.data as Float32Array };
}

/** Creates a session on the scoring graph. `maxBatch` bounds the rows per run (memory). */
export async function createScorer(
  cfg: ModelConfig,
  params: Float32Array,
  opts: { threads?: number; maxBatch?: number } = {},
): Promise<Scorer> {
  const config = parseModelConfig(cfg);
  const manifest = buildManifest(config);
  checkParams(manifest, params);
  let weights = params.slice();
  const session = await createSession(toOnnxBytes(buildScoringGraph(config)), {
    threads: opts.threads ?? 1,
    memPattern: SCORING_MEM_PATTERN,
  });
  const maxBatch = opts.maxBatch ?? 64;
  return {
    async logprobs(seqs) {
      checkSequences(config, seqs);
      const out: Array<Array<number | null>> = seqs.map((s) => (s.length ? [null] : []));
      // Group by length so little padding is computed.
      const order = seqs
        .map((_, i) => i)
        .filter((i) => seqs[i]!.length > 1)
        .sort((a, b) => seqs[a]!.length - seqs[b]!.length);
      for (let k = 0; k < order.length; k += maxBatch) {
        const rows = order.slice(k, k + maxBatch);
        const T = seqs[rows[rows.length - 1]!]!.length;
        const tokens = new Int32Array(rows.length * T);
        rows.forEach((r, i) => tokens.set(seqs[r]!, i * T));
        const lp = await scoreBatch(session, weights, tokens, rows.length, T);
        rows.forEach((r, i) => {
          for (let t = 1; t < seqs[r]!.length; t++) out[r]!.push(lp[i * T + t]!);
        });
      }
      return out;
    },
    setParams(p) {
      checkParams(manifest, p);
      weights = p.slice();
    },
    async close() {
      await releaseSession(session);
    },
  };
}
