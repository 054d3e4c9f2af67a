/**
 * Sokoban action parsing (the reference's `sokoban/projection.py` rules for the full template; a strict word
 * grammar for the compact one).
 */
import { between, compactWords } from '../tags.js';
import type { Template } from '../types.js';

/** Parsed move words; 'still' is the no-op. */
export type MoveWord = 'up' | 'down' | 'left' | 'right' | 'still';

// Order matters for the full template: the first of these contained in a comma-separated piece wins.
const POOL: readonly MoveWord[] = ['up', 'down', 'left', 'right', 'still'];

export interface ParsedMoves {
  moves: MoveWord[];
  valid: boolean;
}

/**
 * Full: content between the first `<action>` and the last `</action>`, lower-cased, split on commas; each piece
 * contributes the first pool word it contains; at most `maxMoves` kept. Valid iff tags exist and one word was
 * found; otherwise a single 'still'.
 * Compact: the words before `</action>`, each exactly a move word; at most `maxMoves` kept (extra ignored).
 */
export function parseSokobanAction(response: string, template: Template, maxMoves: number): ParsedMoves {
  const invalid: ParsedMoves = { moves: ['still'], valid: false };
  if (template === 'compact') {
    const words = compactWords(response, '</action>');
    if (!words || words.length === 0) return invalid;
    if (!words.every((w) => (POOL as readonly string[]).includes(w))) return invalid;
    return { moves: (words as MoveWord[]).slice(0, maxMoves), valid: true };
  }
  const body = between(response, '<action>', '</action>', 'first', 'last');
  if (body === null) return invalid;
  const moves: MoveWord[] = [];
  for (const piece of body.trim().toLowerCase().split(',')) {
    const w = POOL.find((p) => piece.includes(p));
    if (w) moves.push(w);
  }
  if (moves.length === 0) return invalid;
  return { moves: moves.slice(0, maxMoves), valid: true };
}
