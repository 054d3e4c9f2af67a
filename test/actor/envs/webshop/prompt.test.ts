import { describe, expect, it } from 'vitest';
import { checkEnv } from '../../../../actor/envs/check-env.js';
import { buildPrompt, compactVocabulary, parseReflection } from '../../../../actor/envs/prompt.js';
import { scriptedAction, templateReflection } from '../../../../actor/envs/scripted.js';
import type { EpisodeLog, PromptContext } from '../../../../actor/envs/types.js';
import { WebShopEnv } from '../../../../actor/envs/webshop/env.js';
import { WEBSHOP_PROMPT_CHAR_LIMIT, truncateSep } from '../../../../actor/envs/webshop/prompt.js';
import { oracleAction } from '../../../../actor/envs/webshop/scripted.js';
import { createRng } from '../../../../shared/rng.js';

function ctxFor(env: WebShopEnv, initialObs: string, over: Partial<PromptContext> = {}): PromptContext {
  return {
    template: env.template,
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

/** Plays the shopper for `n` steps, logging them as the trial runner does. */
function play(env: WebShopEnv, n: number): EpisodeLog {
  const log: EpisodeLog = { steps: [], won: false };
  for (let i = 0; i < n; i++) {
    const r = env.step(scriptedAction(env));
    log.steps.push({ action: r.info.actionText, obs: r.obs });
  }
  return log;
}

describe('WebShop full prompts', () => {
  it('turn 0: task sentence and the admissible actions, no observation', () => {
    const env = new WebShopEnv();
    const { obs } = env.reset({ seed: 3 });
    const p = buildPrompt(env, ctxFor(env, obs));
    expect(p).toContain(`Your task is to: ${env.instruction}.`);
    expect(p).toContain("[\n'search[<your query>]',\n'click[search]',\n].");
    expect(p).not.toContain('Observation');
    expect(p.trimEnd().endsWith('<action> </action> tags.')).toBe(true);
  });

  it('later turns: last 5 actions, non-final observations cut to 15 [SEP] items', () => {
    const env = new WebShopEnv();
    const { obs } = env.reset({ seed: 3 });
    const log = play(env, 3);
    const p = buildPrompt(env, ctxFor(env, obs, { turn: 3, current: log }));
    expect(p).toContain(`Action 1: ${log.steps[0].action}\nObservation 1: ${truncateSep(log.steps[0].obs, 15)}`);
    expect(truncateSep(log.steps[0].obs, 15)).toMatch(/ \.\.\. \(\d+ more\)$/);
    expect(p).toContain(`Observation 3: ${log.steps[2].obs}\n`);
    for (const a of env.admissibleActions()) expect(p).toContain(`'${a}',`);
    expect(truncateSep('a [SEP] b', 15)).toBe('a [SEP] b');
  });

  it('memory modes and the trial wording; reflect prompts end with <remark>', () => {
    const env = new WebShopEnv();
    const { obs } = env.reset({ seed: 3 });
    const past: EpisodeLog = { ...play(env, 2), reflection: 'search for the exact query next time' };
    env.restart();
    const refl = buildPrompt(env, ctxFor(env, obs, { episode: 1, past: [past] }));
    expect(refl).toContain(
      'On trial #1 the task was NOT completed. Your reflection on that trial:\nsearch for the exact query next time',
    );
    expect(refl).toContain('You are now on trial #2, starting again from the initial state.');
    const traj = buildPrompt(env, ctxFor(env, obs, { memory: 'trajectory', episode: 1, past: [past] }));
    expect(traj).toContain(`Action 2: ${past.steps[1].action}`);
    expect(traj).not.toContain('Your reflection');
    const none = buildPrompt(env, ctxFor(env, obs, { episode: 1, past: [{ ...past, reflection: undefined }] }));
    expect(none).toContain('On trial #1 the task was NOT completed.\n');
    const reflect = buildPrompt('lamer/WebShop-v0', ctxFor(env, obs, { phase: 'reflect', episode: 1, current: past }));
    expect(reflect).toContain('On trial #1 your last actions and observations were:\nAction 1:');
    expect(reflect.trimEnd().endsWith('will guide your next trial.')).toBe(true);
    expect(reflect).toContain('<remark> </remark>');
  });

  it('falls back to the short variant above 20,000 characters', () => {
    const env = new WebShopEnv();
    const { obs } = env.reset({ seed: 3 });
    const long = 'x'.repeat(WEBSHOP_PROMPT_CHAR_LIMIT);
    const log = play(env, 2);
    log.steps[0] = { action: 'search[x]', obs: long };
    const p = buildPrompt(env, ctxFor(env, obs, { turn: 2, current: log, memory: 'trajectory', episode: 0 }));
    expect(p.length).toBeLessThan(WEBSHOP_PROMPT_CHAR_LIMIT);
    // only the last history line survives (the reference keeps `curr_traj.split('\n')[-1]`)
    expect(p).toContain(`Your most recent actions and observations:\nObservation 2: ${log.steps[1].obs}\n`);
    expect(p).not.toContain('Action 1:');
    expect(p).not.toContain('Action 2:');
  });

  it('needs the env instance for play prompts', () => {
    const env = new WebShopEnv();
    const { obs } = env.reset({ seed: 3 });
    expect(() => buildPrompt('lamer/WebShop-v0', ctxFor(env, obs))).toThrow(/env instance/);
  });

  it('reflections use the last <remark> pair, capped at 2000 characters', () => {
    expect(parseReflection('lamer/WebShop-v0', 'full', '<remark>a</remark> then <remark> b </remark>')).toEqual({
      reflection: 'b',
      valid: true,
    });
    expect(parseReflection('lamer/WebShop-v0', 'full', 'no tags')).toEqual({ reflection: '', valid: false });
  });
});

describe('WebShop compact prompts', () => {
  it('use only vocabulary words, list choices, and end with <action>; the shopper answers with a choice', () => {
    const env = new WebShopEnv({ template: 'compact' });
    const vocab = new Set(compactVocabulary('lamer/WebShop-v0'));
    for (const seed of [0, 1, 2, 3, 70000]) {
      const { obs } = env.reset({ seed });
      const log: EpisodeLog = { steps: [], won: false };
      for (let t = 0; t < 12 && !env.episodeOver; t++) {
        const p = buildPrompt(env, ctxFor(env, obs, { turn: t, current: log }));
        const words = p.split(' ');
        expect(words.filter((w) => !vocab.has(w))).toEqual([]);
        expect(words[words.length - 1]).toBe('<action>');
        expect(p).toContain('<choices> <c1>');
        const r = env.step(scriptedAction(env));
        expect(r.info.valid).toBe(true);
        log.steps.push({ action: r.info.actionText, obs: r.obs });
      }
      expect(env.episodeOver).toBe(true);
      const reflect = buildPrompt(env, ctxFor(env, obs, { phase: 'reflect', episode: 1, current: log }));
      expect(reflect.split(' ').filter((w) => !vocab.has(w))).toEqual([]);
      expect(reflect.endsWith('<remark>')).toBe(true);
      const r = templateReflection(env, 'compact', obs, log);
      const parsed = parseReflection('lamer/WebShop-v0', 'compact', r);
      expect(parsed.valid).toBe(true);
      expect(parsed.reflection.split(' ')[0]).toBe('search');
    }
  });

  it('choices show product titles and whole-dollar prices rounded up', () => {
    const env = new WebShopEnv({ template: 'compact' });
    const { obs } = env.reset({ seed: 4 });
    env.step(scriptedAction(env));
    const p = buildPrompt(
      env,
      ctxFor(env, obs, { turn: 1, current: { steps: [{ action: 'search[x]', obs: '' }], won: false } }),
    );
    const first = env.catalogue.byAsin.get(env.siteView().state.results[0]);
    const dollars = String(Math.ceil(Math.max(...(first?.pricing ?? [0]))))
      .split('')
      .join(' ');
    expect(p).toContain(
      `<c3> product ${(first?.title ?? '')
        .toLowerCase()
        .match(/[a-z]+|[0-9]/g)
        ?.slice(0, 10)
        .join(' ')} $ ${dollars}`,
    );
    expect(oracleAction(env)).toMatch(/^click\[/);
  });

  it('no two choices of a page read the same (the search page offers the query and its button)', () => {
    const env = new WebShopEnv({ template: 'compact' });
    const rng = createRng(5);
    let pages = 0;
    for (let seed = 0; seed < 60; seed++) {
      const { obs } = env.reset({ seed });
      const log: EpisodeLog = { steps: [], won: false };
      for (let t = 0; t < 12 && !env.episodeOver; t++) {
        const p = buildPrompt(env, ctxFor(env, obs, { turn: t, current: log }));
        const items = p
          .split('<choices>')[1]
          .split('</choices>')[0]
          .split(/<c\d+>/)
          .slice(1)
          .map((x) => x.trim());
        expect(items).toHaveLength(env.compactChoices().length);
        expect(new Set(items).size).toBe(items.length);
        if (env.siteView().state.page === 'search') expect(items).toEqual(['search', 'click search']);
        pages++;
        // The shopper's path plus random detours, so pages it never visits (reviews, later result pages) occur too.
        const r = env.step(rng.next() < 0.3 ? rng.pick(env.admissibleActions()) : scriptedAction(env));
        log.steps.push({ action: r.info.actionText, obs: r.obs });
      }
    }
    expect(pages).toBeGreaterThan(300);
  });
});

describe('WebShop env checker', () => {
  it('passes for 1,000 seeds in both templates; the scripted shopper wins every task within 12 turns', () => {
    for (const template of ['full', 'compact']) {
      const report = checkEnv('webshop', { episodes: 1000, maxTurns: 12, options: { template } });
      expect(report.failures).toEqual([]);
      expect(report).toMatchObject({
        ok: true,
        deterministic: true,
        restartExact: true,
        rulesConsistent: true,
        solverSuccess: 1,
        solverSuccessWithinTurns: 1,
      });
      expect(report.randomSuccess).toBeLessThan(0.1);
    }
    const val = checkEnv('webshop', { episodes: 500, seedStart: 2 ** 16, maxTurns: 12 });
    expect(val).toMatchObject({ ok: true, solverSuccess: 1 });
  }, 120_000);
});
