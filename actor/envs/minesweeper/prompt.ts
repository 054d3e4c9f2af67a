/**
 * MineSweeper prompt content. Full: the reference's sections (board size and mine count, cell states, goal,
 * reveal rules, `(row, col)` format) in this project's wording. Compact: cells as words, clicks as two number
 * words, reflections `mine r c` / `safe r c` clauses; with the env option `memoryOnBoard` the cells the policy's
 * reflections name as mines show the word `mine` on the current board.
 */
import { isNumberWord } from '../compact.js';
import type { PromptContent } from '../types.js';

function sizeOf(params: Readonly<Record<string, unknown>>, initialObs: string): number {
  if (typeof params.size === 'number') return params.size;
  return initialObs.split('\n').filter((l) => l.trim().length > 0).length;
}

function minesOf(params: Readonly<Record<string, unknown>>): number {
  return typeof params.mines === 'number' ? params.mines : 3;
}

/** Compact reflection grammar: clauses `mine r c` / `safe r c` with positive number words; may be empty. */
function validReflection(words: readonly string[]): boolean {
  if (words.length % 3 !== 0) return false;
  for (let i = 0; i < words.length; i += 3) {
    if (words[i] !== 'mine' && words[i] !== 'safe') return false;
    for (const w of [words[i + 1], words[i + 2]]) if (!isNumberWord(w) || w === '0') return false;
  }
  return true;
}

export const minesweeperPrompt: PromptContent = {
  fullHeader(params, initialObs) {
    const b = sizeOf(params, initialObs);
    const m = minesOf(params);
    return (
      `You are an expert Minesweeper player.
The board is a ${b} by ${b} grid with ${m} hidden mines. Rows and columns are numbered from 1 to ${b}.

# Cell States
- Unopened (?): not revealed yet; it may hide a mine.
- Blank (.): opened, no mine, and none of its eight neighbours holds a mine.
- Number (1-8): opened, no mine; the number counts the mines among its eight neighbours, diagonal ones included.
- Mine (*): an opened cell that holds a mine.

# Your Goal
Open every cell that does not hold a mine, without ever opening a mine.
Use the numbers to deduce which unopened cells hold mines and which are safe.

# Reveal Rules
Each turn you open exactly ONE unopened cell (?). What happens depends on the cell:
- Blank (.): it opens together with every connected blank cell and the numbered cells bordering them ` +
      `(automatic cascade).
- Number (1-8): only that cell opens, showing its count.
- Mine (*): the game ends at once and you lose.`
    );
  },
  fullPlayInstruction: () =>
    [
      `Now it's your turn to make a move.`,
      '- First reason step by step about the board: what the numbers imply for the unopened cells (?).',
      '- Then choose ONE unopened cell and give it in the format "(row, col)" inside <action> </action> tags.',
    ].join('\n'),
  remarkTags: 'last',
  windows: { play: 7, playObs: 2, reflect: 7, past: 7, pastObs: 2, compactPlay: 3, compactPast: 7 },
  compactHeader: (params) => ['minesweeper', 'mines', String(minesOf(params))],
  compactRow: (line) =>
    line
      .replace(/^\s*Row \d+:/, '')
      .trim()
      .split(/\s+/),
  compactAction(text) {
    const m = /^\((\d+), (\d+)\)$/.exec(text.trim());
    return m && isNumberWord(m[1]) && isNumberWord(m[2]) ? [m[1], m[2]] : ['none'];
  },
  compactReflectionValid: validReflection,
  compactBoardMemory(rows, reflections, params) {
    if (params.memoryOnBoard === false) return;
    for (const refl of reflections) {
      const w = refl.trim().split(/\s+/);
      for (let i = 0; i + 2 < w.length; i += 3) {
        if (w[i] !== 'mine') continue;
        const cell = rows[Number(w[i + 1]) - 1]?.[Number(w[i + 2]) - 1];
        if (cell === '?') rows[Number(w[i + 1]) - 1][Number(w[i + 2]) - 1] = 'mine';
      }
    }
  },
  compactWords: ['minesweeper', 'mines', '?', '.', '*', 'none', 'mine', 'safe'],
};
