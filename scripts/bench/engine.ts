/**
 * Policy-engine benchmark on the toy size (vocab 64, d 64, 2 layers, 4 heads, context 128,
 * batch 32 x 128): forward (scoring graph) vs PPO train step, batched and single-sequence decode through
 * PolicyPool, and the weight-swap latency. Prints one JSON line (also via `lamer bench engine --json`).
 */
import { pathToFileURL } from 'node:url';
import { TOY_CONFIG, type ModelConfig } from '../../shared/model/config.js';
import { buildManifest, initParams } from '../../shared/model/manifest.js';
import { buildScoringGraph } from '../../shared/model/gpt-graphs.js';
import { toOnnxBytes } from '../../shared/model/onnx/encode.js';
import { createSession } from '../../shared/model/session.js';
import { scoreBatch } from '../../shared/model/scorer.js';
import { PolicyTrainer } from '../../shared/model/trainer.js';
import { PolicyPool } from '../../shared/model/policy-pool.js';
import { Rng } from '../../shared/model/rng.js';
import type { GenRequest } from '../../shared/model/generate.js';

export interface EngineBenchOptions {
  config?: ModelConfig;
  batch?: number;
  seq?: number;
  /** Intra-op threads for the forward and train sessions. */
  threads?: number;
  /** Timed repetitions (median reported). */
  reps?: number;
  /** Decode workers in the pool. */
  workers?: number;
}

export interface EngineBenchResult {
  bench: 'engine';
  config: ModelConfig;
  params: number;
  batch: number;
  seq: number;
  threads: number;
  workers: number;
  forwardMs: number;
  trainStepMs: number;
  trainOverForward: number;
  decodeTokensPerSec: number;
  decodeTokensPerSecSingle: number;
  decodeTokensPerSecPool: number;
  weightSwapMs: number;
  trainSessionCreateMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timeIt(reps: number, f: () => Promise<unknown>, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

export async function benchEngine(o: EngineBenchOptions = {}): Promise<EngineBenchResult> {
  const config = o.config ?? TOY_CONFIG;
  const B = o.batch ?? 32;
  const T = o.seq ?? config.nCtx;
  const threads = o.threads ?? 2;
  const reps = o.reps ?? 21;
  const workers = o.workers ?? 2;
  const m = buildManifest(config);
  const params = initParams(m, 1);
  const rng = new Rng(7);
  const tokens = Int32Array.from({ length: B * T }, () => Math.floor(rng.uniform() * config.vocabSize));

  // ---- forward (scoring graph) vs PPO train step (forward + in-graph loss + backward + AdamW), same batch and
  // threads. Timed alternately so both see the same background load on a shared machine.
  const scoring = await createSession(toOnnxBytes(buildScoringGraph(config)), { threads });
  const logp = await scoreBatch(scoring, params, tokens, B, T);
  let t0 = performance.now();
  const trainer = await PolicyTrainer.create({ config, params, optimizer: { lr: 1e-4 }, batchSize: B, seqLen: T, threads });
  const trainSessionCreateMs = performance.now() - t0;
  const n = B * T;
  const respMask = new Float32Array(n).map((_, i) => (i % T >= T / 2 ? 1 : 0));
  const batch = {
    tokens, respMask,
    advantages: Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1),
    proxLogp: Float32Array.from(logp, (x) => x + 0.05 * rng.normal()),
    isWeight: new Float32Array(n).fill(1),
    clipEps: 0.2, dualClipC: 3, entropyCoef: 0.001,
  };
  const fwd: number[] = [];
  const train: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    t0 = performance.now();
    await scoreBatch(scoring, params, tokens, B, T);
    const t1 = performance.now();
    await trainer.ppoStep(batch);
    const t2 = performance.now();
    if (i >= 2) {
      fwd.push(t1 - t0);
      train.push(t2 - t1);
    }
  }
  const forwardMs = median(fwd);
  const trainStepMs = median(train);
  await scoring.release();
  await trainer.close();

  // ---- decode through the worker pool (what actors use): 1-token prompts, T-1 new tokens, no stop
  const pool = await PolicyPool.create({ config, params, version: 0, threads: workers });
  const gen = (count: number, seed: number): GenRequest[] => Array.from({ length: count }, (_, i) => ({
    prompt: [1], maxTokens: T - 1, stop: [], temperature: 1, topP: 1, seed: seed + i,
  }));
  const newTokens = T - 1;
  const batchMs = await timeIt(Math.max(3, Math.ceil(reps / 3)), () => pool.generate(gen(B, 0)), 1);
  const singleMs = await timeIt(Math.max(3, Math.ceil(reps / 3)), () => pool.generate(gen(1, 0)), 1);
  const poolMs = await timeIt(3, () => Promise.all(Array.from({ length: workers }, (_, w) => pool.generate(gen(B, 1000 * w)))), 1);
  const swaps: number[] = [];
  for (let v = 1; v <= 8; v++) {
    const next = params.map((x) => x * (1 + 1e-3 * v));
    const t0 = performance.now();
    await pool.setWeights(next, v);
    swaps.push(performance.now() - t0);
  }
  await pool.close();

  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    bench: 'engine', config, params: m.totalSize, batch: B, seq: T, threads, workers,
    forwardMs: r2(forwardMs),
    trainStepMs: r2(trainStepMs),
    trainOverForward: r2(trainStepMs / forwardMs),
    decodeTokensPerSec: Math.round((B * newTokens) / (batchMs / 1000)),
    decodeTokensPerSecSingle: Math.round(newTokens / (singleMs / 1000)),
    decodeTokensPerSecPool: Math.round((workers * B * newTokens) / (poolMs / 1000)),
    weightSwapMs: r2(median(swaps.slice(1))),
    trainSessionCreateMs: r2(trainSessionCreateMs),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchEngine().then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
}
