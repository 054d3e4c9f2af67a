/**
 * The one evaluation definition: which validation tasks, how many, how many attempts, and how they are sampled.
 * The pretrain report, the learner's in-training evaluations (through the actors) and `lamer eval` all read it, so
 * one model gets one score wherever it is measured, and every printed score names the definition it was measured
 * under.
 *
 * Sampling seeds of evaluation trials depend only on the task and the call index (not on the policy version, the
 * run seed, the group id or the batch a request lands in): evaluations of different versions share their random
 * numbers, which also makes version-to-version differences less noisy.
 */
import type { Config } from './config.js';
import { deriveSeed } from './rng.js';

/** Fixed root of evaluation sampling streams; `evalSampleSeed` and the local evaluators' `seed` both use it. */
export const EVAL_SAMPLING_SEED = deriveSeed('lamer-eval-sampling-v1');

export interface EvalDefinition {
  /** Short stable name, e.g. `minesweeper-val-s1`: environment, task list seed. */
  name: string;
  envId: string;
  /** Seed of the fixed validation task list (`run.evalSeed`, or `run.seed` when that is 0). */
  listSeed: number;
  tasks: number;
  attempts: number;
  temperature: number;
  topP: number;
}

export function evalDefinition(cfg: Pick<Config, 'env' | 'run' | 'sampling'>): EvalDefinition {
  const listSeed = cfg.run.evalSeed || cfg.run.seed;
  const env = cfg.env.id
    .replace(/^.*\//, '')
    .replace(/-v\d+$/, '')
    .toLowerCase();
  return {
    name: `${env}-val-s${listSeed}`,
    envId: cfg.env.id,
    listSeed,
    tasks: cfg.run.evalTasks,
    attempts: cfg.run.evalAttempts,
    temperature: cfg.sampling.evalTemperature,
    topP: cfg.sampling.evalTopP,
  };
}

/** The line printed next to every score: `minesweeper-val-s1: 64 tasks x 3 attempts, T 0.7, top-p 0.8`. */
export function describeEval(d: EvalDefinition): string {
  return `${d.name}: ${d.tasks} tasks x ${d.attempts} attempts, T ${d.temperature}, top-p ${d.topP}`;
}

/** Seed of the `call`-th policy call of the evaluation trial on `taskSeed` (the same on every backend and path). */
export function evalSampleSeed(taskSeed: number, call: number): number {
  return deriveSeed(EVAL_SAMPLING_SEED, taskSeed, call);
}
