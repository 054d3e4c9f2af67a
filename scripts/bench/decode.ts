/**
 * `lamer bench decode`: the engine's batched-decode peak next to what the actor pipeline achieves in a real
 * rollout, with the same model, engine threads and batch limit.
 *
 *  - peak: back-to-back `PolicyPool.generate` calls of `maxBatch` requests, each a prompt of the rollout's median
 *    prompt length and `maxActionTokens` new tokens with no stop word (the engine never waits for anything).
 *  - pipeline: the actor's own path (Batcher + runTrial + env + prompt builder + tokenizer) keeping
 *    `groupsInFlight x groupSize` trials in flight (a finished trial is replaced at once, as leases are), for
 *    `seconds`; generated tokens over wall-clock.
 *
 * Both use the throughput bench's `generation` workload by default (a randomly initialised policy samples every turn
 * to its token limit), where decode dominates, as it does for the paper's LLMs; `--workload default` measures the
 * compact few-token actions instead (prefill-dominated: tokens/s is then far below the decode peak by construction).
 */
import { performance } from 'node:perf_hooks';
import { compactVocabulary } from '../../actor/envs/prompt.js';
import { resolveEnvId } from '../../actor/envs/registry.js';
import { Batcher } from '../../actor/batcher.js';
import { runModelTrial } from '../../actor/local-trials.js';
import type { Config } from '../../shared/config.js';
import { buildManifest, initParams } from '../../shared/model/manifest.js';
import { type ModelConfig, modelConfigOf } from '../../shared/model/config.js';
import { PolicyPool } from '../../shared/model/policy-pool.js';
import { WordTokenizer } from '../../shared/model/tokenizer.js';
import { deriveSeed } from '../../shared/rng.js';
import { trialSettings } from '../lib/pretrain-job.js';
import { resolveRun } from '../lib/run-config.js';
import { WORKLOADS, quantile } from './throughput.js';

export interface DecodeBenchResult {
  workload: string;
  model: ModelConfig;
  maxBatch: number;
  trialsInFlight: number;
  promptTokensMedian: number;
  peakTokensPerSec: number;
  pipelineTokensPerSec: number;
  pipelineOverPeak: number;
  /** The ratio of every round (pipeline window, then peak calls). */
  pipelineOverPeakRounds: number[];
  pipelineBatchFill: number;
  pipelineTrials: number;
  pipelineEngineBusyFrac: number;
  /**
   * Prompt tokens prefilled per generated token in the pipeline, and the share of prefill positions that were padding.
   */
  promptTokensPerGenerated: number;
  prefillPadFrac: number;
  seconds: number;
}

export async function benchDecode(
  o: { workload?: string; seconds?: number; reps?: number; set?: string[] } = {},
): Promise<DecodeBenchResult> {
  const workload = o.workload ?? 'generation';
  if (!Object.hasOwn(WORKLOADS, workload))
    throw new Error(`unknown workload '${workload}' (known: ${Object.keys(WORKLOADS).join(', ')})`);
  const seconds = o.seconds ?? 24;
  const { config: cfg } = resolveRun(
    { runDir: 'runs/bench-decode-unused', set: [...WORKLOADS[workload], ...(o.set ?? [])] },
    resolveEnvId,
  );
  const tok = new WordTokenizer([...compactVocabulary(cfg.env.id)]);
  const model: ModelConfig = modelConfigOf(cfg.model, tok.vocabSize);
  const pool = await PolicyPool.create({
    config: model,
    params: initParams(buildManifest(model), cfg.run.seed),
    version: 0,
    threads: cfg.actor.threads,
  });
  try {
    // Rounds alternate a pipeline window and a peak measurement, so machine drift hits both; medians are reported.
    const rounds = o.reps ?? 3;
    const pipes: Awaited<ReturnType<typeof pipeline>>[] = [];
    const peaks: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const pipe = await pipeline(cfg, model, tok, pool, seconds / rounds, r);
      pipes.push(pipe);
      peaks.push(await peakDecode(cfg, pool, pipe.promptTokensMedian, 3));
    }
    const med = (f: (p: (typeof pipes)[number]) => number) => quantile(pipes.map(f), 0.5);
    const ratios = pipes.map((p, i) => p.tokensPerSec / peaks[i]);
    return {
      workload,
      model,
      maxBatch: cfg.actor.maxBatch,
      trialsInFlight: pipes[0].inFlight,
      promptTokensMedian: med((p) => p.promptTokensMedian),
      peakTokensPerSec: quantile(peaks, 0.5),
      pipelineTokensPerSec: med((p) => p.tokensPerSec),
      pipelineOverPeak: quantile(ratios, 0.5),
      pipelineOverPeakRounds: ratios,
      pipelineBatchFill: med((p) => p.fill),
      pipelineTrials: pipes.reduce((a, p) => a + p.trials, 0),
      pipelineEngineBusyFrac: med((p) => p.busyFrac),
      seconds,
      promptTokensPerGenerated: med((p) => p.promptTokensPerGenerated),
      prefillPadFrac: med((p) => p.prefillPadFrac),
    };
  } finally {
    await pool.close();
  }
}

/** Trials kept in flight for `seconds`; every prompt length is recorded for the peak measurement's shape. */
async function pipeline(
  cfg: Config,
  model: ModelConfig,
  tok: WordTokenizer,
  pool: PolicyPool,
  seconds: number,
  round: number,
) {
  const promptLens: number[] = [];
  const prefill = { real: 0, padded: 0 };
  let busyMs = 0;
  let inFlightCalls = 0;
  let busySince = 0;
  const generator = {
    generate: async (reqs: Parameters<PolicyPool['generate']>[0]) => {
      for (const r of reqs) promptLens.push(r.prompt.length);
      const maxLen = Math.max(...reqs.map((r) => r.prompt.length));
      prefill.real += reqs.reduce((a, r) => a + r.prompt.length, 0);
      prefill.padded += reqs.length * maxLen;
      if (inFlightCalls++ === 0) busySince = performance.now();
      try {
        return await pool.generate(reqs);
      } finally {
        if (--inFlightCalls === 0) busyMs += performance.now() - busySince;
      }
    },
  };
  const batcher = new Batcher(generator, {
    maxBatch: cfg.actor.maxBatch,
    concurrency: cfg.actor.threads,
    lockstep: false,
  });
  const settings = { ...trialSettings(cfg, model.nCtx), attempts: cfg.env.attempts };
  const inFlight = cfg.actor.groupsInFlight * cfg.env.groupSize;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let tokens = 0;
  let trials = 0;
  let next = 0;
  // The window is wall-clock: tokens and busy time are read at the deadline (trials still running then finish later).
  const tokens0 = batcher.stats.tokens;
  let atDeadline = { tokens: 0, busyMs: 0, batches: 0, fillSum: 0 };
  const snap = setTimeout(() => {
    const busyNow = busyMs + (inFlightCalls > 0 ? performance.now() - busySince : 0);
    atDeadline = {
      tokens: batcher.stats.tokens - tokens0,
      busyMs: busyNow,
      batches: batcher.stats.batches,
      fillSum: batcher.stats.fillSum,
    };
  }, seconds * 1000);
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        const seed = deriveSeed(cfg.run.seed, 'bench-decode', round, next++);
        const r = await runModelTrial(settings, seed, tok, batcher, {
          temperature: cfg.sampling.temperature,
          topP: cfg.sampling.topP,
          seed,
        });
        trials++;
        tokens += r.genTokens;
      }
    }),
  );
  clearTimeout(snap);
  return {
    inFlight,
    trials,
    seconds,
    tokensPerSec: atDeadline.tokens / seconds,
    fill: atDeadline.fillSum / Math.max(1, atDeadline.batches),
    promptTokensMedian: Math.round(quantile(promptLens, 0.5)),
    busyFrac: atDeadline.busyMs / (seconds * 1000),
    trialTokens: tokens,
    promptTokensPerGenerated: prefill.real / Math.max(1, batcher.stats.tokens - tokens0),
    prefillPadFrac: 1 - prefill.real / Math.max(1, prefill.padded),
  };
}

/** Full batches of `maxBatch` requests with no stop word; median tokens/s over `reps` calls (after one warm-up). */
async function peakDecode(cfg: Config, pool: PolicyPool, promptLen: number, reps: number): Promise<number> {
  const maxTokens = Math.min(cfg.sampling.maxActionTokens, cfg.model.nCtx - promptLen);
  const reqs = Array.from({ length: cfg.actor.maxBatch }, (_, i) => ({
    prompt: Array.from({ length: promptLen }, (_, t) => 4 + ((i * 7 + t * 13) % 50)),
    maxTokens,
    stop: [] as number[],
    temperature: 1,
    topP: 1,
    seed: i,
  }));
  await pool.generate(reqs);
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const out = await pool.generate(reqs.map((q) => ({ ...q, seed: q.seed + 1000 * (r + 1) })));
    const n = out.reduce((a, x) => a + x.tokens.length, 0);
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  return quantile(rates, 0.5);
}
