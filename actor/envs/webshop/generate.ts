/**
 * Seeded synthetic WebShop catalogue: products drawn from the lexicon's product types (brand, title modifiers,
 * 2-4 attributes, 0-2 option groups of 2-4 values, a price or price range, rating, reviews, bullet points,
 * description) and one synthetic instruction per product in the shape of items_ins_v2 (an opening, 1-3 of the
 * product's attributes, its query). Product i depends only on (seed, i), so catalogues of different sizes
 * share their first products.
 */
import { createRng, deriveSeed, type Rng } from '../../../shared/rng.js';
import {
  BRANDS,
  BULLET_FRAMES,
  DESCRIPTION_FRAMES,
  INSTRUCTION_LEADS,
  PRODUCT_TYPES,
  REVIEW_BODIES,
  REVIEW_TITLES,
  type ProductType,
} from './lexicon.js';
import { titleNouns } from './nouns.js';
import type { Product, Review } from './types.js';

const ASIN_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Python's `str(float)` for the prices WebShop prints ('$10.0', '$12.99'). */
export function pyFloat(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function titleCase(phrase: string): string {
  return phrase
    .split(' ')
    .map((w) => (w.length > 0 ? w[0].toUpperCase() + w.slice(1) : w))
    .join(' ');
}

/** Keeps `k` items of `items` chosen at random, in their original order. */
function subsetInOrder<T>(rng: Rng, items: readonly T[], k: number): T[] {
  const idx = rng
    .shuffle(items.map((_, i) => i))
    .slice(0, k)
    .sort((a, b) => a - b);
  return idx.map((i) => items[i]);
}

function joinAttributes(attrs: string[]): string {
  if (attrs.length <= 1) return attrs.join('');
  return `${attrs.slice(0, -1).join(', ')} and ${attrs[attrs.length - 1]}`;
}

function fill(frame: string, noun: string, attr: string): string {
  return frame.replaceAll('{noun}', noun).replaceAll('{attr}', attr);
}

function drawAsin(rng: Rng, taken: Set<string>): string {
  for (;;) {
    let s = 'B0';
    for (let i = 0; i < 8; i++) s += ASIN_CHARS[rng.int(ASIN_CHARS.length)];
    if (!taken.has(s)) {
      taken.add(s);
      return s;
    }
  }
}

function drawOptions(rng: Rng, type: ProductType): Record<string, string[]> {
  const groups = Object.keys(type.options);
  const r = rng.next();
  const k = Math.min(groups.length, r < 0.1 ? 0 : r < 0.45 ? 1 : 2);
  const chosen = subsetInOrder(rng, groups, k);
  const out: Record<string, string[]> = {};
  for (const g of chosen) {
    const values = type.options[g];
    const m = Math.min(values.length, 2 + rng.int(3));
    out[g] = subsetInOrder(rng, values, m);
  }
  return out;
}

function drawProduct(seed: number, index: number, taken: Set<string>): Product {
  const rng = createRng(deriveSeed(seed, 'webshop-product', index));
  const type = rng.pick(PRODUCT_TYPES);
  const brand = rng.pick(BRANDS);
  const descriptors = subsetInOrder(rng, type.descriptors, 1 + rng.int(2));
  const attributes = rng.shuffle(type.attributes.slice()).slice(0, 2 + rng.int(3));
  let title = [brand, ...descriptors.map(titleCase), titleCase(type.noun)].join(' ');
  if (rng.next() < 0.5) title += `, ${titleCase(attributes[0])}`;
  if (rng.next() < 0.3) title += ` - ${titleCase(attributes[1])}`;

  const options = drawOptions(rng, type);
  const [lo, hi] = type.price;
  const p = round2(lo + rng.next() * (hi - lo));
  let pricing = [p];
  let price = p;
  if (rng.next() < 0.1) {
    const p2 = round2(p * (1.1 + 0.3 * rng.next()));
    pricing = [p, p2];
    price = p + rng.next() * (p2 - p); // WebShop: random.uniform(*pricing[:2])
  }
  const priceTag =
    pricing.length === 1 ? `$${pyFloat(pricing[0])}` : `$${pyFloat(pricing[0])} to $${pyFloat(pricing[1])}`;
  const rating = rng.next() < 0.3 ? 'N.A.' : pyFloat(3 + 0.5 * rng.int(5));
  const reviews: Review[] = [];
  const nReviews = rng.int(4);
  for (let i = 0; i < nReviews; i++) {
    reviews.push({ title: rng.pick(REVIEW_TITLES), score: 1 + rng.int(5), body: rng.pick(REVIEW_BODIES) });
  }
  // Every attribute appears in a bullet point, so the features page can confirm it.
  const bulletPoints = attributes.map((a) => fill(BULLET_FRAMES[rng.int(BULLET_FRAMES.length - 1)], type.noun, a));
  if (rng.next() < 0.5) bulletPoints.push(fill(BULLET_FRAMES[BULLET_FRAMES.length - 1], type.noun, ''));
  const description = [0, 1].map(() => fill(rng.pick(DESCRIPTION_FRAMES), type.noun, rng.pick(attributes))).join(' ');

  const nInstr = 1 + rng.int(Math.min(3, attributes.length));
  const instrAttrs = attributes.slice(0, nInstr);
  const article = type.category === 'food' ? 'some' : /^[aeiou]/.test(instrAttrs[0]) ? 'an' : 'a';
  const instruction = `${rng.pick(INSTRUCTION_LEADS)} ${article} ${joinAttributes(instrAttrs)} ${type.query}`;

  return {
    asin: drawAsin(rng, taken),
    title,
    category: type.category,
    query: type.query,
    productCategory: type.path.join(' › '),
    bulletPoints,
    description,
    attributes,
    options,
    priceTag,
    pricing,
    price,
    rating,
    reviews,
    instruction: { text: instruction, attributes: instrAttrs },
    titleNouns: titleNouns(title),
  };
}

/** `count` products from `seed`; product i is a function of (seed, i) only (ids are made unique in order). */
export function generateProducts(seed: number, count: number): Product[] {
  const taken = new Set<string>();
  const out: Product[] = [];
  for (let i = 0; i < count; i++) out.push(drawProduct(seed, i, taken));
  return out;
}
