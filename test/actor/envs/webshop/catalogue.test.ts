import { describe, expect, it } from 'vitest';
import { createRng } from '../../../../shared/rng.js';
import {
  goalIndexForSeed,
  goalSplit,
  syntheticCatalogue,
  TRAIN_SEED_SPACE,
} from '../../../../actor/envs/webshop/catalogue.js';
import { generateProducts, pyFloat } from '../../../../actor/envs/webshop/generate.js';
import {
  NO_PRICE_BOUND,
  PRICE_RANGE,
  drawPriceUpper,
  optionCombinations,
  shuffleGoals,
  syntheticGoals,
} from '../../../../actor/envs/webshop/goals.js';
import { titleNouns } from '../../../../actor/envs/webshop/nouns.js';
import type { Product } from '../../../../actor/envs/webshop/types.js';

describe('synthetic catalogue', () => {
  it('is a function of the seed; product i does not depend on the catalogue size', () => {
    const a = generateProducts(7, 50);
    const b = generateProducts(7, 50);
    expect(a).toEqual(b);
    expect(generateProducts(7, 20)).toEqual(a.slice(0, 20));
    expect(generateProducts(8, 20)).not.toEqual(a.slice(0, 20));
  });

  it('builds about 1,000 products with unique ids, attributes, options and 500 validation goals', () => {
    const c = syntheticCatalogue(0, 1000);
    expect(c.products).toHaveLength(1000);
    expect(new Set(c.products.map((p) => p.asin)).size).toBe(1000);
    expect(c.valGoals).toBe(500);
    expect(c.goals.length).toBeGreaterThan(3000);
    for (const p of c.products) {
      expect(p.asin).toMatch(/^B0[0-9A-Z]{8}$/);
      expect(p.attributes.length).toBeGreaterThanOrEqual(2);
      expect(Object.keys(p.options).length).toBeLessThanOrEqual(2);
      for (const values of Object.values(p.options)) expect(values.length).toBeGreaterThanOrEqual(2);
      // every attribute is stated in a bullet point, so the features page can confirm it
      for (const a of p.attributes) expect(p.bulletPoints.join(' ')).toContain(a);
      expect(p.instruction?.attributes.every((a) => p.attributes.includes(a))).toBe(true);
      expect(p.price).toBeGreaterThanOrEqual(p.pricing[0]);
      expect(p.price).toBeLessThanOrEqual(p.pricing[p.pricing.length - 1]);
    }
  });

  it('prints prices as Python floats', () => {
    expect(pyFloat(10)).toBe('10.0');
    expect(pyFloat(12.5)).toBe('12.5');
    expect(pyFloat(9.99)).toBe('9.99');
  });

  it('title nouns: type nouns and brands, not modifiers or attribute words', () => {
    expect(titleNouns('Velora Organic Moisturizing Shampoo, Sulfate Free')).toEqual(['velora', 'shampoo']);
    expect(titleNouns('Kestrel Bluetooth Wireless Earbuds')).toEqual(['kestrel', 'bluetooth', 'earbuds']);
  });
});

describe('goals (WebShop get_synthetic_goals)', () => {
  const product = (over: Partial<Product>): Product => ({
    asin: 'B000000001',
    title: 'Lumina Shampoo',
    category: 'beauty',
    query: 'shampoo',
    productCategory: 'A › B',
    bulletPoints: [],
    description: '',
    attributes: ['sulfate free'],
    options: {},
    priceTag: '$12.0',
    pricing: [12],
    price: 12,
    rating: 'N.A.',
    reviews: [],
    instruction: { text: 'i need a sulfate free shampoo', attributes: ['sulfate free'] },
    titleNouns: ['lumina', 'shampoo'],
    ...over,
  });

  it('the price bound is the larger of two of the next four multiples of $10 above the price', () => {
    const rng = createRng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const { upper, text } = drawPriceUpper(12.3, rng);
      expect([30, 40, 50]).toContain(upper); // two distinct of {20,30,40,50}: the max is never 20
      expect(text).toBe(`, and price lower than ${upper}.00 dollars`);
      seen.add(upper);
    }
    expect(seen).toEqual(new Set([30, 40, 50]));
    expect(drawPriceUpper(985, rng)).toEqual({ upper: NO_PRICE_BOUND, text: '' }); // only $990 above: no bound
    expect(PRICE_RANGE[0]).toBe(10);
    expect(PRICE_RANGE[98]).toBe(990);
  });

  it('one goal per option combination, option names sorted, instruction text as WebShop writes it', () => {
    expect(optionCombinations({ size: ['s', 'm'], color: ['red'] })).toEqual([
      { color: 'red', size: 's' },
      { color: 'red', size: 'm' },
    ]);
    const goals = syntheticGoals([product({ options: { size: ['8 fl oz', '16 fl oz'], scent: ['mint'] } })], 0);
    expect(goals).toHaveLength(2);
    expect(goals[0].instructionText).toMatch(
      /^i need a sulfate free shampoo with scent: mint, and size: 8 fl oz, and price lower than \d+\.00 dollars$/,
    );
    expect(goals[0].goalOptions).toEqual({ scent: 'mint', size: '8 fl oz' });
    expect(goals[0].priceUpper).toBe(goals[1].priceUpper); // one draw per product
    expect(syntheticGoals([product({ instruction: undefined })], 0)).toHaveLength(0);
  });

  it('weights are the mean inverse attribute frequency over all goals', () => {
    const goals = syntheticGoals(
      [
        product({ asin: 'B1', instruction: { text: 'x', attributes: ['a', 'b'] } }),
        product({ asin: 'B2', instruction: { text: 'y', attributes: ['a'] } }),
      ],
      0,
    );
    expect(goals[0].weight).toBeCloseTo((1 / 2 + 1 / 1) / 2);
    expect(goals[1].weight).toBeCloseTo(1 / 2);
  });

  it('the shuffle is fixed; seeds below 2^16 map to training goals, larger seeds to the 500 validation goals', () => {
    const c = syntheticCatalogue(0, 1000);
    const base = syntheticGoals(c.products, 0);
    expect(shuffleGoals(base)).toEqual(c.goals);
    for (const seed of [0, 1, 499, 12345, TRAIN_SEED_SPACE - 1]) {
      const i = goalIndexForSeed(c, seed);
      expect(i).toBeGreaterThanOrEqual(500);
      expect(goalSplit(c, i)).toBe('train');
    }
    for (const seed of [TRAIN_SEED_SPACE, TRAIN_SEED_SPACE + 499, 2 ** 31 - 5]) {
      const i = goalIndexForSeed(c, seed);
      expect(i).toBeLessThan(500);
      expect(goalSplit(c, i)).toBe('val');
    }
    expect(goalIndexForSeed(c, TRAIN_SEED_SPACE + 3)).toBe(3);
  });
});
