/**
 * Loader for the original WebShop data files (princeton-nlp/WebShop `web_agent_site/engine/engine.py::load_products`):
 * - products: `items_shuffle_1000.json` (small set) or `items_shuffle.json` (full set): an array of scraped
 *   products (`asin`, `name`, `full_description`, `small_description`, `pricing` like "$12.99" or "$10.00 - $15.00",
 *   `customization_options` {name: [{value, image}]}, `category`, `query`, `product_category`, ...);
 * - attributes: `items_ins_v2_1000.json` / `items_ins_v2.json`: {asin: {attributes, instruction,
 *   instruction_attributes}};
 * - optional `reviews.json`: [{asin, reviews: [{title, stars|score, review|body}], average_rating}].
 * The same cleaning as the original: ids 'nan' or longer than 10 characters and duplicates are skipped, option
 * names lower-cased, option values stripped, '/' → ' | ' and lower-cased, missing prices become $100.0, a price
 * range's purchase price is drawn uniformly (seeded here), products without attributes get ['DUMMY_ATTR'].
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { badInput } from '../../../shared/errors.js';
import { createRng, deriveSeed } from '../../../shared/rng.js';
import { assembleCatalogue } from './catalogue.js';
import { pyFloat } from './generate.js';
import { titleNouns } from './nouns.js';
import type { Catalogue, Product, Review } from './types.js';

/** File names of the small (default) and full sets. */
export const WEBSHOP_FILES = {
  small: { products: 'items_shuffle_1000.json', attributes: 'items_ins_v2_1000.json' },
  full: { products: 'items_shuffle.json', attributes: 'items_ins_v2.json' },
  reviews: 'reviews.json',
} as const;

export interface LoadOptions {
  /** Use the full set's file names instead of the 1000-product ones. */
  full?: boolean;
  /** Seeds the purchase prices of price ranges and the goal price bounds. */
  seed?: number;
  valGoals?: number;
  /** Keep only the first N products (the files are pre-shuffled, as WebShop assumes). */
  limit?: number;
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw badInput(
      `webshop data: cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badInput(`webshop data: ${what} '${path}' is not valid JSON: ${(e as Error).message}`);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));

/** '$12.99' → [12.99]; '$10.00 - $15.00' → [10, 15]; empty → [100] (WebShop's default). */
export function parsePricing(raw: unknown): { pricing: number[]; priceTag: string } {
  const text = str(raw);
  if (!text) return { pricing: [100], priceTag: '$100.0' };
  const pricing = text
    .split('$')
    .slice(1)
    .map((s) => Number(s.replace(/[^\d.]/g, '')))
    .filter((x) => Number.isFinite(x));
  if (pricing.length === 0) return { pricing: [100], priceTag: '$100.0' };
  if (pricing.length === 1) return { pricing, priceTag: `$${pyFloat(pricing[0])}` };
  return { pricing: pricing.slice(0, 2), priceTag: `$${pyFloat(pricing[0])} to $${pyFloat(pricing[1])}` };
}

function parseOptions(raw: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!isObj(raw)) return out;
  for (const [name, contents] of Object.entries(raw)) {
    if (!Array.isArray(contents)) continue;
    out[name.toLowerCase()] = contents
      .filter(isObj)
      .map((c) => str(c.value).trim().replaceAll('/', ' | ').toLowerCase());
  }
  return out;
}

function parseReviews(raw: unknown): { byAsin: Map<string, Review[]>; ratings: Map<string, string> } {
  const byAsin = new Map<string, Review[]>();
  const ratings = new Map<string, string>();
  if (!Array.isArray(raw)) return { byAsin, ratings };
  for (const r of raw) {
    if (!isObj(r)) continue;
    const asin = str(r.asin);
    const list = Array.isArray(r.reviews) ? r.reviews.filter(isObj) : [];
    byAsin.set(
      asin,
      list.map((x) => ({ title: str(x.title), score: Number(x.score ?? x.stars ?? 0), body: str(x.body ?? x.review) })),
    );
    const rating = r.average_rating;
    if (typeof rating === 'number')
      ratings.set(asin, pyFloat(rating)); // Python prints 3.0 as '3.0'
    else if (rating !== undefined && rating !== null && rating !== '') ratings.set(asin, str(rating));
  }
  return { byAsin, ratings };
}

/** Products from the parsed files (exported for tests and for data already in memory). */
export function productsFromData(
  rawProducts: unknown,
  rawAttributes: unknown,
  rawReviews: unknown,
  seed = 0,
): Product[] {
  if (!Array.isArray(rawProducts)) throw badInput('webshop data: the products file must hold a JSON array');
  if (!isObj(rawAttributes)) throw badInput('webshop data: the attributes file must hold a JSON object keyed by asin');
  const { byAsin: reviews, ratings } = parseReviews(rawReviews);
  const seen = new Set<string>();
  const out: Product[] = [];
  rawProducts.forEach((raw, i) => {
    if (!isObj(raw)) throw badInput(`webshop data: product #${i} is not an object`);
    const asin = str(raw.asin);
    if (!asin || asin === 'nan' || asin.length > 10 || seen.has(asin)) return;
    seen.add(asin);
    const { pricing, priceTag } = parsePricing(raw.pricing);
    const price =
      pricing.length === 1
        ? pricing[0]
        : pricing[0] + createRng(deriveSeed(seed, 'webshop-price-draw', asin)).next() * (pricing[1] - pricing[0]);
    const attrs = isObj(rawAttributes[asin]) ? (rawAttributes[asin] as Record<string, unknown>) : undefined;
    const attributes = attrs && Array.isArray(attrs.attributes) ? attrs.attributes.map(str) : ['DUMMY_ATTR'];
    const instrText = attrs?.instruction;
    const instrAttrs =
      attrs && Array.isArray(attrs.instruction_attributes) ? attrs.instruction_attributes.map(str) : [];
    const title = str(raw.name);
    const small = raw.small_description;
    out.push({
      asin,
      title,
      category: str(raw.category),
      query: str(raw.query).toLowerCase().trim(),
      productCategory: str(raw.product_category),
      bulletPoints: Array.isArray(small) ? small.map(str) : [str(small)],
      description: str(raw.full_description),
      attributes,
      options: parseOptions(raw.customization_options),
      priceTag,
      pricing,
      price,
      rating: ratings.get(asin) ?? 'N.A.',
      reviews: reviews.get(asin) ?? [],
      ...(typeof instrText === 'string' && instrAttrs.length > 0
        ? { instruction: { text: instrText, attributes: instrAttrs } }
        : {}),
      titleNouns: titleNouns(title),
    });
  });
  return out;
}

/** Loads a catalogue from a directory holding the original files (small set by default). */
export function loadWebShopData(dir: string, opts: LoadOptions = {}): Catalogue {
  const names = opts.full ? WEBSHOP_FILES.full : WEBSHOP_FILES.small;
  const productsPath = join(dir, names.products);
  const attrsPath = join(dir, names.attributes);
  for (const p of [productsPath, attrsPath]) {
    if (!existsSync(p))
      throw badInput(`webshop data: '${p}' not found (expected ${names.products} and ${names.attributes} in '${dir}')`);
  }
  const reviewsPath = join(dir, WEBSHOP_FILES.reviews);
  const rawReviews = existsSync(reviewsPath) ? readJson(reviewsPath, 'reviews file') : [];
  const seed = opts.seed ?? 0;
  let products = productsFromData(
    readJson(productsPath, 'products file'),
    readJson(attrsPath, 'attributes file'),
    rawReviews,
    seed,
  );
  if (opts.limit !== undefined) products = products.slice(0, opts.limit);
  return assembleCatalogue(products, { goalSeed: seed, valGoals: opts.valGoals ?? 500, source: dir });
}

const loaded = new Map<string, Catalogue>();

/** `loadWebShopData`, cached per (directory, options) for the process. */
export function cachedWebShopData(dir: string, opts: LoadOptions = {}): Catalogue {
  const key = JSON.stringify([dir, opts.full ?? false, opts.seed ?? 0, opts.valGoals ?? 500, opts.limit ?? null]);
  let c = loaded.get(key);
  if (!c) {
    c = loadWebShopData(dir, opts);
    loaded.set(key, c);
  }
  return c;
}
