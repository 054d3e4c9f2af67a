/**
 * Sokoban prompt content. Full: the reference's sections (symbols, goal, rules, the N-actions instruction) in
 * this project's wording. Compact: board symbols as words, moves as words, reflections `avoid <move>` and
 * `plan <moves…>` clauses.
 */
import type { PromptContent } from '../types.js';
import { SYMBOLS } from './board.js';

const COUNT_WORDS = ['ZERO', 'ONE', 'TWO', 'THREE', 'FOUR', 'FIVE'];
const MOVE_WORDS = ['up', 'down', 'left', 'right'];

function movesPerTurn(params: Readonly<Record<string, unknown>>): number {
  const n = params.movesPerTurn;
  return typeof n === 'number' && n >= 1 && n <= 5 ? n : 3;
}

const HEADER = `You are an expert Sokoban player.

# Symbols and Their Meaning
- Wall (\`#\`): blocks movement; you cannot walk through it or push anything into it.
- Floor (\`_\`): open space where you can walk and push boxes.
- Target (\`O\`): a spot where a box has to go.
- Box (\`X\`): push these onto the targets.
- Player (\`P\`): you; you walk around the grid and push boxes.
- Box on target (\`√\`): a box already placed on a target.
- Player on target (\`S\`): you, standing on a target.
Rows are numbered from 0 at the top.

# Goal
Push every box (\`X\`) onto a target (\`O\`). You win as soon as all boxes stand on targets.

# Rules
Your admissible actions are ["up", "down", "left", "right"].
You push a box by walking into it. Only one box can be pushed at a time, and boxes can never be pulled.
Neither you nor a box can pass through walls (\`#\`) or other boxes.
A box pushed into a corner or against a wall may never move again, so plan ahead to avoid such traps.`;

const REASON_LINE =
  '- First reason step by step about the current situation: where the boxes and targets are, ' +
  'a path that pushes a box toward a target, and traps (corners, walls) to avoid.';

/** Compact reflection grammar: clauses `avoid <move>` and `plan <move>+`, in any order; may be empty. */
function validReflection(words: readonly string[]): boolean {
  let i = 0;
  while (i < words.length) {
    const w = words[i++];
    if (w === 'avoid') {
      if (i >= words.length || !MOVE_WORDS.includes(words[i])) return false;
      i++;
    } else if (w === 'plan') {
      const start = i;
      while (i < words.length && MOVE_WORDS.includes(words[i])) i++;
      if (i === start) return false;
    } else {
      return false;
    }
  }
  return true;
}

export const sokobanPrompt: PromptContent = {
  fullHeader: () => HEADER,
  fullPlayInstruction(params) {
    const n = movesPerTurn(params);
    const count = COUNT_WORDS[n];
    return n === 1
      ? [
          `Now it's your turn: choose your next ONE action.`,
          REASON_LINE,
          '- Then give one admissible action inside <action> </action> tags.',
        ].join('\n')
      : [
          `Now it's your turn: choose your next ${count} actions.`,
          REASON_LINE,
          `- Then give ${count.toLowerCase()} admissible actions inside <action> </action> tags, separated by commas.`,
        ].join('\n');
  },
  remarkTags: 'first',
  windows: { play: 7, playObs: 2, reflect: 7, past: 7, pastObs: 2, compactPlay: 3, compactPast: 7 },
  compactHeader: () => ['sokoban'],
  compactRow: (line) =>
    line
      .replace(/^\s*\d+:/, '')
      .trim()
      .split(/\s+/),
  compactAction: (text) =>
    text
      .split(',')
      .map((w) => w.trim())
      .filter((w) => w.length > 0),
  compactReflectionValid: validReflection,
  compactWords: ['sokoban', ...Object.values(SYMBOLS), ...MOVE_WORDS, 'still', 'plan', 'avoid'],
};
