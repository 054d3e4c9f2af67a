/**
 * WebShop's search engine: BM25 over one text field per product (title, description, first bullet point and
 * the option text, lower-cased — `search_engine/convert_product_file_format.py`), top 50 hits. The original
 * uses pyserini/Lucene (BM25 k1=0.9, b=0.4, English stemming and stop words); this uses minisearch's BM25 with
 * the same k1 and b, the plain BM25 form (delta 0), stop-word removal and a light plural stemmer. Ties are
 * broken by catalogue order so results are deterministic.
 */
import MiniSearch from 'minisearch';
import type { Product } from './types.js';

/** Hits per search (WebShop `SEARCH_RETURN_N`). */
export const SEARCH_RETURN_N = 50;

const STOP = new Set([
  'a',
  'an',
  'and',
  'are',
  'as',
  'at',
  'be',
  'but',
  'by',
  'for',
  'if',
  'in',
  'into',
  'is',
  'it',
  'no',
  'not',
  'of',
  'on',
  'or',
  'such',
  'that',
  'the',
  'their',
  'then',
  'there',
  'these',
  'they',
  'this',
  'to',
  'was',
  'will',
  'with',
]);

/** Lower-case, split on anything but letters and digits, drop stop words, strip a plural 's'. */
export function searchTerms(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (raw.length === 0 || STOP.has(raw)) continue;
    out.push(raw.length > 3 && raw.endsWith('s') && !raw.endsWith('ss') ? raw.slice(0, -1) : raw);
  }
  return out;
}

/** The indexed text of a product. */
export function documentText(p: Product): string {
  const optionText = Object.entries(p.options)
    .map(([name, values]) => `${name}: ${values.join(', ')}`)
    .join(', and ');
  return [p.title, p.description, p.bulletPoints[0] ?? '', optionText].join(' ').toLowerCase();
}

export class ProductSearch {
  private readonly index: MiniSearch<{ id: number; text: string }>;
  private readonly asins: string[];

  constructor(products: readonly Product[]) {
    this.asins = products.map((p) => p.asin);
    // Index and queries share one tokenizer, so a query term matches exactly the indexed form.
    this.index = new MiniSearch<{ id: number; text: string }>({
      fields: ['text'],
      idField: 'id',
      tokenize: (t) => searchTerms(t),
      processTerm: (t) => t,
      searchOptions: {
        bm25: { k: 0.9, b: 0.4, d: 0 },
        combineWith: 'OR',
        tokenize: (t) => searchTerms(t),
        processTerm: (t) => t,
      },
    });
    this.index.addAll(products.map((p, i) => ({ id: i, text: documentText(p) })));
  }

  /** Asins of the best `n` products for a query (empty for a query without terms). */
  search(query: string, n = SEARCH_RETURN_N): string[] {
    if (searchTerms(query).length === 0) return [];
    const hits = this.index.search(query);
    hits.sort((a, b) => b.score - a.score || (a.id as number) - (b.id as number));
    return hits.slice(0, n).map((h) => this.asins[h.id as number]);
  }
}
