/**
 * One LaMer trial as a small async state machine: play episode 0, then (if not won) reflect and play again,
 * up to N episodes, restoring the task's initial state between episodes (docs/method.md §2). Every policy call
 * goes through `deps.generate`, so trials from many groups share batched decode calls while each trial's
 * own order stays sequential. A text-level policy (`deps.generateText`, an OpenAI-compatible server) drives the same
 * state machine; its rows say whether they carry behaviour log-probs.
 */
import type { EpisodeLog, MemoryMode, Template, TextEnv } from './envs/types.js';
import type { Row } from '../shared/rl/types.js';

export interface TrialSpec {
  envId: string;
  template: Template;
  memory: MemoryMode;
  attempts: number;
  maxTurns: number;
  reflect: boolean;
  taskSeed: number;
  /** Context length of the policy: prompts are cut from the left to fit `nCtx - maxTokens`. */
  nCtx: number;
  maxActionTokens: number;
  maxReflectTokens: number;
}

export interface GenerationRequest {
  prompt: number[];
  maxTokens: number;
  stop: number[];
  phase: 'play' | 'reflect';
}

export interface GenerationResult {
  tokens: number[];
  logprobs: number[];
  policyVersion: number;
}

/** A text-level request (OpenAI-compatible servers): the prompt text and stop strings instead of token ids. */
export interface TextGenerationRequest {
  prompt: string;
  maxTokens: number;
  /** Stop strings of the phase (the closing tag in the compact template; none in the full template). */
  stop: string[];
  phase: 'play' | 'reflect';
}

export interface TextGenerationResult {
  /** The response text as the env parses it (a matched stop string included). */
  text: string;
  /** The server's tokens with their behaviour log-probs, when it gave them. */
  tokens?: Array<{ token: string; logprob: number }>;
  policyVersion: number;
}

/** One recorded turn: the learner's row fields (shared/rl) plus what training needs from the sample. */
export interface TrialRow extends Row {
  /** True on the play turn that won its episode (the learner's success-only reward reads it). */
  won: boolean;
  policyVersion: number;
  prompt: Int32Array;
  response: Int32Array;
  behavLogp: Float32Array;
  actionText: string;
  /** False when the policy gave no usable log-probs (text backends): the row is for evaluation only. */
  hasLogp: boolean;
}

export interface TrialResult {
  rows: TrialRow[];
  episodesWon: boolean[];
  envSteps: number;
  genTokens: number;
}

export interface TokenizerLike {
  encode(text: string): number[];
  decode(ids: number[]): string;
  readonly eos: number;
}

export interface TrialDeps {
  env: TextEnv;
  /** The learner's tokenizer. Required for `generate`; with `generateText` it only maps text to ids (if given). */
  tokenizer?: TokenizerLike;
  /** Token-level policy (the embedded model). Exactly one of `generate` and `generateText` must be set. */
  generate?(req: GenerationRequest): Promise<GenerationResult>;
  /**
   * Text-level policy (an OpenAI-compatible server). Compact-template rows get the tokenizer's ids of prompt and
   * response, and log-probs when the server's tokens are exactly the tokenizer's words of the response; otherwise
   * (and always for the full template, which the learner's model does not read) `hasLogp` is false.
   */
  generateText?(req: TextGenerationRequest): Promise<TextGenerationResult>;
  /** Stop strings per phase for `generateText` (default none). */
  stopText?: { play: string[]; reflect: string[] };
  buildPrompt(ctx: {
    template: Template;
    phase: 'play' | 'reflect';
    memory: MemoryMode;
    initialObs: string;
    episode: number;
    turn: number;
    current: EpisodeLog;
    past: EpisodeLog[];
  }): string;
  parseReflection(response: string): { reflection: string; valid: boolean };
  /** Stop words of the template: the closing tags the model ends its answer with (token path). */
  stopTokens?: { play: number[]; reflect: number[] };
  /** Lockstep baseline only: resolves when every unfinished trial of the cohort reached the same phase. */
  beforePhase?(episode: number, phase: 'play' | 'reflect'): Promise<void>;
}

function fitPrompt(ids: number[], budget: number): number[] {
  return ids.length <= budget ? ids : ids.slice(ids.length - budget);
}

/**
 * Text the env/parser receives: in the compact template the prompt ends with the opening tag, so it is the
 * generation itself.
 */
function responseText(tok: TokenizerLike, tokens: number[]): string {
  const body = tokens.filter((t) => t !== tok.eos);
  return tok.decode(body);
}

interface PolicyCall {
  prompt: number[];
  response: number[];
  logprobs: number[];
  hasLogp: boolean;
  policyVersion: number;
  text: string;
  genTokens: number;
}

/**
 * Behaviour log-probs of a text response in the learner's token ids: usable only when the server's tokens, trimmed,
 * are exactly the words the tokenizer makes of the text (true for `lamer serve`; a real LLM's BPE pieces are not).
 */
function alignLogprobs(
  tok: TokenizerLike | undefined,
  responseIds: number[],
  tokens: TextGenerationResult['tokens'],
): number[] | null {
  if (!tok || !tokens || tokens.length !== responseIds.length) return null;
  const encoded = tokens.map((t) => tok.encode(t.token));
  if (!encoded.every((ids, i) => ids.length === 1 && ids[0] === responseIds[i])) return null;
  return tokens.map((t) => t.logprob);
}

async function callPolicy(
  spec: TrialSpec,
  deps: TrialDeps,
  phase: 'play' | 'reflect',
  promptText: string,
): Promise<PolicyCall> {
  const maxTokens = phase === 'play' ? spec.maxActionTokens : spec.maxReflectTokens;
  const tok = deps.tokenizer;
  if (deps.generateText) {
    // Only compact prompts are in the learner's vocabulary: they are fitted to its context and their rows can carry
    // ids and log-probs. Full-template prompts go whole to the server (its context is its own) and their rows carry
    // text only: the learner's word-level model cannot read them, so they are evaluation records.
    const wordLevel = spec.template === 'compact' ? tok : undefined;
    let prompt: number[] = [];
    let text = promptText;
    if (wordLevel) {
      const ids = wordLevel.encode(promptText);
      prompt = fitPrompt(ids, spec.nCtx - maxTokens);
      if (prompt.length < ids.length) text = wordLevel.decode(prompt);
    }
    const out = await deps.generateText({ prompt: text, maxTokens, stop: deps.stopText?.[phase] ?? [], phase });
    const response = wordLevel ? wordLevel.encode(out.text) : [];
    const logprobs = alignLogprobs(wordLevel, response, out.tokens);
    return {
      prompt,
      response,
      logprobs: logprobs ?? [],
      hasLogp: logprobs !== null,
      policyVersion: out.policyVersion,
      text: out.text,
      genTokens: out.tokens?.length ?? response.length,
    };
  }
  if (!deps.generate || !tok || !deps.stopTokens)
    throw new Error('runTrial: token generation needs generate, tokenizer and stopTokens (or pass generateText)');
  const prompt = fitPrompt(tok.encode(promptText), spec.nCtx - maxTokens);
  const out = await deps.generate({ prompt, maxTokens, stop: deps.stopTokens[phase], phase });
  return {
    prompt,
    response: out.tokens,
    logprobs: out.logprobs,
    hasLogp: true,
    policyVersion: out.policyVersion,
    text: responseText(tok, out.tokens),
    genTokens: out.tokens.length,
  };
}

export async function runTrial(spec: TrialSpec, deps: TrialDeps): Promise<TrialResult> {
  const { env } = deps;
  const rows: TrialRow[] = [];
  const episodesWon: boolean[] = [];
  const past: EpisodeLog[] = [];
  let envSteps = 0;
  let genTokens = 0;
  const initialObs = env.reset({ seed: spec.taskSeed }).obs;

  const call = async (phase: 'play' | 'reflect', promptText: string) => {
    const out = await callPolicy(spec, deps, phase, promptText);
    genTokens += out.genTokens;
    return out;
  };
  const sample = (c: PolicyCall) => ({
    policyVersion: c.policyVersion,
    prompt: Int32Array.from(c.prompt),
    response: Int32Array.from(c.response),
    behavLogp: Float32Array.from(c.logprobs),
    hasLogp: c.hasLogp,
  });

  for (let episode = 0; episode < spec.attempts; episode++) {
    if (episode > 0) {
      const finished = past[past.length - 1];
      if (spec.reflect) {
        await deps.beforePhase?.(episode, 'reflect');
        const promptText = deps.buildPrompt({
          template: spec.template,
          phase: 'reflect',
          memory: spec.memory,
          initialObs,
          episode,
          turn: 0,
          current: finished,
          past: past.slice(0, -1),
        });
        const c = await call('reflect', promptText);
        const parsed = deps.parseReflection(c.text);
        finished.reflection = parsed.reflection;
        rows.push({
          phase: 'reflect',
          episode,
          turn: 0,
          reward: 0,
          valid: parsed.valid,
          anchor: 'reflection',
          won: false,
          ...sample(c),
          actionText: parsed.reflection,
        });
      }
      env.restart();
    }
    await deps.beforePhase?.(episode, 'play');
    const current: EpisodeLog = { steps: [], won: false };
    for (let turn = 0; turn < spec.maxTurns; turn++) {
      const anchor = env.anchor();
      const promptText = deps.buildPrompt({
        template: spec.template,
        phase: 'play',
        memory: spec.memory,
        initialObs,
        episode,
        turn,
        current,
        past,
      });
      const c = await call('play', promptText);
      const step = env.step(c.text);
      envSteps++;
      current.steps.push({ action: step.info.actionText, obs: step.obs });
      rows.push({
        phase: 'play',
        episode,
        turn,
        reward: step.reward,
        valid: step.info.valid,
        anchor,
        won: step.info.won === true,
        ...sample(c),
        actionText: step.info.actionText,
      });
      if (step.info.won) current.won = true;
      if (step.terminated || step.truncated || step.info.won) break;
    }
    past.push(current);
    episodesWon.push(current.won);
    if (current.won) break; // a won trial stops (docs/method.md §2.3)
  }
  return { rows, episodesWon, envSteps, genTokens };
}
