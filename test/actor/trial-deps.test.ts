import { describe, expect, it } from 'vitest';
import type { TextCompletionRequest, TextPolicy } from '../../actor/backends/openai.js';
import { Batcher } from '../../actor/batcher.js';
import { buildPrompt, compactVocabulary, parseReflection } from '../../actor/envs/prompt.js';
import { makeEnv } from '../../actor/envs/registry.js';
import type { StepRecord } from '../../actor/envs/retry.js';
import type { PromptContext } from '../../actor/envs/types.js';
import {
  batcherPolicy,
  recordingEnv,
  runTrialWith,
  serverPolicy,
  stopTokens,
  textStops,
  trialDeps,
} from '../../actor/trial-deps.js';
import { WordTokenizer } from '../../shared/model/tokenizer.js';

const ENV = 'lamer/MineSweeper-v0';
const tok = new WordTokenizer([...compactVocabulary(ENV)]);
const spec = {
  envId: ENV,
  template: 'compact' as const,
  memory: 'reflection' as const,
  attempts: 2,
  maxTurns: 3,
  reflect: true,
  taskSeed: 5,
  nCtx: 256,
  maxActionTokens: 8,
  maxReflectTokens: 8,
};
const ctxOf = (initialObs: string): PromptContext => ({
  template: 'compact',
  phase: 'play',
  memory: 'reflection',
  initialObs,
  episode: 0,
  turn: 0,
  current: { steps: [], won: false },
  past: [],
});
const noBatcher = new Batcher({ generate: async () => [] }, { maxBatch: 1, concurrency: 1, lockstep: false });

describe('trial dependencies', () => {
  it('recordingEnv records every step and keeps the env itself (env-specific methods stay callable)', () => {
    const steps: StepRecord[] = [];
    const env = makeEnv('minesweeper', { template: 'compact' });
    const rec = recordingEnv(env, steps);
    expect(rec).toBe(env);
    rec.reset({ seed: 3 });
    const r = rec.step('1 1 </action>');
    expect(steps).toEqual([{ obs: r.obs, terminated: r.terminated, won: r.info.won }]);
    expect((rec as unknown as { snapshot: () => unknown }).snapshot()).toBeDefined();
  });

  it('token policy: the env in the trial template, its prompts and parser, the stop ids, a wrapped builder', () => {
    const steps: StepRecord[] = [];
    const deps = trialDeps(spec, {
      envOptions: { mines: 4 },
      steps,
      prompt: (build, ctx) => `${build(ctx)} !`,
      policy: batcherPolicy(noBatcher, tok, { temperature: 1, topP: 1 }, () => 0),
    });
    expect(deps.env.template).toBe('compact');
    expect(deps.env.params).toMatchObject({ mines: 4 });
    const obs = deps.env.reset({ seed: 5 }).obs;
    expect(deps.buildPrompt(ctxOf(obs))).toBe(`${buildPrompt(deps.env, ctxOf(obs))} !`);
    expect(deps.parseReflection('mine 1 2 </remark>')).toEqual(parseReflection(ENV, 'compact', 'mine 1 2 </remark>'));
    expect(deps.stopTokens).toEqual(stopTokens(tok));
    expect(deps.generateText).toBeUndefined();
    expect(deps.beforePhase).toBeUndefined();
    deps.env.step('1 1 </action>');
    expect(steps).toHaveLength(1);
  });

  it('server policy: stop strings of the template, seeds in call order, the version when sent', async () => {
    const sent: TextCompletionRequest[] = [];
    let version = 3;
    const backend: TextPolicy = {
      model: 'fake',
      async complete(req) {
        sent.push(req);
        version++; // a weight switch while the request runs must not relabel it
        return { text: '1 1 </action>', finish: 'stop', retries: 0 };
      },
    };
    let call = 0;
    const deps = trialDeps(
      { ...spec, template: 'full' },
      {
        envOptions: {},
        policy: serverPolicy(
          backend,
          undefined,
          { temperature: 0.5, topP: 0.9 },
          () => 10 + call++,
          () => version,
        ),
      },
    );
    expect(deps.stopText).toEqual(textStops('full'));
    expect(deps.generate).toBeUndefined();
    const a = await deps.generateText!({ prompt: 'p', maxTokens: 4, stop: [], phase: 'play' });
    const b = await deps.generateText!({ prompt: 'q', maxTokens: 4, stop: [], phase: 'play' });
    expect([a.policyVersion, b.policyVersion]).toEqual([3, 4]);
    expect(sent.map((r) => [r.prompt, r.seed, r.temperature, r.topP])).toEqual([
      ['p', 10, 0.5, 0.9],
      ['q', 11, 0.5, 0.9],
    ]);
  });

  it('runTrialWith runs the trial, counts it live on the batcher meanwhile and closes the env', async () => {
    const live: number[] = [];
    const batcher = new Batcher({ generate: async () => [] }, { maxBatch: 1, concurrency: 1, lockstep: false });
    const started = batcher.trialStarted.bind(batcher);
    const finished = batcher.trialFinished.bind(batcher);
    batcher.trialStarted = () => {
      live.push(1);
      started();
    };
    batcher.trialFinished = () => {
      live.push(-1);
      finished();
    };
    const deps = trialDeps(spec, {
      envOptions: {},
      policy: {
        kind: 'tokens',
        tokenizer: tok,
        generate: async () => ({ tokens: tok.encode('1 1 </action>'), logprobs: [0, 0, 0], policyVersion: 0 }),
      },
    });
    let closed = 0;
    const close = deps.env.close.bind(deps.env);
    deps.env.close = () => {
      closed++;
      close();
    };
    const r = await runTrialWith(spec, deps, batcher);
    const plays = r.rows.filter((x) => x.phase === 'play');
    expect(plays.length).toBeGreaterThan(0);
    expect(plays.every((x) => x.actionText === '(1, 1)')).toBe(true);
    expect(live).toEqual([1, -1]);
    expect(closed).toBe(1);
  });
});
