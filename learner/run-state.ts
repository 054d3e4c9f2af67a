/**
 * Where a learner process starts from: the newest valid checkpoint (weights, optimizer, durable state), or a
 * fresh model. Also owns the two small run files: `run-id` (stable across restarts) and `learner-epoch` (a
 * durable counter that grows on every start, see below).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Config } from '../shared/config.js';
import { LamerError } from '../shared/errors.js';
import { atomicWrite } from '../shared/fsutil.js';
import type { Logger } from '../shared/logger.js';
import type { AdamWState } from '../shared/model/adamw.js';
import { parseModel } from '../shared/model/checkpoint-files.js';
import { type ModelConfig, modelConfigOf } from '../shared/model/config.js';
import { buildManifest, initParams, withValueHead } from '../shared/model/manifest.js';
import { ESTIMATORS } from '../shared/rl/estimators/index.js';
import { WordTokenizer } from '../shared/model/tokenizer.js';
import type { RunDir } from '../shared/run-dir.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { ledgerLockHolder } from './ledger.js';
import type { TaskBookState } from './task-book.js';

export interface EvalResult {
  version: number;
  pass: number[];
  diversity: number;
  tasks: number;
  wall: number;
}

/** The learner's durable state, saved in every checkpoint as `learner.json`. */
export interface LearnerState {
  runId: string;
  policyVersion: number;
  learnerEpoch: number;
  taskBook: TaskBookState;
  ledgerOffset: number;
  counters: {
    trialsCommitted: number;
    trialsTrained: number;
    surplus: number;
    rowsDroppedStale: number;
    /** Trained episodes (trajectories), env steps and generated tokens; absent in checkpoints of older versions. */
    episodesTrained?: number;
    envStepsTrained?: number;
    tokensTrained?: number;
  };
  evals: EvalResult[];
  /** Training wall seconds of all earlier invocations up to this checkpoint; absent in older checkpoints. */
  trainSeconds?: number;
}

/** Where a resumed learner continues from (for the "resuming run X from vN" line). */
export interface ResumeInfo {
  version: number;
  checkpoint: string;
  /** Training minutes the run directory had used before this invocation (run.minutes is a total). */
  minutesUsed: number;
}

export const STATE_FILE = 'learner.json';

export interface StartingPoint {
  state: LearnerState;
  modelConfig: ModelConfig;
  params: Float32Array;
  tokenizer: WordTokenizer;
  optimizerState?: AdamWState;
  /** Seconds, version and trials the run had before this invocation (budgets and rates are totals). */
  prior: { seconds: number; version: number; trials: number };
  /** Non-null when this start continues from a checkpoint. */
  resumedFrom: ResumeInfo | null;
}

export interface StartOptions {
  config: Config;
  runDir: RunDir;
  logger: Logger;
  store: CheckpointStore;
  vocabulary: readonly string[];
  initModel?: { params: Float32Array; config: ModelConfig; tokenizer?: WordTokenizer };
}

/** Loads the newest valid checkpoint (corrupt ones are skipped with a warning) or builds a fresh start. */
export async function resumeOrStart(o: StartOptions): Promise<StartingPoint> {
  const { config: cfg, runDir, logger, store } = o;
  if (cfg.run.fresh) {
    setAsideForFresh(runDir, logger); // first: it refuses while another learner uses this run directory
    await store.clear();
  }
  const loaded = await store.loadLatest();
  // learnerEpoch must grow on EVERY start, also when two starts resume from the same checkpoint: the process in
  // between may have published newer versions before it died, and actors keep a same-epoch policy whose version
  // is higher (a dead timeline's weights). So the last started epoch is kept in its own durable file.
  const epochFile = runDir.file('learner-epoch');
  const lastEpoch = existsSync(epochFile) ? Number.parseInt(readFileSync(epochFile, 'utf8'), 10) : -1;
  if (!Number.isInteger(lastEpoch) || lastEpoch < -1)
    throw new LamerError('RL_ERR_CHECKPOINT', `${epochFile} does not hold an epoch number`);
  for (const s of loaded?.skipped ?? [])
    logger.warn(
      { checkpoint: s.dir, reason: s.reason },
      'skipped a corrupt checkpoint, falling back to the previous one',
    );
  let start: StartingPoint;
  if (loaded) {
    const model = parseModel(loaded.files);
    const saved = JSON.parse(Buffer.from(loaded.files.get(STATE_FILE)!).toString('utf8')) as LearnerState;
    const prior = {
      seconds: saved.trainSeconds ?? 0,
      version: saved.policyVersion,
      trials: saved.counters.trialsTrained,
    };
    start = {
      modelConfig: model.config,
      params: model.params,
      tokenizer: model.tokenizer!,
      optimizerState: model.optimizer,
      state: { ...saved, learnerEpoch: Math.max(saved.learnerEpoch, lastEpoch) + 1 },
      prior,
      resumedFrom: { version: saved.policyVersion, checkpoint: basename(loaded.dir), minutesUsed: prior.seconds / 60 },
    };
    logger.info(
      {
        checkpoint: loaded.dir,
        policyVersion: saved.policyVersion,
        learnerEpoch: start.state.learnerEpoch,
        optimizerStep: model.optimizer?.step ?? null,
      },
      'resumed from checkpoint',
    );
  } else {
    const tokenizer = o.initModel?.tokenizer ?? new WordTokenizer([...o.vocabulary]);
    const modelConfig = o.initModel?.config ?? modelConfigOf(cfg.model, tokenizer.vocabSize);
    const params = o.initModel?.params ?? initParams(buildManifest(modelConfig), cfg.run.seed);
    const runIdFile = runDir.file('run-id');
    const runId = existsSync(runIdFile)
      ? readFileSync(runIdFile, 'utf8').trim()
      : `run-${randomBytes(6).toString('hex')}`;
    writeFileSync(runIdFile, runId + '\n');
    start = {
      modelConfig,
      params,
      tokenizer,
      prior: { seconds: 0, version: 0, trials: 0 },
      resumedFrom: null,
      state: {
        runId,
        policyVersion: 0,
        learnerEpoch: lastEpoch + 1,
        taskBook: { nextIndex: 0, nextLease: 0, groups: [], trainedGroups: 0 },
        ledgerOffset: 0,
        counters: { trialsCommitted: 0, trialsTrained: 0, surplus: 0, rowsDroppedStale: 0 },
        evals: [],
      },
    };
  }
  await atomicWrite(epochFile, `${start.state.learnerEpoch}\n`);
  return withCritic(start, cfg, logger);
}

/**
 * An estimator with a critic (ppo) needs the value head; a model saved without one (every checkpoint and base
 * model from before, or a run switched to ppo) gets a zero head, so the critic starts by predicting 0.
 */
function withCritic(start: StartingPoint, cfg: Config, logger: Logger): StartingPoint {
  if (!ESTIMATORS[cfg.algo.estimator].critic) return start;
  const r = withValueHead(start.modelConfig, start.params, start.optimizerState);
  if (!r.added) return start;
  logger.info(
    { estimator: cfg.algo.estimator, resumed: start.resumedFrom !== null },
    'the model has no value head: initialised a zero value head for the critic',
  );
  return { ...start, modelConfig: r.config, params: r.params, optimizerState: r.optimizer };
}

/**
 * `--fresh` starts a new history: the ledger and the quarantine are moved aside to `<name>.pre-fresh-<epoch>-<ms>`
 * (kept for inspection, never read again), then the caller deletes the checkpoints. Kept: the run id (actors keep
 * their configuration), the learner-epoch counter (it must only grow: actors may hold weights of the old
 * history) and metrics.csv (appended to).
 */
function setAsideForFresh(runDir: RunDir, logger: Logger): void {
  const holder = ledgerLockHolder(runDir.file('ledger'));
  if (holder !== null)
    throw new LamerError('RL_ERR_INTERNAL', `--fresh: the ledger of ${runDir.path} is in use by process ${holder}`);
  const epochFile = runDir.file('learner-epoch');
  const tag = existsSync(epochFile) ? readFileSync(epochFile, 'utf8').trim() : 'none';
  for (const name of ['ledger', 'quarantine']) {
    const from = runDir.file(name);
    if (!existsSync(from)) continue;
    const to = runDir.file(`${name}.pre-fresh-${tag}-${Date.now()}`);
    renameSync(from, to);
    logger.info({ from, to }, '--fresh: moved aside');
  }
}
