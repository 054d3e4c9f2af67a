/**
 * Synthetic goals the way WebShop's `get_synthetic_goals` builds them: for every product with an instruction,
 * one goal per combination of its option values (option names sorted), instruction text
 * `<instruction> with <name>: <value>, and <name>: <value>, and price lower than <X>.00 dollars`, the product's
 * instruction attributes, and a price bound: the larger of two values drawn without replacement from the next
 * four multiples of $10 above the product's price (no bound when fewer than two exist). The goal list is then
 * shuffled once with a fixed seed; LaMer validates on goals 0..499 and trains on the rest.
 */
import { createRng, deriveSeed, type Rng } from '../../../shared/rng.js';
import type { Goal, Product } from './types.js';

/** $10, $20, ..., $990 (WebShop `PRICE_RANGE`). */
export const PRICE_RANGE: readonly number[] = Array.from({ length: 99 }, (_, i) => 10 * (i + 1));

/** Price bound used when the goal states none. */
export const NO_PRICE_BOUND = 1_000_000;

/** The fixed shuffle seed of the goal list (WebShop uses `random.seed(233)`). */
export const GOAL_SHUFFLE_SEED = 233;

/** Price bound and its instruction suffix for a product price. */
export function drawPriceUpper(price: number, rng: Rng): { upper: number; text: string } {
  const range = PRICE_RANGE.filter((p) => p > price).slice(0, 4);
  if (range.length < 2) return { upper: NO_PRICE_BOUND, text: '' };
  const i = rng.int(range.length);
  let j = rng.int(range.length - 1);
  if (j >= i) j++;
  const upper = Math.max(range[i], range[j]);
  return { upper, text: `, and price lower than ${upper.toFixed(2)} dollars` };
}

/** Cartesian product of the option values, option names sorted (WebShop order). */
export function optionCombinations(options: Record<string, string[]>): Array<Record<string, string>> {
  const names = Object.keys(options).sort();
  let combos: Array<Record<string, string>> = [{}];
  for (const name of names) {
    const next: Array<Record<string, string>> = [];
    for (const c of combos) for (const v of options[name]) next.push({ ...c, [name]: v });
    combos = next;
  }
  return combos;
}

/**
 * All synthetic goals of a catalogue, unshuffled, with weights. `seed` drives the price bounds (one draw per
 * product, shared by its goals as in WebShop).
 */
export function syntheticGoals(products: readonly Product[], seed: number): Goal[] {
  const goals: Goal[] = [];
  const attrCount = new Map<string, number>();
  for (const p of products) {
    if (!p.instruction || p.instruction.attributes.length === 0) continue;
    const { upper, text: priceText } = drawPriceUpper(p.price, createRng(deriveSeed(seed, 'webshop-price', p.asin)));
    for (const combo of optionCombinations(p.options)) {
      const optionText = Object.entries(combo)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', and ');
      goals.push({
        asin: p.asin,
        category: p.category,
        query: p.query,
        name: p.title,
        productCategory: p.productCategory,
        instructionText: `${p.instruction.text}${optionText ? ` with ${optionText}` : ''}${priceText}`,
        attributes: p.instruction.attributes.slice(),
        priceUpper: upper,
        goalOptions: combo,
        weight: 0,
      });
      for (const a of p.instruction.attributes) attrCount.set(a, (attrCount.get(a) ?? 0) + 1);
    }
  }
  for (const g of goals) {
    g.weight = g.attributes.reduce((s, a) => s + 1 / (attrCount.get(a) as number), 0) / g.attributes.length;
  }
  return goals;
}

/** The goal list in its fixed shuffled order (a copy). */
export function shuffleGoals(goals: readonly Goal[], seed = GOAL_SHUFFLE_SEED): Goal[] {
  return createRng(seed).shuffle(goals.slice());
}
