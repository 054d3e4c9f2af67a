/**
 * Trainer native-memory benchmark: does the learner's trainer worker keep growing its RSS when every minibatch has
 * another shape? Builds the default-size policy (default config, the compact vocabulary of the default env), starts
 * the real trainer worker (TrainerClient, as the learner does) and runs learner-like updates: rows of seeded random
 * lengths, packed by `packMinibatches` (64 rows, grouped by length), then per minibatch π_prox (`score`, a
 * dynamic-shape session) and a PPO step (`ppoStep`, bucketed static-shape training sessions). One step = one
 * minibatch. Process RSS and the main thread's V8 heap are sampled every `--every` steps; the RSS slope is fitted
 * over the second half (after the sessions, the arena and the allocator have warmed up).
 *
 *   nice node --import tsx scripts/bench/trainer-memory.ts [--steps 400] [--every 10] [--mem-pattern on|off|default] \
 *     [--mem-arena on|off|default] [--ab-steps 40] [--seed 1]
 *   MALLOC_ARENA_MAX=2 nice node --import tsx scripts/bench/trainer-memory.ts ...   (glibc arenas; process-wide)
 *
 * `--mem-pattern` / `--mem-arena` on|off set that onnxruntime option for every session of the trainer; `default`
 * keeps the trainer's own choice (shared/model/scorer.ts SCORING_MEM_PATTERN; onnxruntime's default elsewhere).
 * `--ab-steps` > 0 then times the variant against a second worker with onnxruntime's defaults (after as many untimed
 * steps to warm it) on the same minibatches, alternating, so their ratio sees the same background load.
 * Prints one JSON line. The per-hour slope assumes continuous stepping; the learner trains only part of the time.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { compactVocabulary } from '../../actor/envs/prompt.js';
import { TrainerClient } from '../../learner/trainer-client.js';
import { resolveConfig } from '../../shared/config.js';
import { type ModelConfig, modelConfigOf } from '../../shared/model/config.js';
import { buildManifest, initParams } from '../../shared/model/manifest.js';
import type { SessionOptions } from '../../shared/model/session.js';
import { WordTokenizer } from '../../shared/model/tokenizer.js';
import { Xoshiro128Rng } from '../../shared/rng.js';
import { type PackedBatch, packMinibatches, type TrainRow } from '../../shared/rl/batch.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '400' },
    every: { type: 'string', default: '10' },
    'mem-pattern': { type: 'string', default: 'default' },
    'mem-arena': { type: 'string', default: 'default' },
    'ab-steps': { type: 'string', default: '40' },
    seed: { type: 'string', default: '1' },
  },
});
const steps = Number(values.steps),
  every = Number(values.every),
  abSteps = Number(values['ab-steps']),
  seed = Number(values.seed);
for (const [k, v] of Object.entries({ steps, every, seed })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
}
if (!Number.isInteger(abSteps) || abSteps < 0) throw new Error('--ab-steps must be an integer >= 0');
type Memory = Pick<SessionOptions, 'memArena' | 'memPattern'>;
function onOff(name: string, v: string | undefined): boolean | undefined {
  if (v === 'default') return undefined;
  if (v === 'on' || v === 'off') return v === 'on';
  throw new Error(`--${name} must be on, off or default, got ${v}`);
}
const memory: Memory = {
  memPattern: onOff('mem-pattern', values['mem-pattern']),
  memArena: onOff('mem-arena', values['mem-arena']),
};

const cfg = resolveConfig({});
const tokenizer = new WordTokenizer([...compactVocabulary(cfg.env.id)]);
const config: ModelConfig = modelConfigOf(cfg.model, tokenizer.vocabSize);
const params = initParams(buildManifest(config), seed);
const rng = new Xoshiro128Rng(seed);
const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));

/**
 * One update's rows as the learner sees them: groupsPerUpdate x groupSize trials of `attempts` episodes, 1..maxTurns
 * rows each; prompts of any length up to the context (they carry the episode's history), short responses.
 */
function updateRows(): TrainRow[] {
  const rows: TrainRow[] = [];
  const episodes = cfg.algo.groupsPerUpdate * cfg.env.groupSize * cfg.env.attempts;
  for (let e = 0; e < episodes; e++) {
    for (let turn = int(1, cfg.env.maxTurns); turn > 0; turn--) {
      const resp = int(1, cfg.sampling.maxActionTokens);
      const prompt = int(8, config.nCtx - resp);
      const tok = (n: number) => Int32Array.from({ length: n }, () => int(4, config.vocabSize - 1));
      rows.push({
        promptTokens: tok(prompt),
        responseTokens: tok(resp),
        behavLogp: Float32Array.from({ length: resp }, () => -Math.log(config.vocabSize) + 0.1 * rng.normal()),
        advantage: rng.normal(),
      });
    }
  }
  return rows;
}

let updates = 0;
let pending: PackedBatch[] = [];
function nextBatch(): PackedBatch {
  if (pending.length === 0) {
    pending = packMinibatches(updateRows(), {
      context: config.nCtx,
      padId: tokenizer.pad,
      size: cfg.algo.miniBatchRows,
      seed: seed + updates++,
      groupByLength: true,
    });
  }
  return pending.shift()!;
}

type Minibatch = Pick<PackedBatch, 'B' | 'T' | 'tokens' | 'respMask' | 'advantages'>;

/** π_prox, then one PPO step: what update.ts does per minibatch (off-policy rows). Returns ms. */
async function step(t: TrainerClient, b: Minibatch): Promise<number> {
  const t0 = performance.now();
  const prox = await t.score(b.tokens, b.B, b.T);
  await t.ppoStep({
    tokens: b.tokens,
    B: b.B,
    T: b.T,
    respMask: b.respMask,
    advantages: b.advantages,
    proxLogp: prox,
    isWeight: new Float32Array(b.B * b.T).fill(1),
    clipEps: cfg.algo.clipEps,
    dualClipC: cfg.algo.dualClipC,
    entropyCoef: cfg.algo.entropyCoef,
  });
  return performance.now() - t0;
}

const start = async (m: Memory) => {
  const t = await TrainerClient.start({
    config,
    params,
    optimizer: { lr: cfg.algo.lr, weightDecay: cfg.algo.weightDecay, clipNorm: cfg.algo.clipNorm },
    batchSize: cfg.algo.miniBatchRows,
    seqLen: config.nCtx,
    padId: tokenizer.pad,
    memory: m,
    // Every bucket shape once before the measurement, as the learner does (learner.prewarmTrainer).
    prewarm: true,
  });
  await t.warmed;
  return t;
};

const MB = 1024 * 1024;
function vmRssMB(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / MB;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, x) => a + x, 0) / n;
  const my = ys.reduce((a, y) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : 0;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const r2 = (x: number) => Math.round(x * 100) / 100;

const trainer = await start(memory);
const samples: Array<[number, number, number]> = [[0, vmRssMB(), process.memoryUsage().heapUsed / MB]];
const ms: number[] = [];
const shapes = new Set<string>();
for (let s = 1; s <= steps; s++) {
  const b = nextBatch();
  shapes.add(`${b.B}x${b.T}`);
  ms.push(await step(trainer, b));
  if (s % every === 0) samples.push([s, vmRssMB(), process.memoryUsage().heapUsed / MB]);
}
const half = samples.filter(([s]) => s >= steps / 2);
const rssPerStep = slope(
  half.map((x) => x[0]),
  half.map((x) => x[1]),
);
const heapPerStep = slope(
  half.map((x) => x[0]),
  half.map((x) => x[2]),
);
const secondHalfMs = ms.slice(Math.floor(steps / 2));
const meanMs = secondHalfMs.reduce((a, x) => a + x, 0) / secondHalfMs.length;

// ---- A/B timing against the default settings, alternating on the same minibatches
let ab: { steps: number; variantMs: number; defaultMs: number; variantOverDefault: number } | null = null;
if (abSteps > 0) {
  const base = await start({ memPattern: true, memArena: true });
  // Untimed steps first: a young worker still grows its arenas (page faults), which would bill it, not the setting.
  for (let s = 0; s < abSteps; s++) await step(base, nextBatch());
  let va = 0;
  let vb = 0;
  for (let s = 0; s < abSteps; s++) {
    const b = nextBatch();
    if (s % 2 === 0) {
      va += await step(trainer, b);
      vb += await step(base, b);
    } else {
      vb += await step(base, b);
      va += await step(trainer, b);
    }
  }
  await base.close();
  ab = { steps: abSteps, variantMs: r2(va / abSteps), defaultMs: r2(vb / abSteps), variantOverDefault: r2(va / vb) };
}
await trainer.close();

const last = samples[samples.length - 1]!;
process.stdout.write(
  JSON.stringify({
    bench: 'trainer-memory',
    variant: {
      memPattern: memory.memPattern ?? 'default',
      memArena: memory.memArena ?? 'default',
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? null,
    },
    config,
    steps,
    updates,
    distinctShapes: shapes.size,
    rssStartMB: r2(samples[0]![1]),
    rssEndMB: r2(last[1]),
    rssPeakMB: r2(Math.max(...samples.map((x) => x[1]))),
    rssSlopeMBPer100Steps: r2(rssPerStep * 100),
    rssSlopeMBPerHour: r2((rssPerStep * 3_600_000) / meanMs),
    heapSlopeMBPer100Steps: r2(heapPerStep * 100),
    msPerStepMedian: r2(median(secondHalfMs)),
    msPerStepMean: r2(meanMs),
    ab,
    samples: samples.map(([s, rss, heap]) => [s, r2(rss), r2(heap)]),
  }) + '\n',
);
