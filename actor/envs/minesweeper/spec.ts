/** MineSweeper's `EnvSpec`: everything the registry and the central env modules know about it. */
import { z } from 'zod';
import type { CheckedEpisode, EnvSpec, RuleCheck } from '../types.js';
import { MINESWEEPER_ID, MineSweeperEnv, type MineSweeperOptions, MineSweeperOptionsSchema } from './env.js';
import { minesweeperPrompt } from './prompt.js';
import { minesweeperScripted } from './scripted.js';

/** Every reward matches the board change it caused; mines terminate; `won` agrees with the board. */
const checkRules: RuleCheck = (ck, seed, reset, solved, random, options) => {
  const layout = options.board as { mines?: unknown[] } | undefined;
  const nMines = Array.isArray(layout?.mines)
    ? layout.mines.length
    : typeof options.mines === 'number'
      ? options.mines
      : 3;
  const hiddenOf = (obs: string) => (obs.match(/\?/g) ?? []).length;
  const mines = (obs: string) => (obs.match(/\*/g) ?? []).length;
  const check = (ep: CheckedEpisode, what: string) => {
    let prev = reset.obs;
    ep.results.forEach((r, t) => {
      const opened = hiddenOf(prev) - hiddenOf(r.obs);
      const boom = mines(r.obs) > 0;
      let expected: number;
      if (boom) expected = -0.1;
      else if (opened === 0) expected = -1;
      else if (r.info.won) expected = 10;
      else expected = opened === 1 ? 0.5 : 2;
      if (r.reward !== expected)
        ck.fail(`seed ${seed}: ${what} step ${t + 1} reward ${r.reward}, board change implies ${expected}`);
      if (boom !== (r.terminated && !r.info.won))
        ck.fail(`seed ${seed}: ${what} step ${t + 1} mine/termination mismatch`);
      if (!boom && r.info.won !== (hiddenOf(r.obs) === nMines))
        ck.fail(`seed ${seed}: ${what} step ${t + 1} won flag disagrees with the board`);
      if (r.obs !== prev && !r.info.valid)
        ck.fail(`seed ${seed}: ${what} step ${t + 1} an invalid action changed the board`);
      prev = r.obs;
    });
  };
  check(solved, 'solver');
  check(random, 'random');
  return solved.won ? solved.turns : null;
};

const Pair = z.tuple([z.number().int(), z.number().int()]);

export const minesweeperSpec: EnvSpec = {
  id: MINESWEEPER_ID,
  aliases: ['minesweeper'],
  description: 'MineSweeper 6x6, 3 mines (LaMer): reveal every safe cell; the first click is automatic',
  make: (o) => new MineSweeperEnv(o as MineSweeperOptions),
  options: MineSweeperOptionsSchema,
  prompt: minesweeperPrompt,
  scripted: minesweeperScripted,
  checkRules,
  // An explicit layout (1-indexed cells).
  replay: {
    state: z.strictObject({
      size: z.number().int().min(2).max(30),
      mines: z.array(Pair),
      firstClick: Pair,
      actions: z.array(z.string()),
    }),
    options: (s) => ({ size: s.size, board: { mines: s.mines, firstClick: s.firstClick } }),
  },
};
