/**
 * The base model: behaviour cloning on scripted demonstrations (a solver mixed with noise, template reflections,
 * memory heeded) — the embedded stand-in for the paper's pretrained LLM. Deterministic given the config; cached
 * under `pretrain.cacheDir` by a hash of everything that shapes it, so `lamer train` builds it once per machine.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runDemoTrial, runModelTrials, type TrialSettings } from '../../actor/local-trials.js';
import { compactVocabulary } from '../../actor/envs/prompt.js';
import { envSpec, resolvedEnvOptions } from '../../actor/envs/registry.js';
import { TrainerClient } from '../../learner/trainer-client.js';
import { evalTaskSeed } from '../../learner/task-book.js';
import type { Config } from '../../shared/config.js';
import { loadModelDir, saveModelDir } from '../../shared/model/checkpoint-files.js';
import { type ModelConfig, modelConfigOf } from '../../shared/model/config.js';
import { buildManifest, initParams } from '../../shared/model/manifest.js';
import { PolicyPool } from '../../shared/model/policy-pool.js';
import { WordTokenizer } from '../../shared/model/tokenizer.js';
import { packMinibatches, type TrainRow } from '../../shared/rl/batch.js';
import { passAtKCurve } from '../../shared/rl/metrics.js';
import { deriveSeed } from '../../shared/rng.js';
import { describeEval, EVAL_SAMPLING_SEED, evalDefinition } from '../../shared/eval-definition.js';

export interface PretrainReport {
  dir: string;
  cached: boolean;
  demoTrials: number;
  demoRows: number;
  demoPass: number[];
  finalLoss: number;
  basePass: number[];
  /** The evaluation definition `basePass` was measured under (shared/eval-definition.ts). */
  evalName: string;
  minutes: number;
}

export function trialSettings(cfg: Config, nCtx: number): TrialSettings {
  return {
    envId: cfg.env.id,
    envOptions: cfg.env.options,
    template: cfg.env.template,
    memory: cfg.env.memory,
    attempts: cfg.run.evalAttempts,
    maxTurns: cfg.env.maxTurns,
    reflect: cfg.env.reflect,
    nCtx,
    maxActionTokens: cfg.sampling.maxActionTokens,
    maxReflectTokens: cfg.sampling.maxReflectTokens,
  };
}

/**
 * Everything that changes the base model, hashed into its cache key (`v` = demonstration version:
 * 2 = board first, 3 = memory-keyed demonstrations). The env's options enter resolved, defaults filled in, so a
 * changed env default (e.g. `memoryOnBoard`) builds a new base model instead of reusing one made under the old.
 */
function cacheKey(cfg: Config): string {
  const promptRevision = envSpec(cfg.env.id).promptRevision ?? 1;
  const material = {
    env: cfg.env,
    envResolved: resolvedEnvOptions(cfg.env.id, { ...cfg.env.options, template: cfg.env.template }),
    model: { ...cfg.model, init: undefined },
    // `labels` enters only when 'solver': a key made with played labels is the one from before the option existed.
    pretrain: { ...cfg.pretrain, cacheDir: undefined, labels: cfg.pretrain.labels === 'solver' ? 'solver' : undefined },
    seed: cfg.run.seed,
    sampling: cfg.sampling,
    v: 3,
    // Only when an env has revised its prompt, so the keys (and cached models) of the other envs stay valid.
    ...(promptRevision > 1 ? { promptRevision } : {}),
  };
  return createHash('sha256').update(JSON.stringify(material)).digest('hex').slice(0, 12);
}

export function baseModelDir(cfg: Config): string {
  return join(cfg.pretrain.cacheDir, `${cfg.env.id.replace(/[^A-Za-z0-9]+/g, '_')}-${cacheKey(cfg)}`);
}

/**
 * Pass@k of a model under the run's evaluation definition (shared/eval-definition.ts), run in this process: the same
 * tasks and per-call sampling seeds as the learner's evaluations through the actors, so the numbers are identical.
 */
export async function evaluateModel(
  cfg: Config,
  model: { config: ModelConfig; params: Float32Array; tokenizer: WordTokenizer },
  tasks = cfg.run.evalTasks,
) {
  const pool = await PolicyPool.create({ config: model.config, params: model.params, version: 0, threads: 1 });
  try {
    const def = evalDefinition(cfg);
    const seeds = Array.from({ length: tasks }, (_, i) => evalTaskSeed(def.listSeed, i));
    const res = await runModelTrials(trialSettings(cfg, model.config.nCtx), seeds, model.tokenizer, pool, {
      temperature: def.temperature,
      topP: def.topP,
      seed: EVAL_SAMPLING_SEED,
      maxBatch: 64,
      concurrency: 1,
    });
    return {
      pass: passAtKCurve(
        res.map((r) => r.episodesWon),
        cfg.run.evalAttempts,
      ),
      results: res,
    };
  } finally {
    await pool.close();
  }
}

export async function runPretrain(
  cfg: Config,
  opts: { out?: string; log?: (line: string) => void; force?: boolean } = {},
): Promise<PretrainReport> {
  const t0 = Date.now();
  const dir = opts.out ?? baseModelDir(cfg);
  const log = opts.log ?? (() => {});
  const evalName = describeEval(evalDefinition(cfg));
  if (!opts.force && existsSync(join(dir, 'lamer.json'))) {
    const m = loadModelDir(dir);
    const r = (m.extra?.pretrain ?? {}) as Partial<PretrainReport>;
    // A base model cached under another evaluation definition is re-scored (seconds),
    // never reported under the wrong one.
    const basePass =
      r.evalName === evalName && r.basePass
        ? r.basePass
        : (await evaluateModel(cfg, { config: m.config, params: m.params, tokenizer: m.tokenizer! })).pass;
    return {
      dir,
      cached: true,
      demoTrials: r.demoTrials ?? 0,
      demoRows: r.demoRows ?? 0,
      demoPass: r.demoPass ?? [],
      finalLoss: r.finalLoss ?? NaN,
      basePass,
      evalName,
      minutes: 0,
    };
  }
  if (cfg.env.template !== 'compact')
    throw new Error('pretraining builds the embedded model, which reads the compact template (env.template=compact)');
  const tokenizer = new WordTokenizer([...compactVocabulary(cfg.env.id)]);
  const config: ModelConfig = modelConfigOf(cfg.model, tokenizer.vocabSize);
  const settings = { ...trialSettings(cfg, config.nCtx), attempts: cfg.env.attempts };

  // ---- demonstrations --------------------------------------------------------------------------------------
  const rows: TrainRow[] = [];
  const wins: boolean[][] = [];
  for (let i = 0; i < cfg.pretrain.trials; i++) {
    const seed = deriveSeed(cfg.run.seed, 'demo-task', i) % 2 ** 16;
    const r = await runDemoTrial(settings, seed, tokenizer, {
      noise: cfg.pretrain.noise,
      seed: deriveSeed(cfg.run.seed, 'demo'),
      labels: cfg.pretrain.labels,
    });
    wins.push(r.episodesWon);
    r.rows.forEach((row, j) => {
      const responseTokens = r.labels[j];
      rows.push({
        promptTokens: row.prompt,
        responseTokens,
        behavLogp: new Float32Array(responseTokens.length),
        advantage: 1,
      });
    });
  }
  const demoPass = passAtKCurve(wins, settings.attempts);
  log(
    `pretrain: ${cfg.pretrain.trials} demonstration trials, ${rows.length} turns; ` +
      `demonstrator pass@k ${demoPass.map((p) => (100 * p).toFixed(1)).join('/')}%`,
  );

  // ---- behaviour cloning ------------------------------------------------------------------------------------
  const params0 = initParams(buildManifest(config), cfg.run.seed);
  const trainer = await TrainerClient.start({
    config,
    params: params0,
    optimizer: { lr: cfg.pretrain.lr, weightDecay: 0.01, clipNorm: 1 },
    batchSize: cfg.algo.miniBatchRows,
    seqLen: config.nCtx,
    padId: tokenizer.pad,
  });
  let finalLoss = NaN;
  try {
    for (let epoch = 0; epoch < cfg.pretrain.epochs; epoch++) {
      const batches = packMinibatches(rows, {
        context: config.nCtx,
        padId: tokenizer.pad,
        size: cfg.algo.miniBatchRows,
        seed: deriveSeed(cfg.run.seed, 'bc', epoch),
      });
      let sum = 0;
      for (const b of batches)
        sum += (await trainer.bcStep({ tokens: b.tokens, B: b.B, T: b.T, weights: b.respMask })).loss;
      finalLoss = sum / batches.length;
      log(
        `pretrain: epoch ${epoch + 1}/${cfg.pretrain.epochs} ` +
          `loss ${finalLoss.toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
      );
    }
    const params = await trainer.params();
    const { pass: basePass } = await evaluateModel(cfg, { config, params, tokenizer });
    log(`pretrain: base model pass@k ${basePass.map((p) => (100 * p).toFixed(1)).join('/')}% (${evalName})`);
    const report: PretrainReport = {
      dir,
      cached: false,
      demoTrials: cfg.pretrain.trials,
      demoRows: rows.length,
      demoPass,
      finalLoss,
      basePass,
      evalName,
      minutes: (Date.now() - t0) / 60_000,
    };
    saveModelDir(dir, { config, params, tokenizer, extra: { pretrain: { ...report, settings: cfg.pretrain } } });
    return report;
  } finally {
    await trainer.close();
  }
}
