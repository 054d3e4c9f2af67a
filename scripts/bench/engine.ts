/**
 * Policy-engine benchmark on the toy size (vocab 64, d 64, 2 layers, 4 heads, context 128,
 * batch 32 x 128): forward (scoring graph) vs PPO train step, batched and single-sequence decode through
 * PolicyPool, and the weight-swap latency. Prints one JSON line (also via `lamer bench engine --json`).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TOY_CONFIG, type ModelConfig } from '../../shared/model/config.js';
import { buildManifest, initParams } from '../../shared/model/manifest.js';
import { buildScoringGraph, buildTrainingGraph } from '../../shared/model/gpt-graphs.js';
import { toOnnxBytes } from '../../shared/model/onnx/encode.js';
import { createSession, OrtTensor, type Session } from '../../shared/model/session.js';
import { scoreBatch } from '../../shared/model/scorer.js';
import { PolicyTrainer, TRAINING_DISABLED_OPTIMIZERS } from '../../shared/model/trainer.js';
import { PolicyPool } from '../../shared/model/policy-pool.js';
import { Xoshiro128Rng } from '../../shared/rng.js';
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
  /** Medians over the alternating forward / train-step runs; trainOverForward is their ratio. */
  forwardMs: number;
  trainStepMs: number;
  trainOverForward: number;
  /** Fastest of the same runs (the least disturbed by other work on a shared machine). */
  forwardMsMin: number;
  trainStepMsMin: number;
  decodeTokensPerSec: number;
  decodeTokensPerSecSingle: number;
  decodeTokensPerSecPool: number;
  weightSwapMs: number;
  trainSessionCreateMs: number;
  /** 1-minute load average at the start and the end of the run (context for the timings). */
  loadAvg1: [number, number];
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
  const load0 = loadavg()[0]!;
  const m = buildManifest(config);
  const params = initParams(m, 1);
  const rng = new Xoshiro128Rng(7);
  const tokens = Int32Array.from({ length: B * T }, () => Math.floor(rng.uniform() * config.vocabSize));

  // ---- forward (scoring graph) vs PPO train step (forward + in-graph loss + backward + AdamW), same batch and
  // threads. Timed alternately so both see the same background load on a shared machine.
  const scoring = await createSession(toOnnxBytes(buildScoringGraph(config)), { threads });
  const logp = await scoreBatch(scoring, params, tokens, B, T);
  let t0 = performance.now();
  const trainer = await PolicyTrainer.create({
    config,
    params,
    optimizer: { lr: 1e-4 },
    batchSize: B,
    seqLen: T,
    threads,
  });
  const trainSessionCreateMs = performance.now() - t0;
  const n = B * T;
  const respMask = new Float32Array(n).map((_, i) => (i % T >= T / 2 ? 1 : 0));
  const batch = {
    tokens,
    respMask,
    advantages: Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1),
    proxLogp: Float32Array.from(logp, (x) => x + 0.05 * rng.normal()),
    isWeight: new Float32Array(n).fill(1),
    clipEps: 0.2,
    dualClipC: 3,
    entropyCoef: 0.001,
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
  const gen = (count: number, seed: number): GenRequest[] =>
    Array.from({ length: count }, (_, i) => ({
      prompt: [1],
      maxTokens: T - 1,
      stop: [],
      temperature: 1,
      topP: 1,
      seed: seed + i,
    }));
  const newTokens = T - 1;
  const batchMs = await timeIt(Math.max(3, Math.ceil(reps / 3)), () => pool.generate(gen(B, 0)), 1);
  const singleMs = await timeIt(Math.max(3, Math.ceil(reps / 3)), () => pool.generate(gen(1, 0)), 1);
  const poolMs = await timeIt(
    3,
    () => Promise.all(Array.from({ length: workers }, (_, w) => pool.generate(gen(B, 1000 * w)))),
    1,
  );
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
    bench: 'engine',
    config,
    params: m.totalSize,
    batch: B,
    seq: T,
    threads,
    workers,
    forwardMs: r2(forwardMs),
    trainStepMs: r2(trainStepMs),
    trainOverForward: r2(trainStepMs / forwardMs),
    forwardMsMin: r2(Math.min(...fwd)),
    trainStepMsMin: r2(Math.min(...train)),
    decodeTokensPerSec: Math.round((B * newTokens) / (batchMs / 1000)),
    decodeTokensPerSecSingle: Math.round(newTokens / (singleMs / 1000)),
    decodeTokensPerSecPool: Math.round((workers * B * newTokens) / (poolMs / 1000)),
    weightSwapMs: r2(median(swaps.slice(1))),
    trainSessionCreateMs: r2(trainSessionCreateMs),
    loadAvg1: [r2(load0), r2(loadavg()[0]!)],
  };
}

export interface OpProfile {
  /** Sum over nodes of each node's fastest kernel time across the runs (robust to a busy machine). */
  sumOfNodeMinMs: number;
  nodes: number;
  /** The same sum per op type, largest first. */
  byOp: Record<string, number>;
  /** The slowest nodes by their fastest kernel time: [node name, op, ms]. */
  top: Array<[string, string, number]>;
}

/**
 * Where the time goes: onnxruntime's profiler on the scoring graph and on the PPO training graph (the trainer's
 * session options), same batch as `benchEngine`, runs alternating. Run it with
 * `node --import tsx scripts/bench/engine.ts --profile [threads] [reps]`.
 */
export async function profileEngine(
  o: { threads?: number; reps?: number; top?: number } = {},
): Promise<{ threads: number; reps: number; forward: OpProfile; train: OpProfile; trainOverForward: number }> {
  const config = TOY_CONFIG;
  const B = 32;
  const T = config.nCtx;
  const threads = o.threads ?? 1;
  const reps = o.reps ?? 30;
  if (!Number.isInteger(reps) || reps < 1)
    throw new RangeError(`profileEngine: reps must be a positive integer, got ${reps}`);
  const params = initParams(buildManifest(config), 1);
  const rng = new Xoshiro128Rng(7);
  const n = B * T;
  const tokens = Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * config.vocabSize));
  const mask = new Float32Array(n).map((_, i) => (i % T >= T / 2 ? 1 : 0));
  const act = (f: () => number) => Float32Array.from(mask, (x) => (x ? f() : 0));
  const bt = (a: Float32Array) => new OrtTensor('float32', a, [B, T]);
  const scalar = (v: number) => new OrtTensor('float32', Float32Array.of(v), []);
  const p = new OrtTensor('float32', params, [params.length]);
  const tok = new OrtTensor('int32', tokens, [B, T]);
  const dir = mkdtempSync(join(tmpdir(), 'lamer-prof-'));
  try {
    const runs: Array<{ name: 'forward' | 'train'; s: Session; feeds: Record<string, OrtTensor> }> = [
      {
        name: 'forward',
        s: await createSession(toOnnxBytes(buildScoringGraph(config)), {
          threads,
          profilePrefix: join(dir, 'forward'),
        }),
        feeds: { params: p, tokens: tok },
      },
      {
        name: 'train',
        s: await createSession(toOnnxBytes(buildTrainingGraph(config, B, T, 'ppo')), {
          threads,
          disabledOptimizers: TRAINING_DISABLED_OPTIMIZERS,
          profilePrefix: join(dir, 'train'),
        }),
        feeds: {
          params: p,
          tokens: tok,
          resp_mask: bt(mask),
          advantages: bt(act(() => rng.uniform() * 2 - 1)),
          prox_logp: bt(act(() => -4 + 0.05 * rng.normal())),
          is_weight: bt(act(() => 1)),
          clip_eps: scalar(0.2),
          dual_clip_c: scalar(3),
          entropy_coef: scalar(0.001),
        },
      },
    ];
    const warmup = 2;
    for (let i = 0; i < reps + warmup; i++) for (const r of i % 2 ? runs : [...runs].reverse()) await r.s.run(r.feeds);
    const out = {} as Record<'forward' | 'train', OpProfile>;
    for (const r of runs) {
      r.s.endProfiling();
      await r.s.release();
      const file = readdirSync(dir).find((f) => f.startsWith(r.name) && f.endsWith('.json'));
      if (!file) throw new Error(`onnxruntime wrote no profile for ${r.name}`);
      const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Array<{
        cat: string;
        name: string;
        dur: number;
        args: { op_name?: string };
      }>;
      const seen = new Map<string, number>();
      const best = new Map<string, { us: number; op: string }>();
      for (const e of events) {
        if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
        const k = (seen.get(e.name) ?? 0) + 1;
        seen.set(e.name, k);
        if (k <= warmup) continue;
        const cur = best.get(e.name);
        if (!cur || e.dur < cur.us) best.set(e.name, { us: e.dur, op: e.args.op_name ?? '?' });
      }
      const byOp = new Map<string, number>();
      for (const v of best.values()) byOp.set(v.op, (byOp.get(v.op) ?? 0) + v.us / 1000);
      const r3 = (x: number) => Math.round(x * 1000) / 1000;
      out[r.name] = {
        sumOfNodeMinMs: r3([...best.values()].reduce((a, v) => a + v.us / 1000, 0)),
        nodes: best.size,
        byOp: Object.fromEntries([...byOp].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, r3(v)])),
        top: [...best]
          .sort((a, b) => b[1].us - a[1].us)
          .slice(0, o.top ?? 15)
          .map(([k, v]) => [k.replace(/_kernel_time$/, ''), v.op, r3(v.us / 1000)]),
      };
    }
    return {
      threads,
      reps,
      ...out,
      trainOverForward: Math.round((out.train.sumOfNodeMinMs / out.forward.sumOfNodeMinMs) * 100) / 100,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [flag, threads, reps] = process.argv.slice(2);
  const run =
    flag === '--profile'
      ? profileEngine({ threads: threads ? Number(threads) : undefined, reps: reps ? Number(reps) : undefined })
      : benchEngine();
  run.then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
}
