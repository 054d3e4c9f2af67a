import { describe, expect, it } from 'vitest';
import { AlfWorldEnv } from '../../../../actor/envs/alfworld/env.js';
import { NOTHING_HAPPENS } from '../../../../actor/envs/alfworld/engine.js';
import { plannerCommand } from '../../../../actor/envs/alfworld/planner.js';
import { TASK_TYPES, alfworldTaskType, type TaskType } from '../../../../actor/envs/alfworld/tasks.js';
import { checkEnv } from '../../../../actor/envs/check-env.js';
import { buildPrompt, compactVocabulary, parseReflection } from '../../../../actor/envs/prompt.js';
import { replayActions } from '../../../../actor/envs/replay.js';
import { scriptedAction, templateReflection } from '../../../../actor/envs/scripted.js';
import type { EpisodeLog, PromptContext } from '../../../../actor/envs/types.js';
import { smallRoom } from './rooms.js';

const act = (c: string) => `Let me think.\n<action>${c}</action>`;

function ctxFor(env: AlfWorldEnv, initialObs: string, over: Partial<PromptContext> = {}): PromptContext {
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

describe('ALFWorld env', () => {
  it('first observation, rewards 10 on the goal step only, restart restores the household', () => {
    const env = new AlfWorldEnv();
    const first = env.resetToState(smallRoom());
    expect(first.obs).toMatch(/^-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room\./);
    expect(first.obs.endsWith('Your task is to: put a apple in fridge.')).toBe(true);
    expect(env.anchor()).toBe(first.obs);
    const cmds = ['go to countertop 1', 'take apple 1 from countertop 1', 'go to fridge 1', 'open fridge 1'];
    for (const c of cmds) {
      const r = env.step(act(c));
      expect(r).toMatchObject({ reward: 0, terminated: false, truncated: false });
      expect(r.info).toMatchObject({ won: false, valid: true, actionText: c });
      expect(env.anchor()).toBe(r.obs);
    }
    const win = env.step(act('move apple 1 to fridge 1'));
    expect(win).toMatchObject({
      obs: 'You move the apple 1 to the fridge 1.',
      reward: 10,
      terminated: true,
      truncated: false,
    });
    expect(win.info).toMatchObject({ won: true, episode: { r: 10, l: 5 } });
    expect(() => env.step(act('look'))).toThrow(/after the episode ended/);
    expect(env.restart()).toEqual(first);
    expect(env.snapshot()).toEqual(smallRoom());
  });

  const parsing =
    'parsing: first <action> to first </action>, lower-cased; missing tags send the last 30 characters (invalid)';
  it(parsing, () => {
    const env = new AlfWorldEnv();
    env.resetToState(smallRoom());
    expect(env.step('<ACTION> Go To Desk 1 </ACTION><action>look</action>').info).toMatchObject({
      valid: true,
      actionText: 'go to desk 1',
    });
    const bad = env.step('I think I should go to fridge 1 now');
    expect(bad.info).toMatchObject({ valid: false, actionText: 'i think i should go to fridge 1 now'.slice(-30) });
    expect(bad.obs).toBe(NOTHING_HAPPENS);
    const noop = env.step(act('fly to the moon'));
    expect(noop).toMatchObject({ obs: NOTHING_HAPPENS, reward: 0 });
    expect(noop.info.valid).toBe(true); // tagged but impossible commands are not penalised
  });

  it('compact: one choice word names an admissible command', () => {
    const env = new AlfWorldEnv({ template: 'compact' });
    env.resetToState(smallRoom());
    const choices = env.compactChoices();
    expect(choices[0]).toBe('go to cabinet 1');
    expect(env.step('<c2> </action>').info).toMatchObject({ valid: true, actionText: 'go to countertop 1' });
    expect(env.step('<c99> </action>').info).toMatchObject({ valid: false, actionText: 'invalid' });
    expect(env.step('<c1> <c2> </action>').info.valid).toBe(false);
    expect(env.step('go to desk 1 </action>').info.valid).toBe(false);
    expect(env.step('<c1>').info.valid).toBe(false); // no closing word
  });

  it("TextWorld's 50-command limit truncates", () => {
    const env = new AlfWorldEnv({ maxSteps: 4 });
    env.reset({ seed: 1 });
    for (let i = 0; i < 3; i++) expect(env.step(act('look')).truncated).toBe(false);
    const r = env.step(act('look'));
    expect(r).toMatchObject({ truncated: true, terminated: false, reward: 0 });
    expect(new AlfWorldEnv().params.maxSteps).toBe(50);
  });

  it('seeds fix the task type and split; taskType forces one; bad options are named', () => {
    const env = new AlfWorldEnv();
    expect(env.reset({ seed: 3 }).info).toMatchObject({ taskType: alfworldTaskType(3), split: 'train' });
    expect(env.reset({ seed: 2 ** 16 }).info).toMatchObject({
      taskType: 'pick_cool_then_place_in_recep',
      split: 'valid_ood',
    });
    const forced = new AlfWorldEnv({ taskType: 'pick_two_obj_and_place' });
    expect(forced.reset({ seed: 0 }).info.taskType).toBe('pick_two_obj_and_place');
    expect(() => new AlfWorldEnv({ taskType: 'dance' } as never)).toThrow(/taskType/);
    expect(() => new AlfWorldEnv({ scale: 'huge' } as never)).toThrow(/scale/);
  });

  it('the planner solves every task type from any state it is put in, also after random detours', () => {
    for (const type of TASK_TYPES) {
      const env = new AlfWorldEnv({ taskType: type as TaskType });
      for (let seed = 0; seed < 40; seed++) {
        env.reset({ seed });
        // a few random admissible commands first (the planner re-plans from wherever it is)
        for (let k = 0; k < seed % 5 && !env.episodeOver; k++) {
          const a = env.admissibleActions();
          env.step(act(a[(seed * 7 + k * 3) % a.length]));
        }
        let won = env.episodeOver && env.snapshot() !== null;
        for (let t = 0; t < 40 && !env.episodeOver; t++)
          won = env.step(act(plannerCommand(env.snapshot()) ?? 'look')).info.won;
        expect(won, `${type} seed ${seed}`).toBe(true);
      }
    }
  });

  it('replays actions from a seed (lamer replay)', () => {
    const env = new AlfWorldEnv();
    env.reset({ seed: 12 });
    const actions: string[] = [];
    while (!env.episodeOver) {
      const c = plannerCommand(env.snapshot()) as string;
      actions.push(c);
      env.step(act(c));
    }
    const res = replayActions('alfworld', { seed: 12, actions });
    expect(res.initial).toMatch(/Your task is to: /);
    expect(res.steps[res.steps.length - 1]).toMatchObject({ won: true, reward: 10, terminated: true });
    expect(() => replayActions('alfworld', { seed: 12, actions: [...actions, 'look'] })).toThrow(
      /after the episode ended/,
    );
    expect(() => replayActions('alfworld', { actions })).toThrow(/'seed'/);
    expect(replayActions('webshop', { seed: 3, actions: ['search[shampoo]'] }).steps[0]).toMatchObject({
      valid: true,
      reward: 0,
    });
  });
});

describe('ALFWorld prompts', () => {
  it('full play: first observation, history with full observations, admissible commands', () => {
    const env = new AlfWorldEnv();
    const { obs } = env.reset({ seed: 2 });
    const log: EpisodeLog = { steps: [], won: false };
    for (let i = 0; i < 2; i++) {
      const r = env.step(scriptedAction(env));
      log.steps.push({ action: r.info.actionText, obs: r.obs });
    }
    const p = buildPrompt(env, ctxFor(env, obs, { turn: 2, current: log }));
    expect(p).toContain(`Your first observation was:\n${obs}`);
    expect(p).toContain(`Action 1: ${log.steps[0].action}\nObservation 1: ${log.steps[0].obs}`);
    expect(p).toContain(
      `[\n${env
        .admissibleActions()
        .map((a) => `'${a}',`)
        .join('\n')}\n].`,
    );
    expect(p).not.toContain("'help'");
    const reflect = buildPrompt('alfworld', ctxFor(env, obs, { phase: 'reflect', episode: 1, current: log }));
    expect(reflect).toContain('On trial #1 your last actions and observations were:');
    expect(parseReflection('alfworld', 'full', '<remark>x</remark><remark>y</remark>')).toEqual({
      reflection: 'y',
      valid: true,
    });
  });

  it('compact prompts stay in the vocabulary and end with the opening tag; scripted replies parse', () => {
    const vocab = new Set(compactVocabulary('lamer/ALFWorld-v0'));
    for (const scale of ['alfworld', 'small'] as const) {
      const env = new AlfWorldEnv({ template: 'compact', scale });
      for (const seed of [0, 1, 2, 3, 2 ** 16 + 4, 2 ** 16 + 5]) {
        const { obs } = env.reset({ seed });
        const log: EpisodeLog = { steps: [], won: false };
        while (!env.episodeOver) {
          const words = buildPrompt(env, ctxFor(env, obs, { turn: log.steps.length, current: log })).split(' ');
          expect(words.filter((w) => !vocab.has(w))).toEqual([]);
          expect(words[words.length - 1]).toBe('<action>');
          const r = env.step(scriptedAction(env));
          expect(r.info.valid).toBe(true);
          log.steps.push({ action: r.info.actionText, obs: r.obs });
        }
        const words = buildPrompt(env, ctxFor(env, obs, { phase: 'reflect', episode: 1, current: log })).split(' ');
        expect(words.filter((w) => !vocab.has(w))).toEqual([]);
        expect(words[words.length - 1]).toBe('<remark>');
        const parsed = parseReflection('alfworld', 'compact', templateReflection(env, 'compact', obs, log));
        expect(parsed.valid).toBe(true);
        expect(parsed.reflection.length).toBeGreaterThan(0);
      }
    }
  });
});

describe('ALFWorld env checker', () => {
  it('passes for 1,000 seeds in both templates, the planner solving every task within 30 turns (eval limit)', () => {
    for (const template of ['full', 'compact']) {
      const report = checkEnv('alfworld', { episodes: 1000, maxTurns: 30, options: { template } });
      expect(report.failures).toEqual([]);
      expect(report).toMatchObject({
        ok: true,
        deterministic: true,
        restartExact: true,
        rulesConsistent: true,
        solverSuccess: 1,
        solverSuccessWithinTurns: 1,
      });
    }
    const val = checkEnv('alfworld', { episodes: 600, seedStart: 2 ** 16, maxTurns: 30 });
    expect(val).toMatchObject({ ok: true, solverSuccess: 1 });
  }, 120_000);
});
