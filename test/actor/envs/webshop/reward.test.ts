import { describe, expect, it } from 'vitest';
import {
  attributeMatches,
  normalizeColor,
  optionMatches,
  purchaseScore,
  tokenSetRatio,
  typeReward,
} from '../../../../actor/envs/webshop/reward.js';
import type { Goal, Product } from '../../../../actor/envs/webshop/types.js';

const product = (over: Partial<Product> = {}): Product => ({
  asin: 'B000000001',
  title: 'Lumina Organic Shampoo',
  category: 'beauty',
  query: 'shampoo',
  productCategory: 'Beauty & Personal Care › Hair Care › Shampoos',
  bulletPoints: ['gentle formula for every day'],
  description: 'a mild wash.',
  attributes: ['sulfate free', 'dry hair'],
  options: { size: ['8 fl oz', '16 fl oz'], color: ['navy blue', 'black'] },
  priceTag: '$20.0',
  pricing: [20],
  price: 20,
  rating: 'N.A.',
  reviews: [],
  titleNouns: ['lumina', 'shampoo'],
  ...over,
});

const goal = (over: Partial<Goal> = {}): Goal => ({
  asin: 'B000000001',
  category: 'beauty',
  query: 'shampoo',
  name: 'Lumina Organic Shampoo',
  productCategory: 'Beauty & Personal Care › Hair Care › Shampoos',
  instructionText: 'i need a sulfate free shampoo',
  attributes: ['sulfate free', 'dry hair'],
  priceUpper: 30,
  goalOptions: { color: 'navy blue', size: '8 fl oz' },
  weight: 1,
  ...over,
});

const NOUNS = ['lumina', 'shampoo'];
const perfect = { color: 'navy blue', size: '8 fl oz' };

describe('WebShop purchase score', () => {
  it('is 1 for the right product, options and price', () => {
    const s = purchaseScore(product(), goal(), 20, perfect, NOUNS);
    expect(s).toMatchObject({ score: 1, rType: 1, attrMatches: 2, optionMatches: 2, priceOk: true });
  });

  it('= r_type * (attributes + options + price) / (|attributes| + |options| + 1)', () => {
    // one wrong option, price over the bound: (2 + 1 + 0) / 5
    const s = purchaseScore(product(), goal(), 35, { color: 'black', size: '8 fl oz' }, NOUNS);
    expect(s.score).toBeCloseTo(3 / 5);
    expect(s.priceOk).toBe(false);
    // no option selected: purchased options are what is counted
    expect(purchaseScore(product(), goal(), 20, {}, NOUNS).score).toBeCloseTo(3 / 5);
    // a goal without options: denominator |attributes| + 1
    expect(purchaseScore(product(), goal({ goalOptions: {} }), 20, {}, NOUNS).score).toBe(1);
  });

  it('price must not exceed the bound (equal is fine)', () => {
    expect(purchaseScore(product(), goal(), 30, perfect, NOUNS).priceOk).toBe(true);
    expect(purchaseScore(product(), goal(), 30.01, perfect, NOUNS).priceOk).toBe(false);
  });

  it('attributes match by token-set ratio > 85 or as a substring of title, bullets or description', () => {
    expect(tokenSetRatio('sulfate free', 'free sulfate')).toBe(100);
    expect(attributeMatches(product({ attributes: ['free sulfate'] }), ['sulfate free'])).toBe(1);
    expect(attributeMatches(product({ attributes: ['paraben free'] }), ['sulfate free'])).toBe(0);
    expect(attributeMatches(product({ attributes: [], description: 'made for dry hair.' }), ['dry hair'])).toBe(1);
    expect(attributeMatches(product({ attributes: [], title: 'Sulfate Free Shampoo' }), ['sulfate free'])).toBe(1);
    expect(attributeMatches(product({ attributes: [], bulletPoints: ['Sulfate free'] }), ['sulfate free'])).toBe(1);
  });

  it('the option "size" matches exactly, other options fuzzily (a subset of tokens is a match)', () => {
    const p = product({ bulletPoints: [], description: '', title: 'Shampoo' });
    expect(optionMatches(p, ['8 fl oz'], { size: '8 fl oz' })).toBe(1);
    expect(optionMatches(p, ['large'], { size: 'x-large' })).toBe(0); // exact for size
    expect(optionMatches(p, ['large'], { style: 'x-large' })).toBe(1); // token-set ratio 100 for other names
    expect(optionMatches(p, ['black'], { color: 'white' })).toBe(0);
    // a wrong purchased value still counts when it is written in the product text
    expect(optionMatches(product({ description: 'comes in white' }), ['black'], { color: 'white' })).toBe(1);
  });

  it('colours are normalised to the first WebShop colour they contain', () => {
    expect(normalizeColor('navy blue')).toBe('blue');
    expect(normalizeColor('heather grey')).toBe('grey');
    expect(normalizeColor('ruby red')).toBe('red');
    expect(normalizeColor('16 fl oz')).toBe('16 fl oz');
    // so 'navy blue' and 'light blue' count as the same option
    const p = product({ bulletPoints: [], description: '', title: 'Shirt' });
    expect(optionMatches(p, ['navy blue'], { color: 'light blue' })).toBe(1);
  });

  const rType =
    'r_type: 1 on a shared query, category or title, 0.5 on a weak title overlap, 0.1 below 10%, 0 with no shared noun';
  it(rType, () => {
    const g = goal();
    expect(typeReward(product(), g, NOUNS).rType).toBe(1);
    const other = (nouns: string[], query: string, cat: string) =>
      product({ titleNouns: nouns, query, productCategory: cat });
    // 1 of 4 goal nouns (25% > 20%) is enough even with another query and category
    expect(typeReward(other(['lumina'], 'soap', 'X › Y'), g, ['lumina', 'a', 'b', 'c']).rType).toBe(1);
    // 1 of 5 (20%, not > 20%), different query and category: 0.5
    expect(typeReward(other(['lumina'], 'soap', 'X › Y'), g, ['lumina', 'a', 'b', 'c', 'd']).rType).toBe(0.5);
    // same query but 1 of 11 nouns (< 10%): 0.1
    expect(typeReward(other(['lumina'], 'shampoo', 'X › Y'), g, ['lumina', ...'abcdefghij'.split('')]).rType).toBe(0.1);
    // no shared noun: 0 whatever else matches
    expect(typeReward(other(['soap'], 'shampoo', g.productCategory), g, NOUNS).rType).toBe(0);
    // two shared category levels count as a category match
    expect(
      typeReward(other(['lumina'], 'soap', 'Beauty & Personal Care › Hair Care › Conditioners'), g, [
        'lumina',
        'a',
        'b',
        'c',
        'd',
      ]).categoryMatch,
    ).toBe(true);
  });

  it('a wrong product type scores 0 however well the rest matches', () => {
    const s = purchaseScore(product({ titleNouns: ['soap'] }), goal(), 20, perfect, NOUNS);
    expect(s.score).toBe(0);
  });
});
