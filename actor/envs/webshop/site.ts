/**
 * The WebShop site as the text environment sees it (`web_agent_text_env.py` SimServer/SimBrowser plus the page
 * templates): pages, their visible text, their clickables, and the transitions of `search[...]` and
 * `click[...]`. Pure state machine; the env wraps it with parsing and rewards.
 *
 * Pages: search → results (10 per page of the top 50, `next >` / `< prev`) → item (option values, description,
 * features, reviews, buy now, `< prev`, back to search) → description/features/reviews sub-pages (`< prev` back
 * to the item) → done (after buy now). `search[...]` works from any page, like the text env; `click[search]` is
 * listed on the first page but ignored, as in the original.
 */
import { pyFloat } from './generate.js';
import { purchaseScore, type PurchaseScore } from './reward.js';
import type { ProductSearch } from './search.js';
import type { Catalogue, Goal, Product } from './types.js';

/** Products per results page (WebShop `PRODUCT_WINDOW`). */
export const PRODUCT_WINDOW = 10;

export type PageKind = 'search' | 'results' | 'item' | 'description' | 'features' | 'reviews' | 'attributes' | 'done';

const SUB_PAGES = ['description', 'features', 'reviews', 'attributes'] as const;
type SubPage = (typeof SUB_PAGES)[number];

export type Clickable = { kind: 'button' } | { kind: 'product'; asin: string } | { kind: 'option'; name: string };

/** Everything that changes while shopping; plain data so a checkpoint is a structured clone. */
export interface SiteState {
  page: PageKind;
  keywords: string[] | null;
  /** 1-based results page. */
  resultsPage: number;
  /** Asins of the last search, best first. */
  results: string[];
  asin: string | null;
  /** Selected option values by option name. */
  options: Record<string, string>;
  /** Set by buy now. */
  purchase: PurchaseScore | null;
}

export interface ClickOutcome {
  /** WebShop score on purchase, else 0. */
  score: number;
  done: boolean;
}

export function initialSiteState(): SiteState {
  return { page: 'search', keywords: null, resultsPage: 1, results: [], asin: null, options: {}, purchase: null };
}

export class WebShopSite {
  state: SiteState = initialSiteState();

  constructor(
    private readonly catalogue: Catalogue,
    private readonly engine: ProductSearch,
    private readonly goal: Goal,
    private readonly goalNouns: readonly string[],
    private readonly showAttrs = false,
  ) {}

  private product(): Product {
    const p = this.state.asin ? this.catalogue.byAsin.get(this.state.asin) : undefined;
    if (!p) throw new Error(`webshop: page '${this.state.page}' has no product`);
    return p;
  }

  /** Products shown on the current results page. */
  pageProducts(): Product[] {
    const s = this.state;
    const from = (s.resultsPage - 1) * PRODUCT_WINDOW;
    return s.results.slice(from, from + PRODUCT_WINDOW).map((a) => this.catalogue.byAsin.get(a) as Product);
  }

  /** Visible text items after the instruction header, in page order (`[SEP]`-separated in the observation). */
  visibleParts(): string[] {
    const s = this.state;
    switch (s.page) {
      case 'search':
        return ['Search'];
      case 'results': {
        const parts = ['Back to Search', `Page ${s.resultsPage} (Total results: ${s.results.length})`];
        if (s.resultsPage > 1) parts.push('< Prev');
        if (s.resultsPage * PRODUCT_WINDOW < s.results.length) parts.push('Next >');
        for (const p of this.pageProducts()) parts.push(p.asin, p.title, p.priceTag);
        return parts;
      }
      case 'item': {
        const p = this.product();
        const parts = ['Back to Search', '< Prev'];
        for (const [name, values] of Object.entries(p.options)) parts.push(name, ...values);
        parts.push(p.title, `Price: ${p.priceTag}`, `Rating: ${p.rating}`, 'Description', 'Features', 'Reviews');
        if (this.showAttrs) parts.push('Attributes');
        parts.push('Buy Now');
        return parts;
      }
      case 'description':
        return ['Back to Search', '< Prev', this.product().description || 'No Description'];
      case 'features':
        return ['Back to Search', '< Prev', ...this.product().bulletPoints];
      case 'reviews': {
        const reviews = this.product().reviews;
        if (reviews.length === 0) return ['Back to Search', '< Prev', 'No reviews found'];
        return ['Back to Search', '< Prev', ...reviews.flatMap((r) => [`"${r.title}"`, String(r.score), r.body])];
      }
      case 'attributes':
        return ['Back to Search', '< Prev', ...this.product().attributes];
      case 'done':
        return [
          'Thank you for shopping with us!',
          'Your score (min 0.0, max 1.0)',
          pyFloat(this.state.purchase?.score ?? 0),
        ];
    }
  }

  /** The observation as LaMer's env manager formats it: each visible item in single quotes, joined by ` [SEP] `. */
  observation(): string {
    return this.visibleParts()
      .map((p) => `'${p}'`)
      .join(' [SEP] ');
  }

  hasSearchBar(): boolean {
    return this.state.page === 'search';
  }

  /** Lower-case clickable text → what it is; buttons and product links first, then option values (DOM order). */
  clickables(): Map<string, Clickable> {
    const s = this.state;
    const m = new Map<string, Clickable>();
    const button = (t: string) => m.set(t, { kind: 'button' });
    switch (s.page) {
      case 'search':
        button('search');
        break;
      case 'results':
        button('back to search');
        if (s.resultsPage > 1) button('< prev');
        if (s.resultsPage * PRODUCT_WINDOW < s.results.length) button('next >');
        for (const p of this.pageProducts()) m.set(p.asin.toLowerCase(), { kind: 'product', asin: p.asin });
        break;
      case 'item': {
        ['back to search', '< prev', 'description', 'features', 'reviews'].forEach(button);
        if (this.showAttrs) button('attributes');
        button('buy now');
        // A value shared by two option groups maps to the later group, as WebShop's dict does.
        for (const [name, values] of Object.entries(this.product().options))
          for (const v of values) m.set(v, { kind: 'option', name });
        break;
      }
      case 'description':
      case 'features':
      case 'reviews':
      case 'attributes':
        button('back to search');
        button('< prev');
        break;
      case 'done':
        break;
    }
    return m;
  }

  /** Admissible actions as LaMer lists them: `search[<your query>]` when a search bar shows, then `click[...]`. */
  availableActions(): string[] {
    const out = this.hasSearchBar() ? ['search[<your query>]'] : [];
    for (const k of this.clickables().keys()) out.push(`click[${k}]`);
    return out;
  }

  /** Runs a search (any page but done). Keywords split on single spaces, as the text env does. */
  search(query: string): void {
    const s = this.state;
    s.keywords = query.split(' ');
    s.results = this.engine.search(s.keywords.join(' '));
    s.resultsPage = 1;
    s.asin = null;
    s.options = {};
    s.page = 'results';
  }

  /** Clicks an element; unknown names and `search` are no-ops (the caller checks admissibility first). */
  click(name: string): ClickOutcome {
    const s = this.state;
    const target = this.clickables().get(name);
    const none = { score: 0, done: false };
    if (!target || name === 'search') return none;
    if (name === 'buy now') {
      const p = this.product();
      s.purchase = purchaseScore(p, this.goal, p.price, s.options, this.goalNouns);
      s.page = 'done';
      return { score: s.purchase.score, done: true };
    }
    if (name === 'back to search') {
      Object.assign(s, initialSiteState());
      return none;
    }
    if (s.page === 'results' && (name === 'next >' || name === '< prev')) {
      s.resultsPage += name === 'next >' ? 1 : -1;
      s.asin = null;
      s.options = {};
      return none;
    }
    if (name === '< prev' && (SUB_PAGES as readonly string[]).includes(s.page)) {
      s.page = 'item';
      return none;
    }
    if (name === '< prev' && s.page === 'item') {
      s.page = 'results';
      s.asin = null;
      s.options = {};
      return none;
    }
    if ((SUB_PAGES as readonly string[]).includes(name)) {
      s.page = name as SubPage;
      return none;
    }
    if (target.kind === 'product') s.asin = target.asin;
    else if (target.kind === 'option') s.options[target.name] = name;
    s.page = 'item';
    return none;
  }
}
