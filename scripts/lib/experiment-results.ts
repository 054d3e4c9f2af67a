/**
 * docs/results.json (the exact shape: env → preset → row → {pass, ci95, diversity, minutes}) and its
 * provenance file docs/results.runs.json (commands, times, budgets, per-seed numbers, learning curves), both
 * merged one env/preset at a time so presets run on different days accumulate in one place.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { badInput } from '../../shared/errors.js';

/** pass@k on a subset of the validation tasks (ALFWorld: one task type, or the in/out-of-distribution split). */
export interface GroupResult {
  /** Validation tasks in the subset (per seed; every seed evaluates the same list). */
  tasks: number;
  pass: number[];
  ci95: Array<[number, number]>;
}

/** One row of docs/results.json. Rates are fractions in [0, 1]; `pass[k-1]` is pass@k. */
export interface RowResult {
  pass: number[];
  ci95: Array<[number, number]>;
  /** Trajectory-diversity entropy (nats) over the episodes of each trial, mean over seeds. */
  diversity: number;
  /**
   * The paper's trajectory diversity (nats): entropy over K independent first episodes of each task, mean over seeds.
   */
  diversityK?: number;
  /**
   * Retries, mean over seeds: `winAfterLoss[k − 2]` = P(attempt k won | attempts 1..k−1 lost); `fatalRepeat` = share of
   * later attempts that repeat what killed an earlier one (MineSweeper: open its mine cell; Sokoban: reach its
   * dead-locked state). null where no trial qualified.
   */
  retry?: { winAfterLoss: Array<number | null>; fatalRepeat: number | null };
  /** Wall-clock minutes of one run of the row (training + final evaluation), mean over seeds. */
  minutes: number;
  /** ALFWorld: pass@k on the in-distribution types (Pick, Look, Clean, Heat) and out-of-distribution (Cool, Pick2). */
  id?: GroupResult;
  ood?: GroupResult;
  /** ALFWorld: pass@k per task type, by the paper's short names (Pick, Look, Clean, Heat, Cool, Pick2). */
  byType?: Record<string, GroupResult>;
  /**
   * WebShop: `mean[k-1]` = mean over tasks of the best purchase score within the first k episodes (0 when nothing
   * was bought); the success rate is `pass` (a purchase scoring 1).
   */
  score?: { mean: number[]; ci95: Array<[number, number]> };
}

export type ResultsFile = Record<string, Record<string, Record<string, RowResult>>>;

/** What one (row, seed) run produced; stored as result.json in its run directory. */
export interface SeedResult {
  row: string;
  seed: number;
  trained: boolean;
  pass: number[];
  diversity: number;
  /** The paper's diversity over `diversitySamples` independent first episodes of each of `diversityTasks` tasks. */
  diversityK?: number;
  diversitySamples?: number;
  diversityTasks?: number;
  /** Retry statistics of the final evaluation (shared/rl/metrics.ts `retryStats`), with their denominators. */
  retry?: {
    winAfterLoss: Array<number | null>;
    fatalRepeat: number | null;
    reachedAfterLoss: number[];
    fatalRepeatOf: number;
  };
  minutes: number;
  trainMinutes: number;
  evalSeconds: number;
  iterations: number;
  /** Nominal episodes trained (iterations × episodes per update). */
  trajectories: number;
  trialsTrained: number;
  /** Episodes actually trained (≤ `trajectories`: a won Meta-RL trial stops early); from metrics.csv. */
  episodesTrained?: number;
  /** Learner evaluations during training (N = 3, curve tasks): version → pass@1..3. */
  curve: Array<{ version: number; trajectories: number; pass: number[] }>;
  /** Validation tasks of the final evaluation. */
  evalTasks: number;
  finishedAt: string;
  /** Set when an identical run (same resolved config and evaluation) of another preset was reused. */
  reusedFrom?: string;
  /**
   * Preset `harder`: the run directory whose final weights were evaluated (nothing trained here) and their policy
   * version; `iterations`, `trajectories` and `trialsTrained` then describe that run's training.
   */
  weightsFrom?: string;
  weightsVersion?: number;
  /** ALFWorld: pass@k per task type (Pick, ..., Pick2) and split (`id`, `ood`) of the final evaluation. */
  groups?: Record<string, { tasks: number; pass: number[] }>;
  /** WebShop: best purchase score within the first k episodes, mean over tasks, with its t-interval over tasks. */
  score?: number[];
  scoreCi95?: Array<[number, number]>;
}

/** Provenance of one env/preset in docs/results.runs.json. */
export interface PresetProvenance {
  commands: string[];
  startedAt: string;
  finishedAt: string;
  /** Wall-clock minutes of the invocations that produced the rows (a resumed preset adds them up). */
  wallMinutes: number;
  seeds: number[];
  trajectories: number;
  evalTasks: number;
  attempts: number;
  evalSeed: number;
  /** How the table's intervals were made (experiment-stats.ts `describeCiMethods`: per row where rows differ). */
  ciMethod: string;
  baseModel: { dir: string; pass: number[] };
  settings: Record<string, unknown>;
  rows: Record<string, { description: string; trained: boolean; iterations: number; perSeed: SeedResult[] }>;
}

export type ProvenanceFile = Record<string, Record<string, PresetProvenance>>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A list of rates in [0, 1] (`name`, pass@k or score@k) and one [lo, hi] pair per entry. */
function checkCurve(where: string, pass: unknown, ci95: unknown, name = 'pass'): void {
  if (!Array.isArray(pass) || pass.length === 0 || pass.some((p) => typeof p !== 'number' || !(p >= 0 && p <= 1)))
    throw badInput(`${where}.${name}: expected a non-empty list of rates in [0, 1]`);
  if (
    !Array.isArray(ci95) ||
    ci95.length !== pass.length ||
    ci95.some((c) => !Array.isArray(c) || c.length !== 2 || c.some((x) => typeof x !== 'number'))
  ) {
    throw badInput(`${where}.ci95: expected one [lo, hi] pair per ${name}@k`);
  }
}

function checkRow(where: string, r: unknown): asserts r is RowResult {
  if (!isObject(r)) throw badInput(`${where}: expected an object`);
  const { pass, ci95, diversity, minutes } = r;
  checkCurve(where, pass, ci95);
  if (typeof diversity !== 'number' || !Number.isFinite(diversity))
    throw badInput(`${where}.diversity: expected a number`);
  if (typeof minutes !== 'number' || !(minutes >= 0)) throw badInput(`${where}.minutes: expected a number >= 0`);
  const rate = (x: unknown) => x === null || (typeof x === 'number' && x >= 0 && x <= 1);
  if (r.diversityK !== undefined && (typeof r.diversityK !== 'number' || !Number.isFinite(r.diversityK)))
    throw badInput(`${where}.diversityK: expected a number`);
  const group = (g: unknown, at: string) => {
    if (!isObject(g)) throw badInput(`${at}: expected {tasks, pass, ci95}`);
    if (typeof g.tasks !== 'number' || !Number.isInteger(g.tasks) || g.tasks < 0)
      throw badInput(`${at}.tasks: expected an integer >= 0`);
    checkCurve(at, g.pass, g.ci95);
  };
  if (r.id !== undefined) group(r.id, `${where}.id`);
  if (r.ood !== undefined) group(r.ood, `${where}.ood`);
  if (r.byType !== undefined) {
    if (!isObject(r.byType)) throw badInput(`${where}.byType: expected an object of task types`);
    for (const [t, g] of Object.entries(r.byType)) group(g, `${where}.byType.${t}`);
  }
  if (r.score !== undefined) {
    if (!isObject(r.score)) throw badInput(`${where}.score: expected {mean, ci95}`);
    checkCurve(`${where}.score`, r.score.mean, r.score.ci95, 'mean');
  }
  if (r.retry !== undefined) {
    const t = r.retry as Record<string, unknown>;
    if (!isObject(t) || !Array.isArray(t.winAfterLoss) || !t.winAfterLoss.every(rate))
      throw badInput(`${where}.retry.winAfterLoss: expected a list of rates in [0, 1] or null`);
    if (!rate(t.fatalRepeat)) throw badInput(`${where}.retry.fatalRepeat: expected a rate in [0, 1] or null`);
  }
}

/** Checks the shape; errors name the first offending path. */
export function validateResults(doc: unknown, what = 'results.json'): ResultsFile {
  if (!isObject(doc)) throw badInput(`${what}: expected {"<env>": {"<preset>": {"<row>": {...}}}}`);
  for (const [env, presets] of Object.entries(doc)) {
    if (!isObject(presets)) throw badInput(`${what}: ${env}: expected an object of presets`);
    for (const [preset, rows] of Object.entries(presets)) {
      if (!isObject(rows)) throw badInput(`${what}: ${env}.${preset}: expected an object of rows`);
      for (const [row, r] of Object.entries(rows)) checkRow(`${what}: ${env}.${preset}.${row}`, r);
    }
  }
  return doc as ResultsFile;
}

/**
 * Returns `existing` with `env.preset` replaced by `rows` (other envs and presets untouched). Rows keep the
 * preset's order. Throws if `existing` is not in the shape.
 */
export function mergeResults(
  existing: unknown,
  env: string,
  preset: string,
  rows: Record<string, RowResult>,
): ResultsFile {
  const base = existing === undefined ? {} : validateResults(structuredClone(existing));
  for (const [row, r] of Object.entries(rows)) checkRow(`${env}.${preset}.${row}`, r);
  return { ...base, [env]: { ...(base[env] ?? {}), [preset]: rows } };
}

/**
 * Whether an invocation continues the preset recorded in `prev` (so its earlier commands and wall time still
 * describe rows in use): same budget, evaluation, base model and config layers. A new base model or a changed
 * layer starts a fresh record even though the preset name is the same.
 */
export function continuesPreset(
  prev: Pick<PresetProvenance, 'trajectories' | 'evalTasks' | 'attempts' | 'evalSeed' | 'baseModel' | 'settings'>,
  now: {
    trajectories: number;
    evalTasks: number;
    attempts: number;
    evalSeed: number;
    baseModelDir: string;
    layers: unknown;
  },
): boolean {
  return (
    prev.trajectories === now.trajectories &&
    prev.evalTasks === now.evalTasks &&
    prev.attempts === now.attempts &&
    prev.evalSeed === now.evalSeed &&
    prev.baseModel?.dir === now.baseModelDir &&
    JSON.stringify(prev.settings?.layers ?? []) === JSON.stringify(now.layers ?? [])
  );
}

/** Same merge for the provenance file (no shape check beyond objects). */
export function mergeProvenance(existing: unknown, env: string, preset: string, p: PresetProvenance): ProvenanceFile {
  const base = (isObject(existing) ? structuredClone(existing) : {}) as ProvenanceFile;
  return { ...base, [env]: { ...(base[env] ?? {}), [preset]: p } };
}

/** Reads a JSON document if the file exists (undefined otherwise); a broken file is an error naming it. */
export function readJsonIfExists(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw badInput(`'${path}' is not valid JSON: ${(e as Error).message}`);
  }
}

/** Writes JSON via a temporary file and rename, so a crash never leaves half a results file. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}
