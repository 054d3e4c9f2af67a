/**
 * Tag extraction shared by the env parsers. The reference differs per env in whether the first or the last
 * occurrence of a tag counts (docs/method.md §2.5, §6), so callers choose explicitly.
 */

export type Occurrence = 'first' | 'last';

/**
 * Text between an opening and a closing tag, or null when either tag is missing. Tags are case-sensitive.
 * When the closing tag comes before the opening one the content is '' (Python slicing, as the reference).
 */
export function between(
  text: string,
  open: string,
  close: string,
  openAt: Occurrence,
  closeAt: Occurrence,
): string | null {
  const s = openAt === 'first' ? text.indexOf(open) : text.lastIndexOf(open);
  const e = closeAt === 'first' ? text.indexOf(close) : text.lastIndexOf(close);
  if (s < 0 || e < 0) return null;
  const from = s + open.length;
  return e > from ? text.slice(from, e) : '';
}

/**
 * The text-env projection of WebShop and ALFWorld (docs/method.md §6.3, §6.4): lower-case the response and take the
 * text between the first `<action>` and the first `</action>`; when a tag is missing the reference sends the last
 * `tailChars` characters instead (a no-op) and marks the turn invalid.
 */
export function lowerCaseAction(response: string, tailChars: number): { text: string; valid: boolean } {
  const lower = String(response).toLowerCase();
  const inner = between(lower, '<action>', '</action>', 'first', 'first');
  return inner === null ? { text: lower.slice(-tailChars), valid: false } : { text: inner.trim(), valid: true };
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

/** Maximum reflection length kept (docs/method.md §2.5). */
export const REFLECTION_CAP = 2000;
