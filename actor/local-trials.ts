/**
 * Trials run in this process, without a learner: evaluation of a checkpoint (`lamer eval`), the base model's
 * evaluation after pretraining, and scripted demonstrations for behaviour cloning. Same trial runner, prompts and
 * batching as the actors, so the numbers mean the same thing.
 */
import { Batcher, type Generator } from './batcher.js';
import { scriptedAction, templateReflection } from './envs/scripted.js';
import type { StepRecord } from './envs/retry.js';
import type { MemoryMode, PromptContext, Template, TextEnv } from './envs/types.js';
import { runTrialWith, batcherPolicy, trialDeps, type TokenizerWithIds } from './trial-deps.js';
import type { GenerationResult, TrialResult } from './trial.js';
import { createRng, deriveSeed } from '../shared/rng.js';

export interface TrialSettings {
  envId: string;
  envOptions: Record<string, unknown>;
  template: Template;
  memory: MemoryMode;
  attempts: number;
  maxTurns: number;
  reflect: boolean;
  nCtx: number;
  maxActionTokens: number;
  maxReflectTokens: number;
}

/** What a demonstration row teaches: the played (noisy) response, or the noise-free solver's action there. */
export type DemoLabels = 'played' | 'solver';

export interface LocalSampling {
  temperature: number;
  topP: number;
  seed: number;
}

/** A trial with the env steps it took (for the retry metrics, which need the states reached). */
export interface LocalTrialResult extends TrialResult {
  steps: StepRecord[];
}

/** One trial on a shared batcher (the caller owns the batcher, so many trials share its decode calls). */
export async function runModelTrial(
  s: TrialSettings,
  taskSeed: number,
  tok: TokenizerWithIds,
  batcher: Batcher,
  sampling: LocalSampling,
): Promise<LocalTrialResult> {
  const steps: StepRecord[] = [];
  let call = 0;
  const seed = () => deriveSeed(sampling.seed, taskSeed, call++);
  const spec = { ...s, taskSeed };
  const deps = trialDeps(spec, {
    envOptions: s.envOptions,
    steps,
    policy: batcherPolicy(batcher, tok, sampling, seed),
  });
  return { ...(await runTrialWith(spec, deps, batcher)), steps };
}

/** Runs one trial per seed with a model behind `generator`, all trials sharing batched decode calls. */
export async function runModelTrials(
  s: TrialSettings,
  seeds: number[],
  tok: TokenizerWithIds,
  generator: Generator,
  sampling: LocalSampling & { maxBatch: number; concurrency: number },
): Promise<LocalTrialResult[]> {
  const batcher = new Batcher(generator, {
    maxBatch: sampling.maxBatch,
    concurrency: sampling.concurrency,
    lockstep: false,
  });
  return Promise.all(seeds.map((taskSeed) => runModelTrial(s, taskSeed, tok, batcher, sampling)));
}

/**
 * One scripted demonstration trial: a solver mixed with noise plays, reflections in the template grammar are written
 * between episodes (cut to fit `maxReflectTokens`, so each parses at inference too), and the demonstrator heeds its
 * own memory (remembered mines are known mines; a remembered Sokoban trap is not repeated). The noise of a turn is
 * drawn from a stream keyed by the board and the memory, not by the attempt: without memory a later attempt repeats
 * the earlier one, fatal click included, so only what the memory says changes the next attempt — which is what a
 * model cloned from it should learn. Responses are returned as token ids.
 *
 * `labels` holds, per row in order, what a cloned model should learn from that turn: the played response, or with
 * `labels: 'solver'` the noise-free, memory-aware solver's action at the same state (the noise then only chooses
 * which states are visited, as in DAgger, instead of teaching the model to click at random half the time).
 */
export async function runDemoTrial(
  s: TrialSettings,
  taskSeed: number,
  tok: TokenizerWithIds,
  opts: { noise: number; seed: number; labels?: DemoLabels },
): Promise<TrialResult & { labels: Int32Array[] }> {
  let ctx: PromptContext | null = null;
  const labels: Int32Array[] = [];
  const respond = (env: TextEnv, phase: 'play' | 'reflect'): { played: string; label: string } => {
    if (phase === 'reflect') {
      const r = templateReflection(env, s.template, ctx!.initialObs, ctx!.current, s.maxReflectTokens);
      return { played: r, label: r };
    }
    const memory = s.reflect && s.memory !== 'trajectory' ? ctx!.past.map((e) => e.reflection ?? '') : [];
    const rng = createRng(deriveSeed(opts.seed, taskSeed, env.render(), memory.join('|')));
    const played = scriptedAction(env, s.template, rng, { noise: opts.noise, memory });
    if (opts.labels !== 'solver') return { played, label: played };
    return { played, label: scriptedAction(env, s.template, rng, { noise: 0, memory }) };
  };
  const spec = { ...s, taskSeed };
  const deps = trialDeps(spec, {
    envOptions: s.envOptions,
    prompt: (build, c) => {
      ctx = c;
      return build(c);
    },
    policy: (env) => ({
      kind: 'tokens',
      tokenizer: tok,
      generate: async (req): Promise<GenerationResult> => {
        const { played, label } = respond(env, req.phase);
        const tokens = tok.encode(played);
        labels.push(Int32Array.from(tok.encode(label)));
        return { tokens, logprobs: tokens.map(() => 0), policyVersion: 0 };
      },
    }),
  });
  const result = await runTrialWith(spec, deps);
  // One row per policy call, in call order: the labels line up with the rows.
  if (result.rows.length !== labels.length)
    throw new Error(`demonstration: ${result.rows.length} rows but ${labels.length} policy calls`);
  return { ...result, labels };
}
