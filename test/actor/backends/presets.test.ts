/** The prompting-baseline presets: what each attempt's prompt shows, and whether reflections run. */
import { describe, expect, it } from 'vitest';
import { runPresetTrials } from '../../../actor/backends/eval-trials.js';
import type { TextCompletionRequest, TextPolicy } from '../../../actor/backends/openai.js';
import { directAnswerPrompt, getPreset, parsePresetList } from '../../../actor/backends/presets.js';
import { buildPrompt } from '../../../actor/envs/prompt.js';
import { makeEnv } from '../../../actor/envs/registry.js';
import type { PromptContext } from '../../../actor/envs/types.js';
import type { TrialSettings } from '../../../actor/local-trials.js';

const ENVS = ['lamer/Sokoban-v0', 'lamer/MineSweeper-v0', 'lamer/WebShop-v0', 'lamer/ALFWorld-v0'];

function ctxFor(initialObs: string, over: Partial<PromptContext> = {}): PromptContext {
  return {
    template: 'full',
    phase: 'play',
    memory: 'reflection',
    initialObs,
    episode: 0,
    turn: 0,
    current: { steps: [], won: false },
    past: [],
    ...over,
  };
}

describe('evaluation presets', () => {
  it.each(ENVS)('%s: zeroshot asks for the action directly, react keeps reason-then-act', (id) => {
    const env = makeEnv(id, { template: 'full' });
    const obs = env.reset({ seed: 4 }).obs;
    const build = (c: PromptContext) => buildPrompt(env, c);
    const react = getPreset('react').prompt(build, ctxFor(obs));
    const zero = getPreset('zeroshot').prompt(build, ctxFor(obs));
    expect(react).toMatch(/reason step by step/i);
    expect(zero).not.toMatch(/reason step by step/i);
    expect(zero).toMatch(/<action>/);
    expect(zero).not.toMatch(/^\s*-?\s*Then /m);
    expect(zero.endsWith('Answer with the action tags only, without any explanation.')).toBe(true);
    // Only the instruction changes: everything before it is the same text.
    const head = react.slice(0, react.search(/.*reason step by step/i));
    expect(zero.startsWith(head)).toBe(true);
    env.close();
  });

  it('zeroshot and react show every attempt as a first attempt; reflexion shows the reflections', () => {
    const env = makeEnv('lamer/MineSweeper-v0', { template: 'full' });
    const obs = env.reset({ seed: 4 }).obs;
    const build = (c: PromptContext) => buildPrompt(env, c);
    const past = [{ steps: [{ action: '(1, 1)', obs }], won: false, reflection: 'avoid the corner' }];
    const later = ctxFor(obs, { episode: 1, past });
    for (const name of ['zeroshot', 'react'] as const) {
      expect(getPreset(name).prompt(build, later)).toBe(getPreset(name).prompt(build, ctxFor(obs)));
    }
    const refl = getPreset('reflexion').prompt(build, later);
    expect(refl).toContain('avoid the corner');
    expect(refl).not.toBe(getPreset('reflexion').prompt(build, ctxFor(obs)));
    env.close();
  });

  it('directAnswerPrompt leaves prompts without a reasoning instruction alone', () => {
    expect(directAnswerPrompt('a\nb <action>')).toBe('a\nb <action>');
  });

  it('settings: reflection only for reflexion (and lamer as configured)', () => {
    const s = { reflect: true, memory: 'both' } as TrialSettings;
    expect(getPreset('zeroshot').settings(s)).toMatchObject({ reflect: false });
    expect(getPreset('react').settings(s)).toMatchObject({ reflect: false });
    expect(getPreset('reflexion').settings({ ...s, reflect: false })).toMatchObject({
      reflect: true,
      memory: 'reflection',
    });
    expect(getPreset('lamer').settings(s)).toBe(s);
  });

  it('parses preset lists and names the known ones on a typo', () => {
    expect(parsePresetList('react, zeroshot,react').map((p) => p.name)).toEqual(['react', 'zeroshot']);
    expect(() => parsePresetList('reflection')).toThrow(
      /unknown preset 'reflection' \(known: lamer, zeroshot, react, reflexion\)/,
    );
    expect(() => parsePresetList(' , ')).toThrow(/needs at least one/);
  });

  it('trials under each preset: reflexion writes reflections and carries them, zeroshot retries blind', async () => {
    const seen: TextCompletionRequest[] = [];
    // A policy that never solves anything: every trial uses all attempts.
    const policy: TextPolicy = {
      model: 'scripted',
      complete: async (req) => {
        seen.push(req);
        const reflect = /<remark>/.test(req.prompt) && /reflect/i.test(req.prompt.split('\n').slice(-3).join(' '));
        return { text: reflect ? `<remark>note ${seen.length}</remark>` : 'no idea', finish: 'stop', retries: 0 };
      },
    };
    const settings: TrialSettings = {
      envId: 'lamer/MineSweeper-v0',
      envOptions: {},
      template: 'full',
      memory: 'reflection',
      attempts: 3,
      maxTurns: 2,
      reflect: true,
      nCtx: Number.MAX_SAFE_INTEGER,
      maxActionTokens: 64,
      maxReflectTokens: 64,
    };
    const run = async (name: string) => {
      seen.length = 0;
      const res = await runPresetTrials(settings, [7], { kind: 'openai', backend: policy }, getPreset(name), {
        temperature: 0.7,
        topP: 0.8,
        seed: 1,
      });
      return { res: res[0], prompts: seen.map((r) => r.prompt) };
    };
    const z = await run('zeroshot');
    expect(z.res.episodesWon).toEqual([false, false, false]);
    expect(z.res.rows.some((r) => r.phase === 'reflect')).toBe(false);
    const firstTurns = z.res.rows.map((r, i) => (r.turn === 0 ? z.prompts[i] : null)).filter((p) => p !== null);
    expect(firstTurns).toHaveLength(3);
    expect(new Set(firstTurns).size).toBe(1); // the same prompt for every attempt: no memory
    const r = await run('reflexion');
    expect(r.res.rows.filter((x) => x.phase === 'reflect')).toHaveLength(2);
    const lastPlay = r.prompts[r.prompts.length - 1];
    expect(lastPlay).toMatch(/note \d+/);
    // Rows from a text backend without a tokenizer carry no ids and no log-probs: evaluation only.
    expect(r.res.rows.every((x) => !x.hasLogp && x.response.length === 0)).toBe(true);
  });
});
