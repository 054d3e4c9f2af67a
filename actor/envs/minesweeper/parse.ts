/**
 * MineSweeper action parsing. Full template (the reference's projection): the first `(int, int)` inside the first
 * `<action>…</action>` block, tags case-sensitive; validity is about the text only, so `(0, 3)` parses (and then
 * costs -1 as an out-of-range click). Compact: exactly two number words of the vocabulary (0..32) before
 * `</action>`, e.g. `2 3 </action>`.
 */
import { isNumberWord } from '../compact.js';
import { between, compactWords } from '../tags.js';
import type { Template } from '../types.js';

export interface ParsedClick {
  /** 1-indexed as written; meaningful only when valid. */
  row: number;
  col: number;
  valid: boolean;
}

const CLICK = /\(( *\d+) *, *(\d+) *\)/;

export function parseMineAction(response: string, template: Template): ParsedClick {
  const invalid: ParsedClick = { row: -1, col: -1, valid: false };
  if (template === 'compact') {
    const words = compactWords(response, '</action>');
    if (words?.length !== 2 || !isNumberWord(words[0]) || !isNumberWord(words[1])) return invalid;
    return { row: Number(words[0]), col: Number(words[1]), valid: true };
  }
  const body = between(response, '<action>', '</action>', 'first', 'first');
  if (body === null) return invalid;
  const m = CLICK.exec(body.trim());
  if (!m) return invalid;
  return { row: Number(m[1].trim()), col: Number(m[2]), valid: true };
}

/** History text of a click: `(r, c)`, or `no operation` for an unparsable reply (docs/method.md §6.2). */
export function clickText(p: ParsedClick): string {
  return p.valid ? `(${p.row}, ${p.col})` : 'no operation';
}
