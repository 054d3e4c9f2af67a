import { describe, expect, it } from 'vitest';
import { syntheticCatalogue } from '../../../../actor/envs/webshop/catalogue.js';
import { ProductSearch, SEARCH_RETURN_N, documentText, searchTerms } from '../../../../actor/envs/webshop/search.js';
import type { Product } from '../../../../actor/envs/webshop/types.js';

const doc = (
  asin: string,
  title: string,
  description = '',
  bullets: string[] = [''],
  options: Record<string, string[]> = {},
): Product => ({
  asin,
  title,
  category: 'x',
  query: 'x',
  productCategory: 'x',
  bulletPoints: bullets,
  description,
  attributes: [],
  options,
  priceTag: '$1.0',
  pricing: [1],
  price: 1,
  rating: 'N.A.',
  reviews: [],
  titleNouns: [],
});

describe('BM25 product search', () => {
  it('indexes title, description, first bullet and options, lower-cased (WebShop documents)', () => {
    const p = doc('B1', 'Red Shirt', 'Soft Cotton', ['Machine Wash', 'second bullet'], {
      size: ['small', 'large'],
      color: ['red'],
    });
    expect(documentText(p)).toBe('red shirt soft cotton machine wash size: small, large, and color: red');
  });

  it('terms: lower case, stop words dropped, plurals folded', () => {
    expect(searchTerms('The Shoes for Running, and a Bag!')).toEqual(['shoe', 'running', 'bag']);
    expect(searchTerms('glass dress')).toEqual(['glass', 'dress']); // -ss is not a plural
  });

  it('ranks documents with more query terms first, rarer terms weigh more, ties keep catalogue order', () => {
    const s = new ProductSearch([
      doc('B1', 'blue shirt'),
      doc('B2', 'red shirt cotton'),
      doc('B3', 'red shoes'),
      doc('B4', 'blue hat'),
      doc('B5', 'green tea'),
    ]);
    expect(s.search('red cotton shirt')[0]).toBe('B2');
    expect(s.search('red cotton shirt')).not.toContain('B5');
    expect(s.search('blue')).toEqual(['B1', 'B4']); // equal length and score: catalogue order
    expect(s.search('the of and')).toEqual([]);
    expect(s.search('unknownword')).toEqual([]);
  });

  it('returns at most 50 hits and finds goal products by their query and attributes', () => {
    const c = syntheticCatalogue(0, 1000);
    const s = new ProductSearch(c.products);
    expect(s.search('free')).toHaveLength(SEARCH_RETURN_N);
    let found = 0;
    for (const g of c.goals.slice(0, 200)) if (s.search([g.query, ...g.attributes].join(' ')).includes(g.asin)) found++;
    expect(found).toBe(200);
  });
});
