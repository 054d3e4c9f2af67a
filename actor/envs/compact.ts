/**
 * Building blocks of the compact template: marker words shared by every env and the number words. A compact
 * prompt is a sequence of these plus env words, joined by single spaces (one tokenizer token per word).
 */

/** Markers every compact prompt may use. Boards are flattened row by row with `<nl>` between rows. */
export const MARKERS = [
  '<board>',
  '</board>',
  '<nl>',
  '<mem>',
  '</mem>',
  '<hist>',
  '</hist>',
  '<trial>',
  '<reflect>',
  '<action>',
  '</action>',
  '<remark>',
  '</remark>',
  ',',
] as const;

/** Number words 0..COMPACT_MAX_NUMBER exist in the vocabulary (coordinates, counts, trial numbers). */
export const COMPACT_MAX_NUMBER = 32;

export const NUMBER_WORDS: readonly string[] = Array.from({ length: COMPACT_MAX_NUMBER + 1 }, (_, i) => String(i));

/** True for a number word of the vocabulary. */
export function isNumberWord(w: string): boolean {
  return /^(0|[1-9]\d?)$/.test(w) && Number(w) <= COMPACT_MAX_NUMBER;
}

/** Wraps the words of a board rendering: rows separated by `<nl>`, row labels dropped by `cellsOfRow`. */
export function boardWords(obs: string, cellsOfRow: (line: string) => string[]): string[] {
  const out: string[] = ['<board>'];
  const lines = obs.split('\n').filter((l) => l.trim().length > 0);
  lines.forEach((line, i) => {
    if (i > 0) out.push('<nl>');
    out.push(...cellsOfRow(line));
  });
  out.push('</board>');
  return out;
}

/** A list of actions as words, separated by `,`: `<hist> 2 3 , 4 5 </hist>`. */
export function historyWords(actions: string[][]): string[] {
  const out: string[] = ['<hist>'];
  actions.forEach((a, i) => {
    if (i > 0) out.push(',');
    out.push(...a);
  });
  out.push('</hist>');
  return out;
}
