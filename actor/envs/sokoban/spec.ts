/** Sokoban's `EnvSpec`: everything the registry and the central env modules know about it. */
import { z } from 'zod';
import type { CheckedEpisode, EnvSpec, RuleCheck } from '../types.js';
import { parseBoard } from './board.js';
import { SOKOBAN_ID, SokobanEnv, type SokobanOptions, SokobanOptionsSchema } from './env.js';
import { sokobanPrompt } from './prompt.js';
import { sokobanScripted } from './scripted.js';

const tidy = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * Generated levels are solvable with a shortest solution in range, the scripted solver takes exactly that many
 * moves, and every return equals the reward formula.
 */
const checkRules: RuleCheck = (ck, seed, reset, solved, random, options) => {
  const len = reset.info.solutionLength;
  const explicit = typeof options.board === 'string';
  const lo = typeof options.minSolution === 'number' ? options.minSolution : 5;
  const hi = typeof options.maxSolution === 'number' ? options.maxSolution : 21;
  if (typeof len !== 'number') ck.fail(`seed ${seed}: level has no solution`);
  else if (!explicit && (len < lo || len > hi)) ck.fail(`seed ${seed}: shortest solution ${len} outside ${lo}..${hi}`);
  const { level, state } = parseBoard(reset.obs);
  const onTarget = state.boxes.filter((x) => level.target[x]).length;
  // Per-move rewards: -0.1 each, +1/-1 per box onto/off a target, +10 at the end; 'still' costs -0.1 too.
  const check = (ep: CheckedEpisode, what: string) => {
    let moves = 0;
    let stills = 0;
    for (const r of ep.results) {
      const words = r.info.actionText.split(', ');
      stills += words.filter((w) => w === 'still').length;
      moves = r.info.moves as number;
    }
    const last = ep.results[ep.results.length - 1];
    const end = parseBoard(last.obs);
    const placed = end.state.boxes.filter((x) => end.level.target[x]).length;
    const expected = tidy(-0.1 * (moves + stills) + (placed - onTarget) + (ep.won ? 10 : 0));
    const total = tidy(ep.results.reduce((s, r) => s + r.reward, 0));
    if (Math.abs(total - expected) > 1e-6)
      ck.fail(`seed ${seed}: ${what} return ${total} != reward formula ${expected}`);
    if (last.truncated && moves < 30 && options.maxMoves === undefined)
      ck.fail(`seed ${seed}: ${what} truncated after ${moves} moves`);
    if (ep.won !== (placed === level.targetCells.length))
      ck.fail(`seed ${seed}: ${what} won flag disagrees with the board`);
  };
  check(solved, 'solver');
  check(random, 'random');
  if (!solved.won) ck.fail(`seed ${seed}: the scripted solver did not solve the level`);
  else if (typeof len === 'number') {
    const moves = solved.results[solved.results.length - 1].info.moves;
    if (moves !== len) ck.fail(`seed ${seed}: solver used ${String(moves)} moves, shortest is ${len}`);
  }
  return typeof len === 'number' ? len : null;
};

export const sokobanSpec: EnvSpec = {
  id: SOKOBAN_ID,
  aliases: ['sokoban'],
  description: 'Sokoban 6x6, 2 boxes (LaMer): push boxes onto targets; dead ends and a 30-move limit end an episode',
  make: (o) => new SokobanEnv(o as SokobanOptions),
  options: SokobanOptionsSchema,
  prompt: sokobanPrompt,
  scripted: sokobanScripted,
  checkRules,
  // A level as the env renders it.
  replay: {
    state: z.strictObject({ board: z.string(), actions: z.array(z.string()) }),
    options: (s) => ({ board: s.board }),
  },
  retryKey: 'state',
};
