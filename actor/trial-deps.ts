/**
 * How a trial is put together, for every path that runs one (the actor in runtime.ts, in-process evaluation and
 * demonstrations in local-trials.ts, preset evaluation in backends/eval-trials.ts): the env from the registry (its
 * steps optionally recorded), the env's prompt builder (optionally wrapped) and reflection parser, the template's
 * stop words, and the policy that answers: token level (the embedded model behind a batcher, or scripted replies) or
 * text level (an OpenAI-compatible server).
 */
import type { Batcher } from './batcher.js';
import type { TextPolicy } from './backends/openai.js';
import { COMPACT_STOP, buildPrompt, parseReflection } from './envs/prompt.js';
import { makeEnv } from './envs/registry.js';
import type { StepRecord } from './envs/retry.js';
import type { PromptContext, Template, TextEnv } from './envs/types.js';
import {
  runTrial,
  type GenerationRequest,
  type GenerationResult,
  type TextGenerationRequest,
  type TextGenerationResult,
  type TokenizerLike,
  type TrialDeps,
  type TrialResult,
  type TrialSpec,
} from './trial.js';

export interface TokenizerWithIds extends TokenizerLike {
  id(word: string): number;
}

/** Stop ids of the compact template: the closing tag word of each phase, or `<eos>`. */
export function stopTokens(tok: TokenizerWithIds): { play: number[]; reflect: number[] } {
  return { play: [tok.id(COMPACT_STOP.play), tok.eos], reflect: [tok.id(COMPACT_STOP.reflect), tok.eos] };
}

/** Stop strings the text backend sends: the compact template's closing tags; none for the full template. */
export function textStops(template: Template): { play: string[]; reflect: string[] } {
  return template === 'compact'
    ? { play: [COMPACT_STOP.play], reflect: [COMPACT_STOP.reflect] }
    : { play: [], reflect: [] };
}

/**
 * The same env with every step's observation and outcome also appended to `steps`. Patched in place (not wrapped) so
 * env-specific methods that prompt builders call (ALFWorld's and WebShop's admissible choices) stay available.
 */
export function recordingEnv<E extends TextEnv>(env: E, steps: StepRecord[]): E {
  const step = env.step.bind(env);
  env.step = (response: string) => {
    const r = step(response);
    const score = r.info.taskScore;
    steps.push({
      obs: r.obs,
      terminated: r.terminated || r.truncated,
      won: r.info.won,
      ...(typeof score === 'number' ? { score } : {}),
    });
    return r;
  };
  return env;
}

/** What answers a trial's prompts. */
export type TrialPolicy =
  | {
      kind: 'tokens';
      tokenizer: TokenizerWithIds;
      generate(req: GenerationRequest): Promise<GenerationResult>;
      beforePhase?: TrialDeps['beforePhase'];
    }
  | {
      kind: 'text';
      /** The learner's tokenizer, when rows should carry its ids (compact template). */
      tokenizer?: TokenizerLike;
      generateText(req: TextGenerationRequest): Promise<TextGenerationResult>;
    };

export interface Sampling {
  temperature: number;
  topP: number;
}

/**
 * The embedded model behind `batcher`: each call is one request of a batched decode call, seeded by `seed()`.
 * `phaseBarrier`: wait at the batcher's phase barrier before each phase (the lockstep baseline's cohorts).
 */
export function batcherPolicy(
  batcher: Batcher,
  tokenizer: TokenizerWithIds,
  sampling: Sampling,
  seed: () => number,
  opts: { phaseBarrier?: boolean } = {},
): TrialPolicy {
  return {
    kind: 'tokens',
    tokenizer,
    ...(opts.phaseBarrier ? { beforePhase: () => batcher.phaseBarrier() } : {}),
    generate: (req) =>
      batcher.generate({
        prompt: req.prompt,
        maxTokens: req.maxTokens,
        stop: req.stop,
        temperature: sampling.temperature,
        topP: sampling.topP,
        seed: seed(),
      }),
  };
}

/**
 * An OpenAI-compatible server: each call is one completion request, seeded by `seed()` (the same seeds per call as
 * the embedded path), its rows stamped with `policyVersion()` as it stood when the request was sent.
 */
export function serverPolicy(
  backend: TextPolicy,
  tokenizer: TokenizerLike | undefined,
  sampling: Sampling,
  seed: () => number,
  policyVersion: () => number = () => 0,
): TrialPolicy {
  return {
    kind: 'text',
    tokenizer,
    generateText: async (req) => {
      const version = policyVersion();
      const out = await backend.complete({
        prompt: req.prompt,
        maxTokens: req.maxTokens,
        stop: req.stop,
        temperature: sampling.temperature,
        topP: sampling.topP,
        seed: seed(),
      });
      return { text: out.text, tokens: out.tokens, policyVersion: version };
    },
  };
}

export interface TrialSetup {
  /** Env options; the template is the trial's. */
  envOptions: Record<string, unknown>;
  /** The policy, or a function of the trial's env giving it (scripted replies read the env's state). */
  policy: TrialPolicy | ((env: TextEnv) => TrialPolicy);
  /** Appends every env step here (the retry metrics need the states reached). */
  steps?: StepRecord[];
  /** Wraps the env's prompt builder (evaluation presets; scripted replies that need the prompt context). */
  prompt?(build: (ctx: PromptContext) => string, ctx: PromptContext): string;
}

/** A trial's dependencies: a fresh env of `spec.envId` in `spec.template`, its prompts, parser and the policy. */
export function trialDeps(spec: Pick<TrialSpec, 'envId' | 'template'>, setup: TrialSetup): TrialDeps {
  const made = makeEnv(spec.envId, { ...setup.envOptions, template: spec.template });
  const env = setup.steps ? recordingEnv(made, setup.steps) : made;
  const build = (ctx: PromptContext) => buildPrompt(env, ctx);
  const wrap = setup.prompt;
  const common = {
    env,
    buildPrompt: wrap ? (ctx: PromptContext) => wrap(build, ctx) : build,
    parseReflection: (text: string) => parseReflection(spec.envId, spec.template, text),
  };
  const policy = typeof setup.policy === 'function' ? setup.policy(env) : setup.policy;
  if (policy.kind === 'text')
    return {
      ...common,
      tokenizer: policy.tokenizer,
      stopText: textStops(spec.template),
      generateText: policy.generateText,
    };
  return {
    ...common,
    tokenizer: policy.tokenizer,
    stopTokens: stopTokens(policy.tokenizer),
    generate: policy.generate,
    ...(policy.beforePhase ? { beforePhase: policy.beforePhase } : {}),
  };
}

/**
 * Runs a trial on assembled dependencies and closes its env. `batcher`: the trial counts as live there while it
 * runs (a lockstep cohort waits for its live trials).
 */
export async function runTrialWith(spec: TrialSpec, deps: TrialDeps, batcher?: Batcher | null): Promise<TrialResult> {
  batcher?.trialStarted();
  try {
    return await runTrial(spec, deps);
  } finally {
    batcher?.trialFinished();
    deps.env.close();
  }
}
