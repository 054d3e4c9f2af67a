/**
 * WebShop's compact template words. Page text becomes lower-case words (letters runs), single digits and the
 * symbols `$` and `.`; prices are shown as whole dollars rounded up (for an integer bound B, price ≤ B exactly
 * when ceil(price) ≤ B, so the comparison the task needs survives). The vocabulary is every word the synthetic
 * catalogue's lexicon and the fixed page texts can produce, so compact prompts over the built-in catalogue never
 * leave it; words of loaded real data outside it are written `<unk>`.
 *
 * Admissible actions are offered as numbered choices `<c1>`..`<c40>`; the model answers with one choice word (the
 * search choice followed by query words), e.g. `<c3> </action>` or `<c1> yoga pants quick dry </action>`.
 */
import {
  BRANDS,
  BULLET_FRAMES,
  DESCRIPTION_FRAMES,
  INSTRUCTION_LEADS,
  PRODUCT_TYPES,
  REVIEW_BODIES,
  REVIEW_TITLES,
} from './lexicon.js';
import { COMPACT_MAX_CHOICES, choiceMarker } from './parse.js';

/** Structure words of WebShop compact prompts. */
export const WEBSHOP_MARKERS = [
  'webshop',
  '<task>',
  '</task>',
  '<page>',
  '</page>',
  '<choices>',
  '</choices>',
  '<unk>',
  'search',
  'results',
  'item',
  'description',
  'features',
  'reviews',
  'attributes',
  'done',
  'product',
  'click',
  'invalid',
  'pick',
  'under',
] as const;

// Fixed texts of pages, instructions and actions (everything the site renders besides catalogue data).
const FIXED_TEXTS = [
  'Back to Search',
  'Page (Total results: )',
  '< Prev',
  'Next >',
  'Price:',
  'Rating: N.A.',
  'Description',
  'Features',
  'Reviews',
  'Attributes',
  'Buy Now',
  'No Description',
  'No reviews found',
  'Thank you for shopping with us!',
  'Your score (min 0.0, max 1.0)',
  'Search',
  'with : , and price lower than dollars a an some to',
  'search click',
  '$ .',
];

/** Splits text into compact words: letter runs, single digits, `$` and `.` (other symbols dropped). */
export function textWords(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+|[0-9]|[$.]/g) ?? [];
}

function lexiconStrings(): string[] {
  const out: string[] = [
    ...FIXED_TEXTS,
    ...BRANDS,
    ...INSTRUCTION_LEADS,
    ...DESCRIPTION_FRAMES,
    ...BULLET_FRAMES,
    ...REVIEW_TITLES,
    ...REVIEW_BODIES,
  ];
  for (const t of PRODUCT_TYPES) {
    out.push(t.query, t.noun, t.category, ...t.attributes, ...t.descriptors);
    for (const [name, values] of Object.entries(t.options)) out.push(name, ...values);
  }
  return out.map((s) => s.replaceAll('{noun}', '').replaceAll('{attr}', ''));
}

const CHOICE_WORDS = Array.from({ length: COMPACT_MAX_CHOICES }, (_, i) => choiceMarker(i));

/** Env words of the WebShop compact vocabulary (markers, choice words, lexicon words, digits, `$`, `.`). */
export const WEBSHOP_COMPACT_WORDS: readonly string[] = [
  ...new Set<string>([
    ...WEBSHOP_MARKERS,
    ...CHOICE_WORDS,
    ...'0123456789'.split(''),
    '$',
    '.',
    ...lexiconStrings().flatMap(textWords),
  ]),
];

const VOCAB = new Set<string>(WEBSHOP_COMPACT_WORDS);

/** Compact words of a text; words outside the vocabulary become `<unk>`. */
export function compactText(text: string): string[] {
  return textWords(text).map((w) => (VOCAB.has(w) ? w : '<unk>'));
}

/** Is every word in the WebShop compact vocabulary? */
export function inWebShopVocabulary(words: readonly string[]): boolean {
  return words.every((w) => VOCAB.has(w));
}

/** Whole dollars rounded up, as digit words: 39.01 → ['4', '0']. */
export function priceWords(price: number): string[] {
  return String(Math.ceil(price - 1e-9)).split('');
}
