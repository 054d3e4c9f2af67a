/**
 * WebShop action parsing. Full template (LaMer `webshop/projection.py`): the whole response is lower-cased, the
 * action is the text between the first `<action>` and the first `</action>`, stripped; without both tags the
 * last 20 characters are sent instead (a no-op for the site) and the turn is invalid. Compact template: the
 * first word is a choice marker `<cN>` naming the N-th admissible action of the prompt; the search choice takes
 * the query words after it; anything else is invalid (a no-op).
 */
import { compactWords, lowerCaseAction } from '../tags.js';

export interface ParsedWebShopAction {
  /** What the site receives (`search[...]`, `click[...]`, or unparsable text that does nothing). */
  action: string;
  valid: boolean;
}

/** Most admissible actions a compact prompt lists (the choice markers `<c1>`..`<cN>` of the vocabulary). */
export const COMPACT_MAX_CHOICES = 40;

/** The admissible action that asks for a query. */
export const SEARCH_PLACEHOLDER = 'search[<your query>]';

/** The choice marker word of the i-th (0-based) admissible action. */
export const choiceMarker = (i: number): string => `<c${i + 1}>`;

export function parseFullAction(response: string): ParsedWebShopAction {
  const { text, valid } = lowerCaseAction(response, 20);
  return { action: text, valid };
}

/** `choices` are the admissible actions in prompt order (only the first COMPACT_MAX_CHOICES are offered). */
export function parseCompactAction(response: string, choices: readonly string[]): ParsedWebShopAction {
  const invalid = { action: '', valid: false };
  const words = compactWords(String(response), '</action>');
  if (!words || words.length === 0) return invalid;
  const m = /^<c([1-9]\d*)>$/.exec(words[0]);
  if (!m) return invalid;
  const n = Number(m[1]);
  if (n > Math.min(choices.length, COMPACT_MAX_CHOICES)) return invalid;
  const choice = choices[n - 1];
  const rest = words.slice(1);
  if (choice === SEARCH_PLACEHOLDER) {
    return rest.length === 0 ? invalid : { action: `search[${rest.join(' ')}]`, valid: true };
  }
  return rest.length === 0 ? { action: choice, valid: true } : invalid;
}

/** WebShop's `parse_action`: `name[arg]` (greedy, anchored at the start), else the whole text as the name. */
export function splitAction(action: string): { name: string; arg: string | null } {
  const m = /^(.+)\[(.+)\]/.exec(action);
  return m ? { name: m[1], arg: m[2] } : { name: action, arg: null };
}
