/**
 * Evaluation trials under a preset (zeroshot / react / reflexion / lamer) with either policy backend: the embedded
 * model (token level, batched decode calls) or an OpenAI-compatible server (text level, bounded concurrency). Same
 * trial runner, envs and prompt builder as training, so the numbers mean the same thing. Each policy call gets the
 * seed `deriveSeed(seed, taskSeed, call)` on both backends, so a server that honours seeds (lamer serve) reproduces
 * the embedded run.
 */
import { Batcher, type Generator } from '../batcher.js';
import { buildPrompt, COMPACT_STOP, parseReflection } from '../envs/prompt.js';
import { makeEnv } from '../envs/registry.js';
import {
  recordingEnv,
  stopTokens,
  type LocalTrialResult,
  type TokenizerWithIds,
  type TrialSettings,
} from '../local-trials.js';
import type { StepRecord } from '../envs/retry.js';
import { runTrial, type TokenizerLike, type TrialDeps } from '../trial.js';
import { deriveSeed } from '../../shared/rng.js';
import type { TextPolicy } from './openai.js';
import type { EvalPreset } from './presets.js';

export type EvalPolicy =
  | { kind: 'onnx'; generator: Generator; tokenizer: TokenizerWithIds; maxBatch: number; concurrency: number }
  | { kind: 'openai'; backend: TextPolicy; tokenizer?: TokenizerLike };

export interface EvalSampling {
  temperature: number;
  topP: number;
  seed: number;
}

/** Stop strings the text backend sends: the compact template's closing tags; none for the full template. */
export function textStops(template: TrialSettings['template']): { play: string[]; reflect: string[] } {
  return template === 'compact'
    ? { play: [COMPACT_STOP.play], reflect: [COMPACT_STOP.reflect] }
    : { play: [], reflect: [] };
}

/**
 * Runs one trial per seed under `preset`; all trials run concurrently (the backend bounds the real parallelism).
 * Each result carries its env steps, for the retry metrics (actor/envs/retry.ts `retryEpisodes`).
 */
export async function runPresetTrials(
  base: TrialSettings,
  seeds: number[],
  policy: EvalPolicy,
  preset: EvalPreset,
  sampling: EvalSampling,
): Promise<LocalTrialResult[]> {
  const s = preset.settings(base);
  const batcher =
    policy.kind === 'onnx'
      ? new Batcher(policy.generator, { maxBatch: policy.maxBatch, concurrency: policy.concurrency, lockstep: false })
      : null;
  return Promise.all(
    seeds.map(async (taskSeed) => {
      const steps: StepRecord[] = [];
      const env = recordingEnv(makeEnv(s.envId, { ...s.envOptions, template: s.template }), steps);
      let call = 0;
      const seedOf = () => deriveSeed(sampling.seed, taskSeed, call++);
      const deps: TrialDeps = {
        env,
        buildPrompt: (ctx) => preset.prompt((c) => buildPrompt(env, c), ctx),
        parseReflection: (text) => parseReflection(s.envId, s.template, text),
      };
      if (policy.kind === 'onnx') {
        Object.assign(deps, {
          tokenizer: policy.tokenizer,
          stopTokens: stopTokens(policy.tokenizer),
          generate: (req) =>
            batcher!.generate({
              prompt: req.prompt,
              maxTokens: req.maxTokens,
              stop: req.stop,
              temperature: sampling.temperature,
              topP: sampling.topP,
              seed: seedOf(),
            }),
        } satisfies Partial<TrialDeps>);
      } else {
        Object.assign(deps, {
          tokenizer: policy.tokenizer,
          stopText: textStops(s.template),
          generateText: async (req) => {
            const out = await policy.backend.complete({
              prompt: req.prompt,
              maxTokens: req.maxTokens,
              stop: req.stop,
              temperature: sampling.temperature,
              topP: sampling.topP,
              seed: seedOf(),
            });
            return { text: out.text, tokens: out.tokens, policyVersion: 0 };
          },
        } satisfies Partial<TrialDeps>);
      }
      batcher?.trialStarted();
      try {
        return { ...(await runTrial({ ...s, taskSeed }, deps)), steps };
      } finally {
        batcher?.trialFinished();
        env.close();
      }
    }),
  );
}
