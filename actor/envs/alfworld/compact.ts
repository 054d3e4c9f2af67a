/**
 * ALFWorld's compact template words: object and receptacle names, the words of the game's feedback and goal
 * templates, choice words `<c1>`..`<c64>`, and number words (../compact.ts). Text becomes lower-case words with
 * punctuation dropped, so "You arrive at cabinet 1. The cabinet 1 is closed." reads
 * `you arrive at cabinet 1 the cabinet 1 is closed`. Every text the engine produces stays inside this vocabulary.
 */
import { isNumberWord } from '../compact.js';
import { HELP_TEXT, NOTHING_HAPPENS, WELCOME } from './engine.js';
import { ALFWORLD_MAX_CHOICES, alfworldChoiceMarker } from './parse.js';
import { GOAL_TEMPLATES } from './tasks.js';
import { OBJECTS, RECEPTACLES } from './world.js';

export const ALFWORLD_MARKERS = [
  'alfworld',
  '<task>',
  '</task>',
  '<obs>',
  '</obs>',
  '<choices>',
  '</choices>',
  'invalid',
] as const;

const FIXED_TEXTS = [
  WELCOME,
  NOTHING_HAPPENS,
  HELP_TEXT,
  'Your task is to:',
  'You arrive at . The is open. In it, you see nothing a and , .',
  'The is closed.',
  'On the , you see',
  'You open the . You close the . You pick up the from the . You move the to the .',
  'You heat the using the . You cool the using the . You clean the using the . You sliced the with the .',
  'You turn on the . You are carrying: . You are not carrying anything.',
  'You are facing the . Next to it, you see nothing.',
  'You are in the middle of a room. Looking quickly around you, you see',
  'This is a hot and clean sliced . This is a cool and clean sliced . This is a clean sliced . This is a hot sliced .',
  'This is a cool sliced . This is a hot and clean . This is a cool and clean . This is a hot . This is a clean .',
  "This is a cold . This is on . This is off . This is a sliced . There's nothing special about .",
  'go to open close take from move to use heat cool clean slice with examine look inventory help put in on',
  ...Object.values(GOAL_TEMPLATES).flat(),
];

/** Lower-case word runs and numbers of a text; punctuation and braces dropped. */
export function alfworldWords(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+|\d+/g) ?? [];
}

const CHOICE_WORDS = Array.from({ length: ALFWORLD_MAX_CHOICES }, (_, i) => alfworldChoiceMarker(i));

/** Env words of the ALFWorld compact vocabulary (number words come from the shared list). */
export const ALFWORLD_COMPACT_WORDS: readonly string[] = [
  ...new Set<string>([
    ...ALFWORLD_MARKERS,
    ...CHOICE_WORDS,
    ...Object.keys(OBJECTS),
    ...Object.keys(RECEPTACLES),
    ...FIXED_TEXTS.flatMap(alfworldWords).filter((w) => !/^\d+$/.test(w) && !['obj', 'recep', 'toggle'].includes(w)),
  ]),
];

const VOCAB = new Set<string>(ALFWORLD_COMPACT_WORDS);

/** Is the word an ALFWorld compact word or a number word? */
export function inAlfworldVocabulary(w: string): boolean {
  return VOCAB.has(w) || isNumberWord(w);
}
