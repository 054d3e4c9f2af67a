/**
 * `lamer experiment`: one base model, a preset table of rows × seeds, each trained row with the same trajectory
 * budget (stopped by iterations), all evaluated on the same fixed validation tasks with up to `attempts`
 * episodes per trial; then docs/results.json, docs/results.runs.json, plots and docs/results.md.
 * Resumable: a (row, seed) whose run directory holds result.json is not run again; a half-finished training
 * run resumes from its checkpoint. Preset `harder` trains nothing: it evaluates the final weights of preset main's
 * runs on harder instances (missing ones are an error, or trained in main's directories with `trainMissing`).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointStore } from '../../learner/checkpoint-store.js';
import { readMetricsCsv } from '../../shared/run-dir.js';
import { resolveConfig, type Config } from '../../shared/config.js';
import { LamerError } from '../../shared/errors.js';
import { loadModelDir, parseModel } from '../../shared/model/checkpoint-files.js';
import type { ModelConfig } from '../../shared/model/config.js';
import type { WordTokenizer } from '../../shared/model/tokenizer.js';
import { Batcher } from '../../actor/batcher.js';
import { resolvedEnvOptions } from '../../actor/envs/registry.js';
import { ALFWORLD_ID } from '../../actor/envs/alfworld/env.js';
import { retryEpisodes, type StepRecord } from '../../actor/envs/retry.js';
import { WEBSHOP_ID } from '../../actor/envs/webshop/env.js';
import { runModelTrial } from '../../actor/local-trials.js';
import { evalTaskSeed } from '../../learner/task-book.js';
import { alfworldEvalReport } from '../../shared/alfworld-splits.js';
import { evalDefinition } from '../../shared/eval-definition.js';
import { PolicyPool } from '../../shared/model/policy-pool.js';
import { retryStats, trajectoryDiversity } from '../../shared/rl/metrics.js';
import { deriveSeed } from '../../shared/rng.js';
import { writeExperimentPlots } from './experiment-plots.js';
import {
  envLayers,
  episodesPerUpdate,
  evalConfig,
  PRESETS,
  presetRows,
  rowConfig,
  rowEvalConfig,
  type PresetName,
  type RowContext,
  type RowSpec,
} from './experiment-presets.js';
import { writeResultsReport } from './experiment-report.js';
import {
  continuesPreset,
  mergeProvenance,
  mergeResults,
  readJsonIfExists,
  writeJsonAtomic,
  type PresetProvenance,
  type ProvenanceFile,
  type GroupResult,
  type RowResult,
  type SeedResult,
} from './experiment-results.js';
import { aggregateCurves, describeCiMethods, mean, tInterval95 } from './experiment-stats.js';
import { evaluateModel, runPretrain, trialSettings } from './pretrain-job.js';
import { runTraining } from './train-job.js';

export interface ExperimentOptions {
  preset: PresetName;
  /** Only these rows of the preset (default all), e.g. the memory-reading rows of a tagged variant. */
  rows?: string[];
  /**
   * Optional variant name: results key `<preset>-<tag>`, runs under `<env>-<preset>-<tag>`
   * (e.g. a documented config change).
   */
  tag?: string;
  seeds: number[];
  /** Full env id (lamer/MineSweeper-v0). */
  envId: string;
  /** Episodes trained per trained row (nominal: iterations × B × group × N). */
  trajectories: number;
  evalTasks: number;
  /** Episodes per validation trial of the final evaluation (pass@1..attempts). */
  attempts: number;
  /** Seed of the base model (shared by every row and seed). */
  baseSeed: number;
  /** Seed of the validation task list (shared by every row and seed). */
  evalSeed: number;
  curveTasks: number;
  curvePoints: number;
  /**
   * The paper's trajectory diversity: first episodes of `diversitySamples` independent trials on each of
   * `diversityTasks` validation tasks.
   */
  diversityTasks: number;
  diversitySamples: number;
  runsDir: string;
  docsDir: string;
  /** User config layers (--config, --set). */
  layers: Array<Record<string, unknown>>;
  /** The command line, recorded in results.runs.json and results.md. */
  command: string;
  log: (line: string) => void;
  /**
   * Preset `harder`: train main's runs it needs but cannot find, in main's run directories, as
   * `--preset main --rows ...` would (default: an error naming them).
   */
  trainMissing?: boolean;
}

export interface ExperimentOutcome {
  env: string;
  /** The results.json key: the preset name, or `<preset>-<tag>`. */
  preset: string;
  rows: Record<string, RowResult>;
  provenance: PresetProvenance;
  files: string[];
}

/** The results.json key of a preset run: `main`, or `main-<tag>` for a tagged variant. */
export function presetKey(preset: string, tag?: string): string {
  if (tag !== undefined && !/^[a-z0-9][a-z0-9.-]*$/i.test(tag))
    throw new LamerError('RL_ERR_CONFIG', `--tag must be letters, digits, '.' or '-', got '${tag}'`);
  return tag ? `${preset}-${tag}` : preset;
}

/** Episodes actually trained (a won Meta-RL trial stops early), from the run's metrics.csv; null if not logged. */
function episodesTrained(runDir: string): number | null {
  const file = join(runDir, 'metrics.csv');
  if (!existsSync(file)) return null;
  const v = readMetricsCsv(file).get('rollout/episodes_trained_total');
  return v?.length ? v[v.length - 1].value : null;
}

/** `lamer/MineSweeper-v0` → `minesweeper` (the results.json key). */
export function envKey(envId: string): string {
  return envId
    .replace(/^lamer\//, '')
    .replace(/-v\d+$/, '')
    .toLowerCase();
}

type Model = { config: ModelConfig; params: Float32Array; tokenizer: WordTokenizer };

/**
 * The paper's trajectory diversity (docs/method.md §7): for each of `tasks` validation tasks, K independent samples of
 * one episode (the first attempt of K trials, each with its own sampling stream), keyed by the exact action
 * sequence; entropy of their empirical distribution, mean over tasks.
 */
async function independentDiversity(cfg: Config, model: Model, tasks: number, K: number): Promise<number> {
  const pool = await PolicyPool.create({ config: model.config, params: model.params, version: 0, threads: 1 });
  try {
    const batcher = new Batcher(pool, { maxBatch: 64, concurrency: 1, lockstep: false });
    const s = { ...trialSettings(cfg, model.config.nCtx), attempts: 1 };
    const jobs: Array<Promise<string[]>> = [];
    for (let i = 0; i < tasks; i++) {
      const taskSeed = evalTaskSeed(cfg.run.evalSeed || cfg.run.seed, i);
      for (let j = 0; j < K; j++) {
        const sampling = {
          temperature: cfg.sampling.evalTemperature,
          topP: cfg.sampling.evalTopP,
          seed: deriveSeed(cfg.run.seed, 'diversity', j),
        };
        jobs.push(
          runModelTrial(s, taskSeed, model.tokenizer, batcher, sampling).then((r) =>
            r.rows.filter((x) => x.phase === 'play').map((x) => x.actionText),
          ),
        );
      }
    }
    const eps = await Promise.all(jobs);
    return trajectoryDiversity(Array.from({ length: tasks }, (_, i) => eps.slice(i * K, (i + 1) * K))).mean;
  } finally {
    await pool.close();
  }
}

/**
 * ALFWorld's breakdown of a final evaluation: pass@k per task type and per ID/OOD split, from the validation seeds
 * (`results[i]` is the trial of the i-th seed of the run's list). Loaded games (`dataDir`) have no seed-decided type,
 * so none.
 */
export function alfworldGroups(
  cfg: Config,
  results: ReadonlyArray<{ episodesWon: boolean[] }>,
): SeedResult['groups'] | undefined {
  if (cfg.env.id !== ALFWORLD_ID || cfg.env.options.dataDir !== undefined) return undefined;
  const listSeed = evalDefinition(cfg).listSeed;
  const report = alfworldEvalReport(
    results.map((r, i) => ({ seed: evalTaskSeed(listSeed, i), episodesWon: r.episodesWon })),
    cfg.run.evalAttempts,
  );
  const out: NonNullable<SeedResult['groups']> = {};
  for (const [name, g] of Object.entries(report.byType)) out[name] = { tasks: g.n, pass: g.passAtK };
  out.id = { tasks: report.inDistribution.n, pass: report.inDistribution.passAtK };
  out.ood = { tasks: report.outOfDistribution.n, pass: report.outOfDistribution.passAtK };
  return out;
}

/**
 * The env's task score within the first k episodes of each trial (k = 1..attempts), mean over trials, with a
 * t-interval over trials (WebShop; other envs report no score). An episode's score is that of the step that reported
 * one (WebShop: the purchase); an episode that bought nothing scores 0, so a row that never buys scores 0, not none.
 */
export function scoreCurve(
  results: ReadonlyArray<{ rows: ReadonlyArray<{ phase: string; episode: number }>; steps: ReadonlyArray<StepRecord> }>,
  attempts: number,
): { score: number[]; ci95: Array<[number, number]> } {
  const best = results.map((r) => {
    const plays = r.rows.filter((x) => x.phase === 'play');
    const per = new Array<number>(attempts).fill(0);
    plays.forEach((p, i) => {
      const sc = r.steps[i]?.score;
      if (sc !== undefined && p.episode < attempts) per[p.episode] = Math.max(per[p.episode], sc);
    });
    for (let k = 1; k < attempts; k++) per[k] = Math.max(per[k], per[k - 1]);
    return per;
  });
  const score = Array.from({ length: attempts }, (_, k) => mean(best.map((b) => b[k])));
  const ci95 = Array.from({ length: attempts }, (_, k): [number, number] =>
    best.length >= 2 ? tInterval95(best.map((b) => b[k])) : [score[k], score[k]],
  );
  return { score, ci95 };
}

/**
 * Final evaluation: the row's settings, `attempts` episodes per trial, the pinned task list; diversity over each
 * trial's episodes, retry statistics over the trials, and the paper's diversity over independent samples.
 */
async function finalEval(
  cfg: Config,
  model: Model,
  o: Pick<ExperimentOptions, 'evalTasks' | 'attempts' | 'diversityTasks' | 'diversitySamples'>,
) {
  const t0 = Date.now();
  const { pass, results } = await evaluateModel(evalConfig(cfg, o.evalTasks, o.attempts), model, o.evalTasks);
  const episodes = results.map((r) => {
    const eps: string[][] = [];
    for (const row of r.rows) if (row.phase === 'play') (eps[row.episode] ??= []).push(row.actionText);
    return eps.filter((e) => e !== undefined);
  });
  const retry = retryStats(
    results.map((r) =>
      retryEpisodes(
        cfg.env.id,
        r.rows.filter((x) => x.phase === 'play'),
        r.steps,
      ),
    ),
    o.attempts,
  );
  const diversityK =
    o.diversityTasks > 0 && o.diversitySamples > 1
      ? await independentDiversity(cfg, model, Math.min(o.diversityTasks, o.evalTasks), o.diversitySamples)
      : undefined;
  const ecfg = evalConfig(cfg, o.evalTasks, o.attempts);
  return {
    pass,
    diversity: trajectoryDiversity(episodes).mean,
    diversityK,
    retry,
    groups: alfworldGroups(ecfg, results),
    score: cfg.env.id === WEBSHOP_ID ? scoreCurve(results, o.attempts) : undefined,
    seconds: (Date.now() - t0) / 1000,
  };
}

/** The newest checkpoint of a run (read only: nothing in the run directory changes) and its policy version. */
async function latestModel(runDir: string, keep: number): Promise<Model & { version: number }> {
  const loaded = await new CheckpointStore(join(runDir, 'checkpoints'), { keep }).loadLatest();
  if (!loaded) throw new LamerError('RL_ERR_CHECKPOINT', `training in ${runDir} left no checkpoint`);
  const m = parseModel(loaded.files);
  return { config: m.config, params: m.params, tokenizer: m.tokenizer!, version: loaded.step };
}

function rowContext(o: ExperimentOptions, seed: number, baseModelDir: string, runDir: string): RowContext {
  return {
    layers: o.layers,
    envId: o.envId,
    seed,
    evalSeed: o.evalSeed,
    trajectories: o.trajectories,
    curveTasks: o.curveTasks,
    curvePoints: o.curvePoints,
    baseModelDir,
    runDir,
  };
}

/** A finished trained run whose final weights a `harder` row evaluates. */
interface SourceRun {
  /** The run directory holding its checkpoints (an identical run it reused, if it reused one). */
  dir: string;
  result: SeedResult;
}

async function runSeed(
  row: RowSpec,
  seed: number,
  o: ExperimentOptions,
  base: { dir: string; model: Model },
  dir: string,
  source?: SourceRun,
): Promise<SeedResult> {
  const cfg = rowEvalConfig(row, rowConfig(row, rowContext(o, seed, base.dir, dir)));
  const t0 = Date.now();
  let model: Model = base.model;
  let trialsTrained = 0;
  let curve: SeedResult['curve'] = [];
  let iterations = 0;
  let weights: Pick<SeedResult, 'weightsFrom' | 'weightsVersion'> = {};
  if (row.weightsOf) {
    // Another run's final weights, evaluated as they are: this row trains nothing.
    if (!source) throw new Error(`row ${row.name} needs the run of main/${row.weightsOf} seed ${seed}`);
    const m = await latestModel(source.dir, cfg.learner.keepCheckpoints);
    if (m.version !== source.result.iterations)
      throw new LamerError(
        'RL_ERR_CHECKPOINT',
        `${source.dir}: newest checkpoint is version ${m.version}, but its result.json was evaluated at ` +
          `version ${source.result.iterations} (trained further since?); re-run that row first`,
      );
    model = m;
    iterations = source.result.iterations;
    trialsTrained = source.result.trialsTrained;
    weights = { weightsFrom: source.dir, weightsVersion: m.version };
    writeJsonAtomic(join(dir, 'config.json'), cfg);
  } else if (row.train) {
    const resumed = existsSync(join(dir, 'config.json'));
    const summary = await runTraining({ config: cfg, runDir: dir, resumed }, { quiet: true });
    // Stopped by Ctrl-C/SIGTERM: the run is unfinished, so no result.json (the next invocation resumes it).
    if (summary.stoppedBy === 'signal')
      throw new LamerError(
        'RL_ERR_CONFIG',
        `training in ${dir} was stopped by a signal at ` +
          `version ${summary.policyVersion}; run the same command again to resume it`,
      );
    model = await latestModel(dir, cfg.learner.keepCheckpoints);
    trialsTrained = summary.trialsTrained;
    iterations = summary.policyVersion;
    const per = episodesPerUpdate(cfg);
    curve = summary.evals.map((e) => ({ version: e.version, trajectories: e.version * per, pass: e.pass }));
  } else {
    writeJsonAtomic(join(dir, 'config.json'), cfg); // the resume check compares it with the next invocation's config
  }
  const trainMinutes = (Date.now() - t0) / 60_000;
  const ev = await finalEval(cfg, model, o);
  return {
    evalTasks: o.evalTasks,
    row: row.name,
    seed,
    trained: row.train,
    pass: ev.pass,
    diversity: ev.diversity,
    ...(ev.diversityK !== undefined
      ? {
          diversityK: ev.diversityK,
          diversitySamples: o.diversitySamples,
          diversityTasks: Math.min(o.diversityTasks, o.evalTasks),
        }
      : {}),
    retry: {
      winAfterLoss: ev.retry.winAfterLoss,
      fatalRepeat: ev.retry.fatalRepeat,
      reachedAfterLoss: ev.retry.reachedAfterLoss,
      fatalRepeatOf: ev.retry.fatalRepeatOf,
    },
    minutes: (Date.now() - t0) / 60_000,
    trainMinutes,
    episodesTrained: row.train ? (episodesTrained(dir) ?? undefined) : (source?.result.episodesTrained ?? 0),
    evalSeconds: ev.seconds,
    iterations,
    trajectories: iterations * episodesPerUpdate(cfg),
    trialsTrained,
    curve,
    finishedAt: new Date().toISOString(),
    ...weights,
    ...(ev.groups ? { groups: ev.groups } : {}),
    ...(ev.score ? { score: ev.score.score, scoreCi95: ev.score.ci95 } : {}),
  };
}

/** JSON with sorted keys, so two configs compare equal whatever order their keys were built in. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** Dotted leaf paths → values of a JSON object (arrays and `options` maps are leaves). */
function leaves(v: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (v && typeof v === 'object' && !Array.isArray(v) && !prefix.endsWith('.options')) {
    for (const [k, x] of Object.entries(v)) leaves(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, canonicalJson(v));
  return out;
}

// Settings that do not change what a run trains on: where it writes, logging, the learner's socket.
const IGNORED = [/^run\.(dir|fresh|progressSec)$/, /^actor\.outboxDir$/, /^learner\./, /^log\./];

let defaultLeaves: Map<string, string> | null = null;

/**
 * Keys whose default changed after they were added, with the value a config that lacks the key was made with (the
 * behaviour before the key existed): reflections trained with the spec's A_E, base models cloned on played actions.
 */
const FIRST_DEFAULTS: ReadonlyMap<string, string> = new Map([
  ['algo.reflectAdvantage', canonicalJson('lamer')],
  ['pretrain.labels', canonicalJson('played')],
]);

/**
 * The leaves where two configs differ, as `[path, a, b]`. A leaf only one side has is compared with the default it
 * had when the key was added (`FIRST_DEFAULTS`, else today's): the schema grows while runs sit on disk (a saved
 * config.json is never re-validated), and a key a config lacks was at that default when the run was made — so a
 * run made with a new setting away from its default (e.g. algo.reflectAdvantage=step) is not mistaken for one made
 * before the key existed. Keys the schema does not know (renamed or removed) are ignored.
 */
function differences(a: unknown, b: unknown): Array<[string, string, string]> {
  defaultLeaves ??= new Map([...leaves(resolveConfig()), ...FIRST_DEFAULTS]);
  const la = leaves(a);
  const lb = leaves(b);
  const out: Array<[string, string, string]> = [];
  for (const k of new Set([...la.keys(), ...lb.keys()])) {
    if (IGNORED.some((re) => re.test(k))) continue;
    const va = la.get(k) ?? defaultLeaves.get(k);
    const vb = lb.get(k) ?? defaultLeaves.get(k);
    if (va !== undefined && vb !== undefined && va !== vb) out.push([k, va, vb]);
  }
  return out;
}

/** Whether two configs describe the same training run (see `differences` for keys only one side has). */
export function sameTraining(a: unknown, b: unknown): boolean {
  return differences(a, b).length === 0;
}

/** The first leaf where two configs differ (for error messages), or null. */
export function firstDifference(a: unknown, b: unknown): string | null {
  const d = differences(a, b)[0];
  return d ? `${d[0]}: ${d[1]} vs ${d[2]}` : null;
}

const readConfigJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

/** Throws if the finished run in `dir` was made with another configuration than `cfg` (else the table mixes setups). */
function checkSameConfig(dir: string, cfg: Config, hint: string): void {
  const saved = join(dir, 'config.json');
  const diff = existsSync(saved) ? firstDifference(readConfigJson(saved), cfg) : null;
  if (diff)
    throw new LamerError(
      'RL_ERR_CONFIG',
      `${dir} was run with a different configuration than this invocation asks for (${diff}); ${hint}`,
    );
}

/**
 * A finished trained run of another preset with the identical resolved config and the same final evaluation
 * (e.g. main/metarl = memory/reflection = gamma/0.9), found through docs/results.runs.json; null if none.
 */
export function findReusableRun(
  o: Pick<ExperimentOptions, 'docsDir' | 'runsDir' | 'preset' | 'tag' | 'evalTasks' | 'attempts' | 'evalSeed'>,
  env: string,
  cfg: Config,
  seed: number,
  rowName: string,
): SeedResult | null {
  const prov = readJsonIfExists(join(o.docsDir, 'results.runs.json')) as ProvenanceFile | undefined;
  for (const [preset, p] of Object.entries(prov?.[env] ?? {})) {
    if (
      preset === presetKey(o.preset, o.tag) ||
      p.evalTasks !== o.evalTasks ||
      p.attempts !== o.attempts ||
      p.evalSeed !== o.evalSeed
    )
      continue;
    for (const [name, r] of Object.entries(p.rows)) {
      const s = r.perSeed.find((x) => x.seed === seed);
      if (!r.trained || !s || s.reusedFrom) continue;
      const dir = join(o.runsDir, `${env}-${preset}`, `${name}-s${seed}`);
      const file = join(dir, 'config.json');
      if (!existsSync(file)) continue;
      if (sameTraining(readConfigJson(file), cfg))
        return { ...s, row: rowName, evalTasks: o.evalTasks, reusedFrom: dir };
    }
  }
  return null;
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** Mean over seeds with CIs, rounded for the docs (4 decimals of a fraction = 0.01 points). */
export function rowResult(
  perSeed: SeedResult[],
  tasks: number,
): RowResult & { method: ReturnType<typeof aggregateCurves>['method'] } {
  const agg = aggregateCurves(
    perSeed.map((s) => s.pass),
    tasks,
  );
  // Seeds evaluated before these metrics existed have none; a mean over the seeds that have them (null: none).
  const meanOf = (xs: Array<number | null | undefined>): number | null => {
    const v = xs.filter((x): x is number => typeof x === 'number');
    return v.length === 0 ? null : r4(mean(v));
  };
  const withRetry = perSeed.filter((s) => s.retry);
  const kMax = Math.max(0, ...withRetry.map((s) => s.retry!.winAfterLoss.length));
  const divK = meanOf(perSeed.map((s) => s.diversityK));
  // ALFWorld groups present (with tasks) in every seed: the same t-interval over seeds / Wilson over tasks as pass@k.
  const groupOf = (name: string): GroupResult | undefined => {
    const gs = perSeed.map((s) => s.groups?.[name]);
    if (gs.some((g) => g === undefined || g.tasks === 0)) return undefined;
    const a = aggregateCurves(
      gs.map((g) => g!.pass),
      gs[0]!.tasks,
    );
    return { tasks: gs[0]!.tasks, pass: a.pass.map(r4), ci95: a.ci95.map(([x, y]) => [r4(x), r4(y)]) };
  };
  const groupNames = Object.keys(perSeed[0]?.groups ?? {});
  const byType = Object.fromEntries(
    groupNames
      .filter((n) => n !== 'id' && n !== 'ood')
      .flatMap((n) => {
        const g = groupOf(n);
        return g ? [[n, g]] : [];
      }),
  );
  const id = groupOf('id');
  const ood = groupOf('ood');
  // WebShop scores: t-interval over seeds with 2 or more, else the single seed's interval over tasks.
  const scored = perSeed.every((s) => s.score !== undefined);
  const score = !scored
    ? undefined
    : {
        mean: perSeed[0].score!.map((_, k) => r4(mean(perSeed.map((s) => s.score![k])))),
        ci95: perSeed[0].score!.map((_, k): [number, number] => {
          const [lo, hi] =
            perSeed.length >= 2 ? tInterval95(perSeed.map((s) => s.score![k])) : perSeed[0].scoreCi95![k];
          return [r4(lo), r4(hi)];
        }),
      };
  return {
    pass: agg.pass.map(r4),
    ci95: agg.ci95.map(([a, b]) => [r4(a), r4(b)]),
    diversity: r4(mean(perSeed.map((s) => s.diversity))),
    ...(divK !== null ? { diversityK: divK } : {}),
    ...(withRetry.length > 0
      ? {
          retry: {
            winAfterLoss: Array.from({ length: kMax }, (_, k) =>
              meanOf(withRetry.map((s) => s.retry!.winAfterLoss[k])),
            ),
            fatalRepeat: meanOf(withRetry.map((s) => s.retry!.fatalRepeat)),
          },
        }
      : {}),
    minutes: Math.round(mean(perSeed.map((s) => s.minutes)) * 100) / 100,
    ...(id ? { id } : {}),
    ...(ood ? { ood } : {}),
    ...(Object.keys(byType).length > 0 ? { byType } : {}),
    ...(score ? { score } : {}),
    method: agg.method,
  };
}

/** Key of a source run: main's row name and the seed. */
const sourceKey = (mainRow: string, seed: number) => `${mainRow}-s${seed}`;

/**
 * Finds, for each (weightsOf, seed) the rows need, the finished run of preset main (`main-<tag>` under a tag) with
 * exactly the training config main would use here: main's own run directory, else an identical run of another preset
 * (as main itself would reuse it). Missing runs are an error naming them all, or with `trainMissing` are trained in
 * main's run directories through the same code path as `--preset main`. Also checks each harder setting's options
 * against the env's schema before anything runs.
 */
async function sourceRuns(
  o: ExperimentOptions,
  rows: RowSpec[],
  env: string,
  base: { dir: string; model: Model },
): Promise<Map<string, SourceRun>> {
  for (const row of rows)
    if (row.evalOptions)
      resolvedEnvOptions(o.envId, rowEvalConfig(row, rowConfig(row, rowContext(o, 1, '', ''))).env.options);
  const out = new Map<string, SourceRun>();
  const missing: Array<{ row: RowSpec; seed: number; dir: string }> = [];
  const mainKey = presetKey('main', o.tag);
  for (const row of rows) {
    if (!row.weightsOf) continue;
    const src = PRESETS.main.find((r) => r.name === row.weightsOf)!;
    for (const seed of o.seeds) {
      const key = sourceKey(src.name, seed);
      if (out.has(key) || missing.some((m) => sourceKey(m.row.name, m.seed) === key)) continue;
      const dir = join(o.runsDir, `${env}-${mainKey}`, `${src.name}-s${seed}`);
      const cfg = rowConfig(src, rowContext(o, seed, base.dir, dir));
      const file = join(dir, 'result.json');
      if (existsSync(file)) {
        checkSameConfig(
          dir,
          cfg,
          `preset ${o.preset} evaluates main's runs as main would make them here: ` +
            'give the same --trajectories, --curve-tasks, --curve-points, --config and --set as that main run',
        );
        const result = JSON.parse(readFileSync(file, 'utf8')) as SeedResult;
        out.set(key, { dir: result.reusedFrom ?? dir, result });
        continue;
      }
      const reuse = findReusableRun({ ...o, preset: 'main' }, env, cfg, seed, src.name);
      if (reuse) out.set(key, { dir: reuse.reusedFrom!, result: reuse });
      else missing.push({ row: src, seed, dir });
    }
  }
  if (missing.length > 0 && !o.trainMissing) {
    const rowNames = [...new Set(missing.map((m) => m.row.name))].join(',');
    const seeds = [...new Set(missing.map((m) => m.seed))].join(',');
    throw new LamerError(
      'RL_ERR_CONFIG',
      `preset ${o.preset} evaluates the trained runs of preset ${mainKey}, and these are missing (no result.json): ` +
        `${missing.map((m) => m.dir).join(', ')}; run \`lamer experiment --preset main` +
        `${o.tag ? ` --tag ${o.tag}` : ''} --rows ${rowNames} --seed-list ${seeds}\` with the same settings ` +
        'first, or add --train-missing to train them here',
    );
  }
  for (const m of missing) {
    o.log(`  main/${m.row.name} seed ${m.seed}: not found; training it in ${m.dir} (as --preset main would)`);
    mkdirSync(m.dir, { recursive: true });
    const result = await runSeed(m.row, m.seed, o, base, m.dir);
    writeJsonAtomic(join(m.dir, 'result.json'), result);
    out.set(sourceKey(m.row.name, m.seed), { dir: m.dir, result });
  }
  for (const [key, s] of out) o.log(`  ${key}: evaluating the final weights of ${s.dir} (v${s.result.iterations})`);
  return out;
}

/** Why no preset has a `react` row (the `--rows react` error; the table says it in preset main's note). */
export const NO_REACT =
  "there is no react row: the embedded model's compact template ends its play prompt in <action>, so a reply " +
  "cannot carry a thought before the action and a react row would equal zeroshot (see preset main's note)";

export async function runExperiment(o: ExperimentOptions): Promise<ExperimentOutcome> {
  const started = new Date();
  const all = presetRows(o.preset, o.envId);
  const unknown = (o.rows ?? []).filter((n) => !all.some((r) => r.name === n));
  if (unknown.length > 0)
    throw new LamerError(
      'RL_ERR_CONFIG',
      `--rows: preset ${o.preset} has no row(s) ${unknown.join(', ')}; its rows: ${all.map((r) => r.name).join(', ')}` +
        (unknown.includes('react') ? `; ${NO_REACT}` : ''),
    );
  const rows = o.rows ? all.filter((r) => o.rows!.includes(r.name)) : all;
  const env = envKey(o.envId);
  const key = presetKey(o.preset, o.tag);
  const presetDir = join(o.runsDir, `${env}-${key}`);
  mkdirSync(presetDir, { recursive: true });

  // ---- the one base model ----------------------------------------------------------------------------------
  const baseCfg = resolveConfig(...envLayers(o.envId), ...o.layers, {
    env: { id: o.envId },
    run: { seed: o.baseSeed, evalSeed: o.evalSeed },
  });
  const report = await runPretrain(baseCfg, { log: o.log });
  const m = loadModelDir(report.dir);
  const base = { dir: report.dir, model: { config: m.config, params: m.params, tokenizer: m.tokenizer! } };
  o.log(
    `experiment ${env}/${key}: base model ${report.dir}${report.cached ? ' (cached)' : ''}; ${rows.length} ` +
      `rows x ${o.seeds.length} seeds, ${o.trajectories} episodes per trained row`,
  );

  // ---- harder: the trained runs of main whose weights are evaluated ------------------------------------------
  const sources = await sourceRuns(o, rows, env, base);

  // ---- rows × seeds ---------------------------------------------------------------------------------------
  const perRow = new Map<string, SeedResult[]>();
  const iterationsOf = new Map<string, number>();
  for (const row of rows) {
    for (const seed of o.seeds) {
      const dir = join(presetDir, `${row.name}-s${seed}`);
      const file = join(dir, 'result.json');
      let res: SeedResult;
      const cfg = rowEvalConfig(row, rowConfig(row, rowContext(o, seed, base.dir, dir)));
      if (existsSync(file)) {
        // A finished row is reused only if it ran this very configuration (else the table would mix setups).
        checkSameConfig(dir, cfg, 'use --tag NAME (or another --runs-dir) for a variant');
        res = JSON.parse(readFileSync(file, 'utf8')) as SeedResult;
        const src = row.weightsOf ? sources.get(sourceKey(row.weightsOf, seed)) : undefined;
        if (src && (res.weightsFrom !== src.dir || res.weightsVersion !== src.result.iterations))
          throw new LamerError(
            'RL_ERR_CONFIG',
            `${file} evaluated ${res.weightsFrom} v${res.weightsVersion}, but the run it stands for is now ` +
              `${src.dir} v${src.result.iterations}; delete ${dir} to evaluate the current weights`,
          );
        if (res.trained && res.episodesTrained === undefined && !res.reusedFrom)
          res.episodesTrained = episodesTrained(dir) ?? undefined;
        o.log(`  ${row.name} seed ${seed}: done earlier (${file})`);
      } else {
        o.log(`  ${row.name} seed ${seed}: ${row.train ? 'training' : 'evaluating the base model'} in ${dir}`);
        mkdirSync(dir, { recursive: true });
        const reuse = row.train ? findReusableRun(o, env, cfg, seed, row.name) : null;
        if (reuse)
          o.log(`  ${row.name} seed ${seed}: identical to the finished run ${reuse.reusedFrom}; reusing its result`);
        const src = row.weightsOf ? sources.get(sourceKey(row.weightsOf, seed)) : undefined;
        res = reuse ?? (await runSeed(row, seed, o, base, dir, src));
        writeJsonAtomic(file, res);
      }
      const shown = [res.pass[0], res.pass[2], res.pass[res.pass.length - 1]];
      o.log(
        `  ${row.name} seed ${seed}: pass@1/3/${o.attempts} ` +
          `${shown.map((p) => (100 * (p ?? NaN)).toFixed(1)).join('/')}%, ` +
          `diversity ${res.diversity.toFixed(3)}, ${res.minutes.toFixed(1)} min`,
      );
      if (res.pass.length !== o.attempts)
        throw new LamerError(
          'RL_ERR_CONFIG',
          `${file} was evaluated with ${res.pass.length} attempts, this invocation ` +
            `asks for ${o.attempts}; use another --runs-dir or the same --attempts`,
        );
      perRow.set(row.name, [...(perRow.get(row.name) ?? []), res]);
      iterationsOf.set(row.name, res.iterations);
    }
  }

  // ---- aggregate, merge, plot, report -----------------------------------------------------------------------
  const table: Record<string, RowResult> = {};
  const methods: Array<{ row: string; method: ReturnType<typeof rowResult>['method'] }> = [];
  for (const row of rows) {
    const { method: m2, ...r } = rowResult(perRow.get(row.name)!, o.evalTasks);
    table[row.name] = r;
    methods.push({ row: row.name, method: m2 });
  }
  const method = describeCiMethods(methods);
  const resultsPath = join(o.docsDir, 'results.json');
  const runsPath = join(o.docsDir, 'results.runs.json');
  mkdirSync(o.docsDir, { recursive: true });
  const prevProv = readJsonIfExists(runsPath) as ProvenanceFile | undefined;
  const prev = prevProv?.[env]?.[key];
  // A resumed preset keeps the commands and time of earlier invocations that produced rows still in use.
  const sameSetup =
    prev !== undefined &&
    continuesPreset(prev, {
      trajectories: o.trajectories,
      evalTasks: o.evalTasks,
      attempts: o.attempts,
      evalSeed: o.evalSeed,
      baseModelDir: report.dir,
      layers: o.layers,
    });
  const wallMinutes = (Date.now() - started.getTime()) / 60_000 + (sameSetup ? prev.wallMinutes : 0);
  const provenance: PresetProvenance = {
    commands: [...new Set([...(sameSetup ? prev.commands : []), o.command])],
    startedAt: sameSetup ? prev.startedAt : started.toISOString(),
    finishedAt: new Date().toISOString(),
    wallMinutes: Math.round(wallMinutes * 100) / 100,
    seeds: o.seeds,
    trajectories: o.trajectories,
    evalTasks: o.evalTasks,
    attempts: o.attempts,
    evalSeed: o.evalSeed,
    ciMethod: method,
    baseModel: { dir: report.dir, pass: report.basePass },
    settings: {
      layers: o.layers,
      curveTasks: o.curveTasks,
      curvePoints: o.curvePoints,
      baseSeed: o.baseSeed,
      diversityTasks: o.diversityTasks,
      diversitySamples: o.diversitySamples,
    },
    rows: Object.fromEntries(
      rows.map((r) => [
        r.name,
        {
          description: r.description,
          trained: r.train,
          iterations: iterationsOf.get(r.name) ?? 0,
          perSeed: perRow.get(r.name)!,
        },
      ]),
    ),
  };
  writeJsonAtomic(resultsPath, mergeResults(readJsonIfExists(resultsPath), env, key, table));
  writeJsonAtomic(runsPath, mergeProvenance(prevProv, env, key, provenance));
  const plots = writeExperimentPlots(o.docsDir, env, key, provenance);
  const md = writeResultsReport(o.docsDir);
  return { env, preset: key, rows: table, provenance, files: [resultsPath, runsPath, ...plots, md] };
}
