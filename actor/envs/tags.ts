/**
 * Tag extraction shared by the env parsers. The reference differs per env in whether the first or the last
 * occurrence of a tag counts (lamer-spec §2.5, §6), so callers choose explicitly.
 */

export type Occurrence = 'first' | 'last';

/**
 * Text between an opening and a closing tag, or null when either tag is missing. Tags are case-sensitive.
 * When the closing tag comes before the opening one the content is '' (Python slicing, as the reference).
 */
export function between(text: string, open: string, close: string, openAt: Occurrence, closeAt: Occurrence): string | null {
  const s = openAt === 'first' ? text.indexOf(open) : text.lastIndexOf(open);
  const e = closeAt === 'first' ? text.indexOf(close) : text.lastIndexOf(close);
  if (s < 0 || e < 0) return null;
  const from = s + open.length;
  return e > from ? text.slice(from, e) : '';
}

/**
 * Compact template: the prompt ends with the opening tag word, so the response is the content followed by the
 * closing tag word. Returns the words before the first closing tag, or null when it is missing.
 */
export function compactWords(response: string, close: string): string[] | null {
  const e = response.indexOf(close);
  if (e < 0) return null;
  const body = response.slice(0, e).trim();
  return body.length === 0 ? [] : body.split(/\s+/);
}

/** Maximum reflection length kept (lamer-spec §2.5). */
export const REFLECTION_CAP = 2000;
