/**
 * One LaMer trial as a small async state machine: play episode 0, then (if not won) reflect and play again,
 * up to N episodes, restoring the task's initial state between episodes (lamer-spec §2). Every policy call
 * goes through `deps.generate`, so trials from many groups share batched decode calls while each trial's
 * own order stays sequential.
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

/** One recorded turn: the learner's row fields (shared/rl) plus what training needs from the sample. */
export interface TrialRow extends Row {
  policyVersion: number;
  prompt: Int32Array;
  response: Int32Array;
  behavLogp: Float32Array;
  actionText: string;
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
  tokenizer: TokenizerLike;
  generate(req: GenerationRequest): Promise<GenerationResult>;
  buildPrompt(ctx: {
    template: Template; phase: 'play' | 'reflect'; memory: MemoryMode; initialObs: string;
    episode: number; turn: number; current: EpisodeLog; past: EpisodeLog[];
  }): string;
  parseReflection(response: string): { reflection: string; valid: boolean };
  /** Stop words of the template: the closing tags the model ends its answer with. */
  stopTokens: { play: number[]; reflect: number[] };
  /** Lockstep baseline only: resolves when every unfinished trial of the cohort reached the same phase. */
  beforePhase?(episode: number, phase: 'play' | 'reflect'): Promise<void>;
}

function fitPrompt(ids: number[], budget: number): number[] {
  return ids.length <= budget ? ids : ids.slice(ids.length - budget);
}

/** Text the env/parser receives: in the compact template the prompt ends with the opening tag, so it is the generation itself. */
function responseText(deps: TrialDeps, tokens: number[]): string {
  const body = tokens.filter((t) => t !== deps.tokenizer.eos);
  return deps.tokenizer.decode(body);
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
    const maxTokens = phase === 'play' ? spec.maxActionTokens : spec.maxReflectTokens;
    const prompt = fitPrompt(deps.tokenizer.encode(promptText), spec.nCtx - maxTokens);
    const out = await deps.generate({ prompt, maxTokens, stop: deps.stopTokens[phase], phase });
    genTokens += out.tokens.length;
    return { prompt, out, text: responseText(deps, out.tokens) };
  };

  for (let episode = 0; episode < spec.attempts; episode++) {
    if (episode > 0) {
      const finished = past[past.length - 1];
      if (spec.reflect) {
        await deps.beforePhase?.(episode, 'reflect');
        const promptText = deps.buildPrompt({
          template: spec.template, phase: 'reflect', memory: spec.memory, initialObs,
          episode, turn: 0, current: finished, past: past.slice(0, -1),
        });
        const { prompt, out, text } = await call('reflect', promptText);
        const parsed = deps.parseReflection(text);
        finished.reflection = parsed.reflection;
        rows.push({
          phase: 'reflect', episode, turn: 0, reward: 0, valid: parsed.valid, anchor: 'reflection',
          policyVersion: out.policyVersion, prompt: Int32Array.from(prompt), response: Int32Array.from(out.tokens),
          behavLogp: Float32Array.from(out.logprobs), actionText: parsed.reflection,
        });
      }
      env.restart();
    }
    await deps.beforePhase?.(episode, 'play');
    const current: EpisodeLog = { steps: [], won: false };
    for (let turn = 0; turn < spec.maxTurns; turn++) {
      const anchor = env.anchor();
      const promptText = deps.buildPrompt({
        template: spec.template, phase: 'play', memory: spec.memory, initialObs, episode, turn, current, past,
      });
      const { prompt, out, text } = await call('play', promptText);
      const step = env.step(text);
      envSteps++;
      current.steps.push({ action: step.info.actionText, obs: step.obs });
      rows.push({
        phase: 'play', episode, turn, reward: step.reward, valid: step.info.valid, anchor,
        policyVersion: out.policyVersion, prompt: Int32Array.from(prompt), response: Int32Array.from(out.tokens),
        behavLogp: Float32Array.from(out.logprobs), actionText: step.info.actionText,
      });
      if (step.info.won) current.won = true;
      if (step.terminated || step.truncated || step.info.won) break;
    }
    past.push(current);
    episodesWon.push(current.won);
    if (current.won) break; // a won trial stops (lamer-spec §2.3)
  }
  return { rows, episodesWon, envSteps, genTokens };
}
