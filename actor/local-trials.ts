/**
 * Trials run in this process, without a learner: evaluation of a checkpoint (`lamer eval`), the base model's
 * evaluation after pretraining, and scripted demonstrations for behaviour cloning. Same trial runner, prompts and
 * batching as the actors, so the numbers mean the same thing.
 */
import { Batcher, type Generator } from './batcher.js';
import { buildPrompt, COMPACT_STOP, parseReflection } from './envs/prompt.js';
import { makeEnv } from './envs/registry.js';
import { scriptedAction, templateReflection } from './envs/scripted.js';
import type { EpisodeLog, MemoryMode, PromptContext, Template } from './envs/types.js';
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

/** One trial on a shared batcher (the caller owns the batcher, so many trials share its decode calls). */
export async function runModelTrial(s: TrialSettings, taskSeed: number, tok: TokenizerWithIds, batcher: Batcher, sampling: LocalSampling): Promise<TrialResult> {
  const env = makeEnv(s.envId, { ...s.envOptions, template: s.template });
  let call = 0;
  batcher.trialStarted();
  try {
    return await runTrial({ ...s, taskSeed }, {
      env, tokenizer: tok, stopTokens: stopTokens(tok),
      buildPrompt: (ctx) => buildPrompt(env, ctx),
      parseReflection: (text) => parseReflection(s.envId, s.template, text),
      generate: (req) => batcher.generate({
        prompt: req.prompt, maxTokens: req.maxTokens, stop: req.stop, temperature: sampling.temperature, topP: sampling.topP,
        seed: deriveSeed(sampling.seed, taskSeed, call++),
      }),
    });
  } finally {
    batcher.trialFinished();
    env.close();
  }
}

/** Runs one trial per seed with a model behind `generator`, all trials sharing batched decode calls. */
export async function runModelTrials(
  s: TrialSettings, seeds: number[], tok: TokenizerWithIds, generator: Generator,
  sampling: LocalSampling & { maxBatch: number; concurrency: number },
): Promise<TrialResult[]> {
  const batcher = new Batcher(generator, { maxBatch: sampling.maxBatch, concurrency: sampling.concurrency, lockstep: false });
  return Promise.all(seeds.map((taskSeed) => runModelTrial(s, taskSeed, tok, batcher, sampling)));
}

/** Words of a compact MineSweeper reflection that name a fatal cell: `mine r c`. */
function fatalActions(past: EpisodeLog[]): Set<string> {
  const out = new Set<string>();
  for (const e of past) {
    const w = (e.reflection ?? '').split(/\s+/);
    for (let i = 0; i + 2 < w.length; i++) if (w[i] === 'mine') out.add(`${w[i + 1]} ${w[i + 2]}`);
  }
  return out;
}

/**
 * One scripted demonstration trial: a solver mixed with noise plays, template reflections are written between
 * episodes, and the demonstrator heeds its own memory (it never repeats an action a reflection flagged as fatal),
 * so a model cloned from it learns to read its memory. Responses are returned as token ids.
 */
export async function runDemoTrial(s: TrialSettings, taskSeed: number, tok: TokenizerWithIds, opts: { noise: number; seed: number }): Promise<TrialResult> {
  const env = makeEnv(s.envId, { ...s.envOptions, template: s.template });
  const rng = createRng(deriveSeed(opts.seed, taskSeed));
  let ctx: PromptContext | null = null;
  const respond = (phase: 'play' | 'reflect'): string => {
    if (phase === 'reflect') return templateReflection(env, s.template, ctx!.initialObs, ctx!.current);
    const avoid = fatalActions(ctx!.past);
    let text = scriptedAction(env, s.template, rng, { noise: opts.noise });
    for (let i = 0; i < 20 && avoid.has(text.replace(/\s*<\/action>\s*$/, '')); i++) text = scriptedAction(env, s.template, rng, { noise: 1 });
    return text;
  };
  try {
    return await runTrial({ ...s, taskSeed }, {
      env, tokenizer: tok, stopTokens: stopTokens(tok),
      buildPrompt: (c) => {
        ctx = c;
        return buildPrompt(env, c);
      },
      parseReflection: (text) => parseReflection(s.envId, s.template, text),
      generate: async (req): Promise<GenerationResult> => {
        const tokens = tok.encode(respond(req.phase));
        return { tokens, logprobs: tokens.map(() => 0), policyVersion: 0 };
      },
    });
  } finally {
    env.close();
  }
}
