/**
 * Catalogue construction and caching. Building a catalogue (products, goals, BM25 index) takes tens of
 * milliseconds to seconds, and a run holds dozens of env copies over the same catalogue, so each distinct
 * catalogue is built once per process and shared (it is never mutated after construction).
 */
import { badInput } from '../../../shared/errors.js';
import { generateProducts } from './generate.js';
import { shuffleGoals, syntheticGoals } from './goals.js';
import { ProductSearch } from './search.js';
import type { Catalogue, Goal, Product } from './types.js';

/** Validation goals of the reference split (LaMer `webshop/envs.py`: goals 0..499). */
export const DEFAULT_VAL_GOALS = 500;

/** Task seeds below this are training tasks, the rest validation (the project's seed convention). */
export const TRAIN_SEED_SPACE = 2 ** 16;

/** Assembles a catalogue from products: goals built, shuffled with the fixed seed, split at `valGoals`. */
export function assembleCatalogue(
  products: Product[],
  opts: { goalSeed: number; valGoals: number; source: string },
): Catalogue {
  const byAsin = new Map(products.map((p) => [p.asin, p]));
  if (byAsin.size !== products.length) throw badInput(`webshop catalogue ${opts.source}: duplicate product ids`);
  const goals = shuffleGoals(syntheticGoals(products, opts.goalSeed));
  if (goals.length < 2) throw badInput(`webshop catalogue ${opts.source}: needs at least 2 goals, has ${goals.length}`);
  // Small catalogues (fixtures) keep at least one training goal.
  const valGoals = Math.min(opts.valGoals, goals.length - 1);
  return { products, byAsin, goals, valGoals, source: opts.source };
}

const synthetic = new Map<string, Catalogue>();
const engines = new WeakMap<Catalogue, ProductSearch>();

/** The synthetic catalogue of `count` products from `seed` (cached per process). */
export function syntheticCatalogue(seed: number, count: number, valGoals = DEFAULT_VAL_GOALS): Catalogue {
  const key = `${seed}:${count}:${valGoals}`;
  let c = synthetic.get(key);
  if (!c) {
    c = assembleCatalogue(generateProducts(seed, count), {
      goalSeed: seed,
      valGoals,
      source: `synthetic:${seed}:${count}`,
    });
    synthetic.set(key, c);
  }
  return c;
}

/** The search engine over a catalogue (cached per catalogue object). */
export function searchEngineFor(c: Catalogue): ProductSearch {
  let e = engines.get(c);
  if (!e) {
    e = new ProductSearch(c.products);
    engines.set(c, e);
  }
  return e;
}

/**
 * Goal index of a task seed: seeds in [0, 2^16) draw a training goal (valGoals..end), larger seeds a validation
 * goal (0..valGoals-1). Every seed maps to exactly one goal, so a group's copies share it.
 */
export function goalIndexForSeed(c: Pick<Catalogue, 'goals' | 'valGoals'>, seed: number): number {
  const nTrain = c.goals.length - c.valGoals;
  if (seed < TRAIN_SEED_SPACE) return c.valGoals + (seed % nTrain);
  return c.valGoals > 0 ? (seed - TRAIN_SEED_SPACE) % c.valGoals : c.valGoals + (seed % nTrain);
}

/** 'train' or 'val' for a goal index. */
export function goalSplit(c: Pick<Catalogue, 'valGoals'>, index: number): 'train' | 'val' {
  return index < c.valGoals ? 'val' : 'train';
}

/** The goal's target product (its title nouns are the type reward's reference). */
export function goalTarget(c: Catalogue, goal: Goal): Product {
  const p = c.byAsin.get(goal.asin);
  if (!p) throw badInput(`webshop catalogue ${c.source}: goal refers to unknown product ${goal.asin}`);
  return p;
}
