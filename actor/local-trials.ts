/**
 * Trials run in this process, without a learner: evaluation of a checkpoint (`lamer eval`), the base model's
 * evaluation after pretraining, and scripted demonstrations for behaviour cloning. Same trial runner, prompts and
 * batching as the actors, so the numbers mean the same thing.
 */
import { Batcher, type Generator } from './batcher.js';
import { buildPrompt, COMPACT_STOP, parseReflection } from './envs/prompt.js';
import { makeEnv } from './envs/registry.js';
import { scriptedAction, templateReflection } from './envs/scripted.js';
import type { StepRecord } from './envs/retry.js';
import type { MemoryMode, PromptContext, Template, TextEnv } from './envs/types.js';
import { runTrial, type GenerationResult, type TokenizerLike, type TrialResult } from './trial.js';
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

export interface TokenizerWithIds extends TokenizerLike {
  id(word: string): number;
}

/** Stop ids of the compact template: the closing tag word of each phase, or `<eos>`. */
export function stopTokens(tok: TokenizerWithIds): { play: number[]; reflect: number[] } {
  return { play: [tok.id(COMPACT_STOP.play), tok.eos], reflect: [tok.id(COMPACT_STOP.reflect), tok.eos] };
}

export interface LocalSampling {
  temperature: number;
  topP: number;
  seed: number;
}

/** A trial with the env steps it took (for the retry metrics, which need the states reached). */
export interface LocalTrialResult extends TrialResult {
  steps: StepRecord[];
}

/**
 * The same env with every step's observation and outcome also appended to `steps`. Patched in place (not wrapped) so
 * env-specific methods that prompt builders call (ALFWorld's and WebShop's admissible choices) stay available.
 */
export function recordingEnv<E extends TextEnv>(env: E, steps: StepRecord[]): E {
  const step = env.step.bind(env);
  env.step = (response: string) => {
    const r = step(response);
    steps.push({ obs: r.obs, terminated: r.terminated || r.truncated, won: r.info.won });
    return r;
  };
  return env;
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
  const env = recordingEnv(makeEnv(s.envId, { ...s.envOptions, template: s.template }), steps);
  let call = 0;
  batcher.trialStarted();
  try {
    const res = await runTrial(
      { ...s, taskSeed },
      {
        env,
        tokenizer: tok,
        stopTokens: stopTokens(tok),
        buildPrompt: (ctx) => buildPrompt(env, ctx),
        parseReflection: (text) => parseReflection(s.envId, s.template, text),
        generate: (req) =>
          batcher.generate({
            prompt: req.prompt,
            maxTokens: req.maxTokens,
            stop: req.stop,
            temperature: sampling.temperature,
            topP: sampling.topP,
            seed: deriveSeed(sampling.seed, taskSeed, call++),
          }),
      },
    );
    return { ...res, steps };
  } finally {
    batcher.trialFinished();
    env.close();
  }
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
 */
export async function runDemoTrial(
  s: TrialSettings,
  taskSeed: number,
  tok: TokenizerWithIds,
  opts: { noise: number; seed: number },
): Promise<TrialResult> {
  const env = makeEnv(s.envId, { ...s.envOptions, template: s.template });
  let ctx: PromptContext | null = null;
  const respond = (phase: 'play' | 'reflect'): string => {
    if (phase === 'reflect')
      return templateReflection(env, s.template, ctx!.initialObs, ctx!.current, s.maxReflectTokens);
    const memory = s.reflect && s.memory !== 'trajectory' ? ctx!.past.map((e) => e.reflection ?? '') : [];
    const rng = createRng(deriveSeed(opts.seed, taskSeed, env.render(), memory.join('|')));
    return scriptedAction(env, s.template, rng, { noise: opts.noise, memory });
  };
  try {
    return await runTrial(
      { ...s, taskSeed },
      {
        env,
        tokenizer: tok,
        stopTokens: stopTokens(tok),
        buildPrompt: (c) => {
          ctx = c;
          return buildPrompt(env, c);
        },
        parseReflection: (text) => parseReflection(s.envId, s.template, text),
        generate: async (req): Promise<GenerationResult> => {
          const tokens = tok.encode(respond(req.phase));
          return { tokens, logprobs: tokens.map(() => 0), policyVersion: 0 };
        },
      },
    );
  } finally {
    env.close();
  }
}
