import { describe, expect, it } from 'vitest';
import { makeEnv } from '../../../actor/envs/registry.js';
import { parseReflection } from '../../../actor/envs/prompt.js';
import { scriptedAction, templateReflection } from '../../../actor/envs/scripted.js';
import type { EpisodeLog, TextEnv } from '../../../actor/envs/types.js';
import { createRng } from '../../../shared/rng.js';

function run(env: TextEnv, policy: () => string, maxTurns = 100): EpisodeLog {
  const log: EpisodeLog = { steps: [], won: false };
  for (let t = 0; t < maxTurns; t++) {
    const r = env.step(policy());
    log.steps.push({ action: r.info.actionText, obs: r.obs });
    if (r.terminated || r.truncated) {
      log.won = r.info.won;
      break;
    }
  }
  return log;
}

describe('scriptedAction', () => {
  it('formats responses for both templates, and they parse as valid', () => {
    for (const id of ['sokoban', 'minesweeper']) {
      for (const template of ['full', 'compact'] as const) {
        const env = makeEnv(id, { template });
        env.reset({ seed: 2 });
        const resp = scriptedAction(env);
        if (template === 'full') expect(resp).toMatch(/^<action>.+<\/action>$/);
        else expect(resp).toMatch(/^\S.* <\/action>$/);
        expect(env.step(resp).info.valid).toBe(true);
      }
    }
    const env = makeEnv('minesweeper');
    env.reset({ seed: 2 });
    expect(scriptedAction(env, 'compact')).toMatch(/^\d+ \d+ <\/action>$/);
  });

  it('solves every Sokoban level in the shortest number of moves, in either template', () => {
    for (const template of ['full', 'compact'] as const) {
      const env = makeEnv('sokoban', { template });
      for (let seed = 0; seed < 100; seed++) {
        const len = env.reset({ seed }).info.solutionLength as number;
        const log = run(env, () => scriptedAction(env));
        expect(log.won).toBe(true);
        const moves = log.steps.flatMap((s) => s.action.split(', ')).length;
        expect(moves).toBe(len);
      }
    }
  });

  it('noise = 1 gives uniformly random valid actions; noise = 0 is the deterministic solver', () => {
    const env = makeEnv('sokoban', { template: 'compact' });
    env.reset({ seed: 4 });
    const rng = createRng(1);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 4000; i++) {
      const w = scriptedAction(env, 'compact', rng, { noise: 1 }).split(' ')[0];
      counts[w] = (counts[w] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(['down', 'left', 'right', 'up']);
    for (const c of Object.values(counts)) expect(Math.abs(c - 1000)).toBeLessThan(150);
    const a = scriptedAction(env, 'compact', createRng(1));
    const b = scriptedAction(env, 'compact', createRng(2));
    expect(a).toBe(b);
    expect(() => scriptedAction(env, 'compact', rng, { noise: 2 })).toThrow(/noise must be in \[0, 1\]/);
  });

  it('noise makes weaker demonstrations (MineSweeper win rate drops with noise)', () => {
    const rate = (noise: number) => {
      const env = makeEnv('minesweeper');
      const rng = createRng(9);
      let wins = 0;
      for (let seed = 0; seed < 150; seed++) {
        env.reset({ seed });
        if (run(env, () => scriptedAction(env, 'full', rng, { noise })).won) wins++;
      }
      return wins / 150;
    };
    const clean = rate(0);
    const noisy = rate(0.3);
    expect(clean).toBeGreaterThan(0.85);
    expect(noisy).toBeLessThan(clean - 0.2);
  });
});

describe('templateReflection', () => {
  it('MineSweeper: names the mine that ended the episode and cells that were safe', () => {
    const env = makeEnv('minesweeper', {
      board: {
        mines: [
          [1, 1],
          [6, 6],
          [3, 4],
        ],
        firstClick: [6, 1],
      },
    });
    const initialObs = env.reset({ seed: 0 }).obs;
    const log = run(
      env,
      (() => {
        const moves = ['<action>(1, 2)</action>', 'oops', '<action>(3, 4)</action>'];
        let i = 0;
        return () => moves[i++];
      })(),
    );
    expect(log.won).toBe(false);
    const compact = templateReflection(env, 'compact', initialObs, log);
    expect(compact).toBe('mine 3 4 safe 1 2 </remark>');
    const full = templateReflection(env, 'full', initialObs, log);
    expect(full).toMatch(/hit a mine/);
    expect(parseReflection(env.id, 'full', full)).toEqual({
      reflection:
        'Mine at (3, 4): never open it. Safe to open first: (1, 2). Then open only cells the numbers prove safe.',
      valid: true,
    });
  });

  it('Sokoban: avoids the move that caused a dead end and gives a plan that solves the level', () => {
    const board = [
      '0: # # # # # # #',
      '1: # _ _ _ _ _ #',
      '2: # _ X O _ _ #',
      '3: # _ P _ _ _ #',
      '4: # _ _ _ X O #',
      '5: # _ _ _ _ _ #',
      '6: # # # # # # #',
    ].join('\n');
    const env = makeEnv('sokoban', { board, template: 'compact' });
    const initialObs = env.reset({ seed: 0 }).obs;
    const log = run(env, () => 'up </action>');
    expect(log.steps).toHaveLength(1); // pushing the box against the top wall is a dead end
    const refl = templateReflection(env, 'compact', initialObs, log);
    expect(refl.startsWith('avoid up plan ')).toBe(true);
    const parsed = parseReflection(env.id, 'compact', refl);
    expect(parsed.valid).toBe(true);
    env.restart();
    const plan = parsed.reflection.split(' ').slice(3);
    let won = false;
    for (const m of plan) won = env.step(`${m} </action>`).info.won;
    expect(won).toBe(true);
    // Without a dead end (truncation) there is no 'avoid' clause.
    const slow = makeEnv('sokoban', { board, template: 'compact', maxMoves: 2 });
    const o2 = slow.reset({ seed: 0 }).obs;
    const l2 = run(slow, () => 'still </action>', 1);
    expect(templateReflection(slow, 'compact', o2, l2).startsWith('plan ')).toBe(true);
  });
});
