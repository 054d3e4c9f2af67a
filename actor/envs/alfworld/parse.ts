/**
 * ALFWorld action parsing. Full template (LaMer `alfworld/projection.py`): the response is lower-cased, the
 * command is the text between the first `<action>` and the first `</action>`, stripped; without both tags the
 * last 30 characters are sent instead and the turn is invalid. A tagged command the game does not admit is
 * still valid (the game answers "Nothing happens."). Compact template: one choice word `<cN>` naming the N-th
 * admissible command of the prompt, nothing else.
 */
import { compactWords, lowerCaseAction } from '../tags.js';

export interface ParsedCommand {
  command: string;
  valid: boolean;
}

/** Most admissible commands a compact prompt lists (choice words `<c1>`..`<c64>`). */
export const ALFWORLD_MAX_CHOICES = 64;

export const alfworldChoiceMarker = (i: number): string => `<c${i + 1}>`;

export function parseAlfworldFull(response: string): ParsedCommand {
  const { text, valid } = lowerCaseAction(response, 30);
  return { command: text, valid };
}

export function parseAlfworldCompact(response: string, choices: readonly string[]): ParsedCommand {
  const invalid = { command: '', valid: false };
  const words = compactWords(String(response), '</action>');
  if (words?.length !== 1) return invalid;
  const m = /^<c([1-9]\d*)>$/.exec(words[0]);
  if (!m) return invalid;
  const n = Number(m[1]);
  if (n > Math.min(choices.length, ALFWORLD_MAX_CHOICES)) return invalid;
  return { command: choices[n - 1], valid: true };
}
