/**
 * WebShop's purchase score (`web_agent_site/engine/goal.py::get_reward`):
 *   score = r_type · (n_attr + n_option + [price ≤ bound]) / (|goal attributes| + |goal options| + 1)
 * - attributes: a goal attribute matches if some product attribute has token-set ratio > 85 with it, or it is a
 *   substring of the title, bullet points or description (lower case);
 * - options: each *purchased* option value (colour-normalised) matches if, for the option 'size', it equals a
 *   goal value exactly, otherwise has token-set ratio > 85 with one, or else is a substring of the title, bullet
 *   points or description;
 * - r_type: 1, or 0.5 when neither the query, two category levels nor >20% of the goal title's nouns agree;
 *   0.1 when under 10% of the nouns agree, 0 when none do.
 * Fuzzy matching is fuzzball's token_set_ratio (a port of thefuzz, which WebShop uses).
 */
import * as fuzz from 'fuzzball';
import type { Goal, Product } from './types.js';

/** Option names matched exactly (WebShop `EXACT_MATCH_OPTS`). */
export const EXACT_MATCH_OPTIONS: readonly string[] = ['size'];

/** WebShop's colour list: an option value containing one of these is reduced to the first one found. */
export const COLOR_SET: readonly string[] = [
  'alabaster',
  'apricot',
  'aqua',
  'ash',
  'asphalt',
  'azure',
  'banana',
  'beige',
  'black',
  'blue',
  'blush',
  'bordeaux',
  'bronze',
  'brown',
  'burgundy',
  'camel',
  'camo',
  'caramel',
  'champagne',
  'charcoal',
  'cheetah',
  'chestnut',
  'chocolate',
  'christmas',
  'coffee',
  'cognac',
  'copper',
  'coral',
  'cranberry',
  'cream',
  'crystal',
  'dark',
  'denim',
  'eggplant',
  'elephant',
  'espresso',
  'fuchsia',
  'gold',
  'granite',
  'grape',
  'graphite',
  'grass',
  'gray',
  'green',
  'grey',
  'heather',
  'indigo',
  'ivory',
  'ivy',
  'khaki',
  'lavender',
  'lemon',
  'leopard',
  'light',
  'lilac',
  'lime',
  'magenta',
  'maroon',
  'mauve',
  'merlot',
  'midnight',
  'mint',
  'mocha',
  'multicolor',
  'mushroom',
  'mustard',
  'natural',
  'navy',
  'nude',
  'olive',
  'orange',
  'peach',
  'pewter',
  'pink',
  'plum',
  'purple',
  'rainbow',
  'red',
  'rose',
  'royal',
  'rust',
  'sand',
  'sapphire',
  'seashell',
  'silver',
  'skull',
  'slate',
  'steel',
  'stone',
  'stonewash',
  'sunflower',
  'tan',
  'taupe',
  'teal',
  'tiger',
  'turquoise',
  'violet',
  'walnut',
  'wheat',
  'white',
  'wine',
  'yellow',
];

/** The first colour of COLOR_SET contained in the value, else the value itself. */
export function normalizeColor(value: string): string {
  for (const c of COLOR_SET) if (value.includes(c)) return c;
  return value;
}

/** thefuzz-compatible token-set ratio (0..100). */
export function tokenSetRatio(a: string, b: string): number {
  return fuzz.token_set_ratio(a, b);
}

export interface TypeReward {
  rType: number;
  queryMatch: boolean;
  categoryMatch: boolean;
  titleScore: number;
}

/** r_type from query, category path and title-noun overlap. */
export function typeReward(bought: Product, goal: Goal, goalNouns: readonly string[]): TypeReward {
  const queryMatch = bought.query === goal.query;
  const levels = (s: string) => new Set(s.split('›').map((x) => x.trim()));
  const goalLevels = levels(goal.productCategory);
  let common = 0;
  for (const l of levels(bought.productCategory)) if (goalLevels.has(l)) common++;
  const categoryMatch = common >= 2;
  const boughtNouns = new Set(bought.titleNouns);
  const desired = new Set(goalNouns);
  let shared = 0;
  for (const n of desired) if (boughtNouns.has(n)) shared++;
  const titleScore = desired.size === 0 ? 0.2 : shared / desired.size;
  let rType = 1;
  if (!(queryMatch || categoryMatch || titleScore > 0.2)) rType = 0.5;
  if (titleScore < 0.1) rType = 0.1;
  if (titleScore === 0) rType = 0;
  return { rType, queryMatch, categoryMatch, titleScore };
}

function inText(p: Product, phrase: string): boolean {
  return (
    p.title.toLowerCase().includes(phrase) ||
    p.bulletPoints.join(' ').toLowerCase().includes(phrase) ||
    p.description.toLowerCase().includes(phrase)
  );
}

/** Number of goal attributes the product satisfies. */
export function attributeMatches(p: Product, goalAttributes: readonly string[]): number {
  let n = 0;
  for (const g of goalAttributes) {
    if (p.attributes.some((a) => tokenSetRatio(a, g) > 85) || inText(p, g)) n++;
  }
  return n;
}

/** Number of purchased option values that match a goal option. */
export function optionMatches(
  p: Product,
  goalOptions: readonly string[],
  chosen: Readonly<Record<string, string>>,
): number {
  const goals = goalOptions.map(normalizeColor);
  let n = 0;
  for (const [name, raw] of Object.entries(chosen)) {
    const v = normalizeColor(raw);
    const matched = EXACT_MATCH_OPTIONS.includes(name.toLowerCase())
      ? goals.includes(v)
      : goals.some((g) => tokenSetRatio(g, v) > 85);
    if (matched || inText(p, v)) n++;
  }
  return n;
}

export interface PurchaseScore {
  /** WebShop's score in [0, 1]. */
  score: number;
  rType: number;
  attrMatches: number;
  optionMatches: number;
  priceOk: boolean;
  titleScore: number;
}

/**
 * Score of buying `bought` at `price` with the `chosen` options for `goal`. `goalNouns` are the nouns of the
 * goal's target title (the product's `titleNouns` when it is in the catalogue).
 */
export function purchaseScore(
  bought: Product,
  goal: Goal,
  price: number,
  chosen: Readonly<Record<string, string>>,
  goalNouns: readonly string[],
): PurchaseScore {
  const t = typeReward(bought, goal, goalNouns);
  const goalOptionValues = Object.values(goal.goalOptions);
  const attrMatches = attributeMatches(bought, goal.attributes);
  const optMatches = optionMatches(bought, goalOptionValues, chosen);
  const priceOk = goal.priceUpper > 0 ? price <= goal.priceUpper : false;
  const denom = goal.attributes.length + goalOptionValues.length + 1;
  const score = (t.rType * (attrMatches + optMatches + (priceOk ? 1 : 0))) / denom;
  return { score, rType: t.rType, attrMatches, optionMatches: optMatches, priceOk, titleScore: t.titleScore };
}
