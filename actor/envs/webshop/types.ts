/**
 * WebShop data model: products as WebShop's `load_products` leaves them (title, bullet points, description,
 * attributes, option groups, price tag and the hidden purchase price) and goals as its `get_synthetic_goals`
 * builds them (instruction text, attributes, options, price bound, sampling weight).
 */

export interface Review {
  title: string;
  score: number;
  body: string;
}

export interface Product {
  /** Upper-case product id as WebShop shows it (clicked in lower case). */
  asin: string;
  /** `Title` (and `name`): shown on result and item pages; its nouns drive the type reward. */
  title: string;
  category: string;
  /** The search query the product was scraped under (lower case). */
  query: string;
  /** `product_category`: '›'-separated path. */
  productCategory: string;
  bulletPoints: string[];
  description: string;
  /** `Attributes` (lower case phrases), fuzzy-matched against goal attributes. */
  attributes: string[];
  /** Option groups in page order; names and values lower case (WebShop lower-cases them on load). */
  options: Record<string, string[]>;
  /** `Price` as shown ('$12.99' or '$10.0 to $15.0'). */
  priceTag: string;
  /** 1 or 2 prices (a range) parsed from the price tag. */
  pricing: number[];
  /** The hidden price charged on purchase (WebShop draws it uniformly inside a range). */
  price: number;
  /** `Rating` as shown ('N.A.' when unknown). */
  rating: string;
  reviews: Review[];
  /** The synthetic instruction (items_ins_v2 `instruction` / `instruction_attributes`); absent: no goals. */
  instruction?: { text: string; attributes: string[] };
  /** Nouns of the title (stand-in for the spaCy NOUN/PROPN tags WebShop's type reward uses). */
  titleNouns: string[];
}

export interface Goal {
  asin: string;
  category: string;
  query: string;
  /** Title of the target product (`name` of a synthetic goal). */
  name: string;
  productCategory: string;
  instructionText: string;
  attributes: string[];
  /** Price bound in dollars; 1,000,000 when the instruction states none. */
  priceUpper: number;
  /** Option name -> value the goal asks for. */
  goalOptions: Record<string, string>;
  /** Mean inverse attribute frequency over all goals (WebShop's sampling weight). */
  weight: number;
}

/** A loaded or generated catalogue with its goals (shuffled once; validation = the first `valGoals`). */
export interface Catalogue {
  products: Product[];
  byAsin: Map<string, Product>;
  goals: Goal[];
  /** Goals 0..valGoals-1 are the validation split; the rest train (LaMer `webshop/envs.py`). */
  valGoals: number;
  /** Where it came from: 'synthetic:<seed>:<n>' or the data directory. */
  source: string;
}
