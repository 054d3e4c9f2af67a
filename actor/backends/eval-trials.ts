/**
 * Evaluation trials under a preset (zeroshot / react / reflexion / lamer) with either policy backend: the embedded
 * model (token level, batched decode calls) or an OpenAI-compatible server (text level, bounded concurrency). Same
 * trial runner, envs and prompt builder as training, so the numbers mean the same thing. Each policy call gets the
 * seed `deriveSeed(seed, taskSeed, call)` on both backends, so a server that honours seeds (lamer serve) reproduces
 * the embedded run.
 */
import { Batcher, type Generator } from '../batcher.js';
import type { LocalTrialResult, TrialSettings } from '../local-trials.js';
import type { StepRecord } from '../envs/retry.js';
import { batcherPolicy, runTrialWith, serverPolicy, trialDeps, type TokenizerWithIds } from '../trial-deps.js';
import type { TokenizerLike } from '../trial.js';
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
      let call = 0;
      const seedOf = () => deriveSeed(sampling.seed, taskSeed, call++);
      const spec = { ...s, taskSeed };
      const deps = trialDeps(spec, {
        envOptions: s.envOptions,
        steps,
        prompt: (build, ctx) => preset.prompt(build, ctx),
        policy:
          policy.kind === 'onnx'
            ? batcherPolicy(batcher!, policy.tokenizer, sampling, seedOf)
            : serverPolicy(policy.backend, policy.tokenizer, sampling, seedOf),
      });
      return { ...(await runTrialWith(spec, deps, batcher)), steps };
    }),
  );
}
