/**
 * Title nouns for WebShop's type reward. The original tags titles with spaCy (`en_core_web_lg`) and keeps
 * NOUN/PROPN tokens; a tagger model cannot be shipped here, so this is a lexicon plus a suffix heuristic:
 * words the synthetic catalogue knows are classified exactly (type nouns and brands are nouns; descriptors,
 * attribute and option words are not), and unknown words (loaded real data) count as nouns unless they are
 * stop words, numbers, units or look like adjectives/adverbs by suffix. It only has to agree with itself:
 * the same product always gets the same nouns, and a product's own title scores 1.
 */
import { BRANDS, PRODUCT_TYPES } from './lexicon.js';

const STOP_WORDS = new Set([
  'a',
  'an',
  'the',
  'and',
  'or',
  'for',
  'with',
  'without',
  'of',
  'in',
  'on',
  'to',
  'by',
  'from',
  'at',
  'as',
  'is',
  'are',
  'be',
  'it',
  'its',
  'this',
  'that',
  'these',
  'those',
  'your',
  'our',
  'my',
  'you',
  'we',
  'up',
  'out',
  'per',
  'pack',
  'count',
  'set',
  'piece',
  'pcs',
  'oz',
  'fl',
  'ounce',
  'ounces',
  'lb',
  'lbs',
  'pound',
  'pounds',
  'inch',
  'inches',
  'feet',
  'ft',
  'cm',
  'mm',
  'ml',
  'kg',
  'g',
  'x',
  'new',
  'plus',
  'pro',
  'max',
  'mini',
]);

const ADJECTIVE_SUFFIXES = ['ful', 'ous', 'ive', 'able', 'ible', 'less', 'ish', 'ly', 'ing', 'ed', 'est'];

const LEXICON_NOUNS = new Set<string>();
const LEXICON_OTHER = new Set<string>();

for (const b of BRANDS) LEXICON_NOUNS.add(b.toLowerCase());
for (const t of PRODUCT_TYPES) {
  // 'wireless', 'dark', 'green', 'running' modify the head noun: adjectives to a tagger.
  const words = t.noun.split(' ');
  words.forEach((w, i) => {
    if (w.length < 2) return;
    if (i < words.length - 1 && ['wireless', 'dark', 'green', 'running', 'storage', 'usb'].includes(w))
      LEXICON_OTHER.add(w);
    else LEXICON_NOUNS.add(w);
  });
}
for (const t of PRODUCT_TYPES) {
  const others = [...t.descriptors, ...t.attributes, ...Object.values(t.options).flat()];
  for (const phrase of others) {
    for (const w of phrase.split(/[^a-z0-9]+/)) if (w && !LEXICON_NOUNS.has(w)) LEXICON_OTHER.add(w);
  }
}

/** Lower-case word tokens of a title (letters only; numbers and punctuation split words). */
export function titleWords(title: string): string[] {
  return title
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((w) => w.length > 0);
}

/** Is this lower-case word a noun for the type reward? */
export function isNoun(word: string): boolean {
  if (LEXICON_NOUNS.has(word)) return true;
  if (LEXICON_OTHER.has(word)) return false;
  if (word.length < 2 || STOP_WORDS.has(word)) return false;
  return !ADJECTIVE_SUFFIXES.some((s) => word.length > s.length + 2 && word.endsWith(s));
}

/** The noun tokens of a title, in order, duplicates kept (as spaCy would list them). */
export function titleNouns(title: string): string[] {
  return titleWords(title).filter(isNoun);
}
