/**
 * A new env is one folder plus one registration line: the test env in ./fixture-env/ (env.ts and spec.ts), registered
 * below, passes the checker `lamer check-env` runs, builds prompts, replays and runs trials through the same code as
 * the real envs, without any central module knowing it. Broken variants of it fail the checker.
 */
import { describe, expect, it } from 'vitest';
import { runPresetTrials } from '../../../actor/backends/eval-trials.js';
import type { TextPolicy } from '../../../actor/backends/openai.js';
import { getPreset } from '../../../actor/backends/presets.js';
import { checkEnv } from '../../../actor/envs/check-env.js';
import { buildPrompt, compactVocabulary, parseReflection } from '../../../actor/envs/prompt.js';
import { listEnvs, makeEnv, registerEnv } from '../../../actor/envs/registry.js';
import { replayActions } from '../../../actor/envs/replay.js';
import { retryEpisodes } from '../../../actor/envs/retry.js';
import { scriptedAction, templateReflection } from '../../../actor/envs/scripted.js';
import type { EnvSpec, PromptContext } from '../../../actor/envs/types.js';
import { runDemoTrial, type TrialSettings } from '../../../actor/local-trials.js';
import { WordTokenizer } from '../../../shared/model/tokenizer.js';
import { LINE_ID, LineEnv } from './fixture-env/env.js';
import { lineSpec } from './fixture-env/spec.js';

registerEnv(lineSpec);

// Broken variants, registered under their own ids with the fixture's spec (the envs still report `test/Line-v0`, so
// its rules apply to them).
class GreedyLine extends LineEnv {
  override step(response: string) {
    const r = super.step(response);
    if (!r.info.won) return r;
    const episode = r.info.episode && { ...r.info.episode, r: r.info.episode.r + 1 };
    return { ...r, reward: r.reward + 1, info: { ...r.info, episode } };
  }
}
class RestlessLine extends LineEnv {
  private restarts = 0;
  override restart() {
    // Every restart after the one inside reset() moves on to the next instance.
    return this.restarts++ % 2 === 0 ? super.restart() : this.reset({ seed: 1000 + this.restarts });
  }
}
const variant = (id: string, over: Partial<EnvSpec>) =>
  registerEnv({ ...lineSpec, id, aliases: [], description: 'broken', ...over });
variant('test/GreedyLine-v0', { make: (o) => new GreedyLine(o) });
variant('test/RestlessLine-v0', { make: (o) => new RestlessLine(o) });

const ctx = (initialObs: string, template: 'full' | 'compact'): PromptContext => ({
  template,
  phase: 'play',
  memory: 'reflection',
  initialObs,
  episode: 1,
  turn: 0,
  current: { steps: [], won: false },
  past: [{ steps: [{ action: 'left', obs: initialObs }], won: false, reflection: 'right right' }],
});

const settings = (over: Partial<TrialSettings> = {}): TrialSettings => ({
  envId: 'line',
  envOptions: {},
  template: 'compact',
  memory: 'reflection',
  attempts: 3,
  maxTurns: 6,
  reflect: true,
  nCtx: 128,
  maxActionTokens: 4,
  maxReflectTokens: 8,
  ...over,
});

describe('a new env: one folder and one registerEnv line', () => {
  it('is registered by id and alias', () => {
    expect(listEnvs().find((e) => e.id === LINE_ID)).toEqual({
      id: LINE_ID,
      aliases: ['line'],
      description: 'test env: walk a line to the goal',
    });
    expect(makeEnv('LINE', { length: 4 }).params).toMatchObject({ length: 4, template: 'full' });
  });

  it.each(['full', 'compact'] as const)('passes check-env (%s template), its own rules included', (template) => {
    const r = checkEnv('line', { episodes: 200, options: { template } });
    expect(r.failures).toEqual([]);
    expect(r).toMatchObject({
      env: LINE_ID,
      deterministic: true,
      restartExact: true,
      rulesConsistent: true,
      ok: true,
      solverSuccess: 1,
    });
    // The rule check's return value (the distance) is the solution length: 1..5 on a line of 6.
    expect(r.meanSolutionLength).toBeGreaterThanOrEqual(1);
    expect(r.meanSolutionLength).toBeLessThanOrEqual(5);
    expect(r.randomSuccess).toBeLessThan(1);
  });

  it('a broken variant fails check-env: rewards against its rules, a restart that changes the instance', () => {
    const greedy = checkEnv('test/GreedyLine-v0', { episodes: 20 });
    expect(greedy.ok).toBe(false);
    expect(greedy.rulesConsistent).toBe(false);
    expect(greedy.failures.join('\n')).toMatch(/solver step \d+ reward 2 with won=true/);
    const restless = checkEnv('test/RestlessLine-v0', { episodes: 20 });
    expect(restless.ok).toBe(false);
    expect(restless.restartExact).toBe(false);
  });

  it('a spec whose solver does not solve fails its rules', () => {
    // This env reports its own id, so prompts, the scripted policy and the rules all come from its spec.
    class LostLine extends LineEnv {
      override readonly id = 'test/LostLine-v0';
    }
    variant('test/LostLine-v0', {
      make: (o) => new LostLine(o),
      scripted: {
        ...lineSpec.scripted,
        act: (env, rng, noise, memory) => {
          const a = lineSpec.scripted.act(env, rng, noise, memory);
          const away = a.full === 'left' ? 'right' : 'left';
          return { full: away, compact: [away] };
        },
      },
    });
    const r = checkEnv('test/LostLine-v0', { episodes: 10 });
    expect(r.solverSuccess).toBe(0);
    expect(r.rulesConsistent).toBe(false);
    expect(r.failures.join('\n')).toMatch(/the solver took \d+ moves for distance \d+/);
  });

  it('builds prompts in both templates from its content; parses reflections; scripted replies', () => {
    const full = makeEnv('line');
    const obs = full.reset({ seed: 4 }).obs;
    const text = buildPrompt(full, ctx(obs, 'full'));
    expect(text.startsWith('You walk along a line of cells.')).toBe(true);
    expect(text).toContain(`The initial state of the game is:\n${obs}`);
    expect(text).toContain('On trial #1 the task was NOT completed. Your reflection on that trial:\nright right');
    expect(text.endsWith('Give your next move, left or right, inside <action> </action> tags.')).toBe(true);
    expect(scriptedAction(full)).toMatch(/^<action>(left|right)<\/action>$/);

    const compact = makeEnv('line', { template: 'compact' });
    const cObs = compact.reset({ seed: 4 }).obs;
    const words = buildPrompt(compact, ctx(cObs, 'compact')).split(' ');
    expect(words.slice(0, 2)).toEqual(['line', '<board>']);
    expect(words.at(-1)).toBe('<action>');
    const vocab = new Set(compactVocabulary('line'));
    expect(words.filter((w) => !vocab.has(w))).toEqual([]);
    expect(parseReflection('line', 'compact', 'right right </remark>')).toEqual({
      reflection: 'right right',
      valid: true,
    });
    expect(parseReflection('line', 'compact', 'up </remark>').valid).toBe(false);
    const refl = templateReflection(compact, 'compact', cObs, { steps: [], won: false });
    expect(parseReflection('line', 'compact', refl).valid).toBe(true);
  });

  it('replays a state file and keys retry metrics by action (the default)', () => {
    const env = makeEnv('line');
    const obs = env.reset({ seed: 2 }).obs;
    const toGoal = obs.indexOf('G') < obs.indexOf('P') ? 'left' : 'right';
    const r = replayActions('line', { seed: 2, actions: ['jump', toGoal] });
    expect(r.initial).toBe(obs);
    expect(r.steps.map((s) => [s.action, s.valid, s.reward])).toEqual([
      ['jump', false, -0.1],
      [toGoal, true, r.steps[1].won ? 1 : -0.1],
    ]);
    expect(() => replayActions('line', { actions: [] })).toThrow(/'seed'/);
    const plays = [
      { episode: 0, actionText: 'left' },
      { episode: 0, actionText: 'right' },
    ];
    const steps = [
      { obs: 'a', terminated: false, won: false },
      { obs: 'b', terminated: true, won: true },
    ];
    expect(retryEpisodes('line', plays, steps)).toEqual([{ won: true, visited: ['left', 'right'] }]);
  });

  it('runs trials through the normal paths: scripted demonstrations and preset evaluation', async () => {
    const tok = new WordTokenizer([...compactVocabulary('line')]);
    const solved = await runDemoTrial(settings(), 7, tok, { noise: 0, seed: 1 });
    expect(solved.episodesWon).toEqual([true]);
    // Random play on a short budget: failed episodes get a reflection that parses.
    let reflections = 0;
    for (let seed = 0; seed < 10; seed++) {
      const r = await runDemoTrial(settings({ maxTurns: 2 }), seed, tok, { noise: 1, seed: 3 });
      for (const row of r.rows.filter((x) => x.phase === 'reflect')) {
        reflections++;
        expect(row.valid).toBe(true);
      }
    }
    expect(reflections).toBeGreaterThan(0);

    // A text backend that always walks right, with the full template.
    const backend: TextPolicy = {
      model: 'walk-right',
      complete: async () => ({ text: 'I go right. <action>right</action>', finish: 'stop', retries: 0 }),
    };
    const base = settings({ template: 'full', attempts: 2 });
    const results = await runPresetTrials(base, [0, 1, 2, 3], { kind: 'openai', backend }, getPreset('reflexion'), {
      temperature: 1,
      topP: 1,
      seed: 5,
    });
    for (const [i, r] of results.entries()) {
      const env = makeEnv('line');
      const obs = env.reset({ seed: i }).obs;
      const goalRight = obs.indexOf('G') > obs.indexOf('P');
      expect(r.episodesWon[0]).toBe(goalRight);
      expect(r.steps.length).toBe(r.rows.filter((x) => x.phase === 'play').length);
    }
  });
});
