/**
 * The word lists the synthetic WebShop catalogue is generated from. WebShop's small catalogue has five
 * categories (beauty, food, fashion, furniture, electronics) of scraped Amazon products; here each category has
 * product types with a search query, a category path (`product_category`, '›'-separated like the original),
 * a pool of attribute phrases, option groups and a price range. Every word a generated product can contain
 * comes from this file, which is what makes the compact template's vocabulary bounded (see vocabulary.ts).
 */

export type Category = 'beauty' | 'food' | 'fashion' | 'furniture' | 'electronics';

export interface ProductType {
  category: Category;
  /** The search query the original scrape used for this kind of product (`query` field). */
  query: string;
  /** Head noun phrase in titles; its words are the product-type nouns of the type reward. */
  noun: string;
  /** `product_category` path, outermost first. */
  path: readonly string[];
  /** Attribute phrases a product of this type may have (lower case, like items_ins_v2 attributes). */
  attributes: readonly string[];
  /** Option groups (lower-case names) with candidate values; a product offers 0-2 of them. */
  options: Readonly<Record<string, readonly string[]>>;
  /** Title modifiers. */
  descriptors: readonly string[];
  /** Price range in dollars [min, max]. */
  price: readonly [number, number];
}

const SIZES_CLOTHES = ['x-small', 'small', 'medium', 'large', 'x-large', 'xx-large'];
const COLORS = ['black', 'white', 'navy blue', 'red', 'grey', 'beige', 'green', 'pink', 'brown', 'purple'];
const SHOE_SIZES = ['6', '6.5', '7', '7.5', '8', '8.5', '9', '9.5', '10', '11', '12'];
const FL_OZ = ['2 fl oz', '4 fl oz', '8 fl oz', '12 fl oz', '16 fl oz', '32 fl oz'];
const PACKS = ['1 count', '2 count', '3 pack', '6 pack', '12 pack', '24 pack'];

export const PRODUCT_TYPES: readonly ProductType[] = [
  // beauty
  {
    category: 'beauty',
    query: 'shampoo',
    noun: 'shampoo',
    path: ['Beauty & Personal Care', 'Hair Care', 'Shampoo & Conditioner', 'Shampoos'],
    attributes: [
      'sulfate free',
      'paraben free',
      'natural ingredients',
      'dry hair',
      'hair growth',
      'cruelty free',
      'damaged hair',
      'tea tree',
    ],
    options: { size: FL_OZ, scent: ['lavender', 'coconut', 'mint', 'citrus', 'unscented'] },
    descriptors: ['organic', 'moisturizing', 'volumizing', 'clarifying', 'herbal', 'daily'],
    price: [6, 38],
  },
  {
    category: 'beauty',
    query: 'face moisturizer',
    noun: 'face moisturizer',
    path: ['Beauty & Personal Care', 'Skin Care', 'Face', 'Creams & Moisturizers'],
    attributes: [
      'long lasting',
      'sensitive skin',
      'paraben free',
      'anti aging',
      'hyaluronic acid',
      'fragrance free',
      'dry skin',
      'cruelty free',
    ],
    options: {
      size: ['1 fl oz', '1.7 fl oz', '2 fl oz', '3.4 fl oz'],
      scent: ['unscented', 'rose', 'aloe', 'vanilla'],
    },
    descriptors: ['daily', 'hydrating', 'lightweight', 'gentle', 'whipped', 'overnight'],
    price: [9, 65],
  },
  {
    category: 'beauty',
    query: 'lipstick',
    noun: 'lipstick',
    path: ['Beauty & Personal Care', 'Makeup', 'Lips', 'Lipstick'],
    attributes: ['long lasting', 'cruelty free', 'matte finish', 'highly pigmented', 'paraben free', 'easy apply'],
    options: { color: ['ruby red', 'nude', 'coral', 'berry', 'mauve', 'pink'] },
    descriptors: ['velvet', 'creamy', 'classic', 'satin', 'waterproof'],
    price: [5, 32],
  },
  {
    category: 'beauty',
    query: 'nail polish',
    noun: 'nail polish',
    path: ['Beauty & Personal Care', 'Foot, Hand & Nail Care', 'Nail Art & Polish', 'Nail Polish'],
    attributes: ['quick dry', 'long lasting', 'non toxic', 'high gloss', 'easy apply', 'cruelty free'],
    options: {
      color: ['ruby red', 'nude', 'coral', 'black', 'silver', 'gold', 'pink'],
      size: ['0.5 fl oz', '1 fl oz'],
    },
    descriptors: ['glossy', 'gel', 'shimmer', 'salon', 'vegan'],
    price: [4, 22],
  },
  {
    category: 'beauty',
    query: 'makeup brush set',
    noun: 'makeup brush set',
    path: ['Beauty & Personal Care', 'Tools & Accessories', 'Makeup Brushes & Tools', 'Brush Sets'],
    attributes: ['synthetic hair', 'easy clean', 'high quality', 'travel size', 'cruelty free'],
    options: { color: ['black', 'rose gold', 'pink', 'white'], size: ['5 piece', '10 piece', '15 piece'] },
    descriptors: ['professional', 'soft', 'premium', 'compact'],
    price: [8, 45],
  },
  {
    category: 'beauty',
    query: 'body wash',
    noun: 'body wash',
    path: ['Beauty & Personal Care', 'Personal Care', 'Bath & Bathing Accessories', 'Body Washes'],
    attributes: ['natural ingredients', 'sensitive skin', 'paraben free', 'dry skin', 'sulfate free', 'tea tree'],
    options: { size: FL_OZ, scent: ['lavender', 'coconut', 'citrus', 'eucalyptus', 'unscented'] },
    descriptors: ['refreshing', 'gentle', 'moisturizing', 'foaming', 'organic'],
    price: [5, 30],
  },
  // food
  {
    category: 'food',
    query: 'green tea',
    noun: 'green tea',
    path: ['Grocery & Gourmet Food', 'Beverages', 'Coffee, Tea & Cocoa', 'Tea', 'Green'],
    attributes: ['gluten free', 'caffeine free', 'non gmo', 'sugar free', 'usda organic', 'individually wrapped'],
    options: { flavor: ['jasmine', 'mint', 'lemon', 'original', 'honey'], size: PACKS },
    descriptors: ['premium', 'loose leaf', 'japanese', 'pure', 'organic'],
    price: [4, 28],
  },
  {
    category: 'food',
    query: 'protein bar',
    noun: 'protein bar',
    path: ['Grocery & Gourmet Food', 'Snack Foods', 'Bars', 'Protein'],
    attributes: ['gluten free', 'low sugar', 'high protein', 'non gmo', 'keto friendly', 'individually wrapped'],
    options: { flavor: ['chocolate', 'peanut butter', 'vanilla', 'cookie dough', 'berry'], size: PACKS },
    descriptors: ['crunchy', 'chewy', 'plant based', 'whole food'],
    price: [8, 42],
  },
  {
    category: 'food',
    query: 'coffee beans',
    noun: 'coffee beans',
    path: ['Grocery & Gourmet Food', 'Beverages', 'Coffee, Tea & Cocoa', 'Coffee', 'Whole Coffee Beans'],
    attributes: ['usda organic', 'fair trade', 'non gmo', 'medium roast', 'dark roast', 'low acid'],
    options: {
      size: ['12 ounce', '16 ounce', '2 pound', '5 pound'],
      flavor: ['original', 'vanilla', 'hazelnut', 'mocha'],
    },
    descriptors: ['whole', 'fresh', 'single origin', 'colombian', 'italian'],
    price: [9, 48],
  },
  {
    category: 'food',
    query: 'dark chocolate',
    noun: 'dark chocolate',
    path: ['Grocery & Gourmet Food', 'Candy & Chocolate', 'Chocolate', 'Chocolate Bars'],
    attributes: ['sugar free', 'gluten free', 'non gmo', 'dairy free', 'keto friendly', 'individually wrapped'],
    options: { flavor: ['sea salt', 'almond', 'orange', 'mint', 'original'], size: PACKS },
    descriptors: ['rich', 'artisan', 'belgian', 'smooth', 'organic'],
    price: [3, 30],
  },
  {
    category: 'food',
    query: 'trail mix',
    noun: 'trail mix',
    path: ['Grocery & Gourmet Food', 'Snack Foods', 'Nuts & Seeds', 'Trail Mix'],
    attributes: ['gluten free', 'non gmo', 'high protein', 'low sugar', 'individually wrapped', 'vegan'],
    options: { flavor: ['original', 'tropical', 'chocolate', 'honey'], size: ['8 ounce', '16 ounce', '2 pound'] },
    descriptors: ['roasted', 'salted', 'crunchy', 'healthy'],
    price: [5, 26],
  },
  {
    category: 'food',
    query: 'olive oil',
    noun: 'olive oil',
    path: ['Grocery & Gourmet Food', 'Pantry Staples', 'Cooking & Baking', 'Oils', 'Olive'],
    attributes: ['usda organic', 'non gmo', 'cold pressed', 'extra virgin', 'gluten free'],
    options: { size: ['8 fl oz', '16 fl oz', '25 fl oz', '33 fl oz'] },
    descriptors: ['pure', 'italian', 'greek', 'premium', 'imported'],
    price: [7, 40],
  },
  // fashion
  {
    category: 'fashion',
    query: 'men t shirt',
    noun: 't shirt',
    path: ['Clothing, Shoes & Jewelry', 'Men', 'Clothing', 'Shirts', 'T-Shirts'],
    attributes: ['machine wash', 'cotton spandex', 'short sleeve', 'classic fit', 'moisture wicking', 'relaxed fit'],
    options: { size: SIZES_CLOTHES, color: COLORS },
    descriptors: ['crew neck', 'graphic', 'athletic', 'vintage', 'basic'],
    price: [8, 35],
  },
  {
    category: 'fashion',
    query: 'women dress',
    noun: 'dress',
    path: ['Clothing, Shoes & Jewelry', 'Women', 'Clothing', 'Dresses', 'Casual'],
    attributes: ['machine wash', 'polyester spandex', 'long sleeve', 'short sleeve', 'hand wash', 'elastic waist'],
    options: { size: SIZES_CLOTHES, color: COLORS },
    descriptors: ['floral', 'summer', 'casual', 'maxi', 'midi', 'wrap'],
    price: [15, 60],
  },
  {
    category: 'fashion',
    query: 'running shoes',
    noun: 'running shoes',
    path: ['Clothing, Shoes & Jewelry', 'Men', 'Shoes', 'Athletic', 'Running'],
    attributes: ['non slip', 'rubber sole', 'lace up', 'arch support', 'lightweight design', 'breathable mesh'],
    options: { size: SHOE_SIZES, color: ['black', 'white', 'grey', 'navy blue', 'red'] },
    descriptors: ['athletic', 'trail', 'cushioned', 'sport', 'walking'],
    price: [25, 95],
  },
  {
    category: 'fashion',
    query: 'women sandals',
    noun: 'sandals',
    path: ['Clothing, Shoes & Jewelry', 'Women', 'Shoes', 'Sandals'],
    attributes: ['non slip', 'rubber sole', 'open toe', 'arch support', 'ankle strap'],
    options: { size: SHOE_SIZES, color: ['black', 'brown', 'beige', 'white', 'gold'] },
    descriptors: ['flat', 'summer', 'comfort', 'strappy', 'platform'],
    price: [14, 55],
  },
  {
    category: 'fashion',
    query: 'hoodie',
    noun: 'hoodie',
    path: ['Clothing, Shoes & Jewelry', 'Men', 'Clothing', 'Active', 'Active Hoodies'],
    attributes: ['machine wash', 'long sleeve', 'fleece lined', 'drawstring closure', 'relaxed fit', 'cotton spandex'],
    options: { size: SIZES_CLOTHES, color: COLORS },
    descriptors: ['pullover', 'zip up', 'heavyweight', 'casual', 'oversized'],
    price: [18, 65],
  },
  {
    category: 'fashion',
    query: 'yoga pants',
    noun: 'yoga pants',
    path: ['Clothing, Shoes & Jewelry', 'Women', 'Clothing', 'Active', 'Leggings'],
    attributes: ['high waist', 'tummy control', 'moisture wicking', 'machine wash', 'polyester spandex', 'quick dry'],
    options: { size: SIZES_CLOTHES, color: ['black', 'grey', 'navy blue', 'purple', 'green'] },
    descriptors: ['stretch', 'workout', 'seamless', 'athletic'],
    price: [12, 48],
  },
  // furniture
  {
    category: 'furniture',
    query: 'office chair',
    noun: 'office chair',
    path: ['Home & Kitchen', 'Furniture', 'Home Office Furniture', 'Home Office Chairs', 'Desk Chairs'],
    attributes: ['lumbar support', 'easy assemble', 'height adjustable', 'heavy duty', 'pu leather', 'mesh back'],
    options: { color: ['black', 'white', 'grey', 'blue'] },
    descriptors: ['ergonomic', 'executive', 'swivel', 'rolling', 'padded'],
    price: [45, 250],
  },
  {
    category: 'furniture',
    query: 'bookshelf',
    noun: 'bookshelf',
    path: ['Home & Kitchen', 'Furniture', 'Living Room Furniture', 'Bookcases'],
    attributes: ['easy assemble', 'solid wood', 'storage space', 'heavy duty', 'space saving'],
    options: { color: ['white', 'black', 'walnut', 'oak', 'grey'], size: ['3 tier', '4 tier', '5 tier'] },
    descriptors: ['industrial', 'modern', 'rustic', 'corner', 'tall'],
    price: [35, 180],
  },
  {
    category: 'furniture',
    query: 'coffee table',
    noun: 'coffee table',
    path: ['Home & Kitchen', 'Furniture', 'Living Room Furniture', 'Tables', 'Coffee Tables'],
    attributes: ['easy assemble', 'solid wood', 'storage space', 'living room', 'metal frame'],
    options: { color: ['walnut', 'oak', 'black', 'white', 'grey'] },
    descriptors: ['round', 'modern', 'rustic', 'lift top', 'glass'],
    price: [50, 260],
  },
  {
    category: 'furniture',
    query: 'bar stool',
    noun: 'bar stool',
    path: ['Home & Kitchen', 'Furniture', 'Game & Recreation Room Furniture', 'Home Bar Furniture', 'Barstools'],
    attributes: ['pu leather', 'height adjustable', 'easy assemble', 'living room', 'metal frame', 'heavy duty'],
    options: { color: ['black', 'brown', 'grey', 'white'], size: ['set of 2', 'set of 4'] },
    descriptors: ['swivel', 'counter height', 'backless', 'modern'],
    price: [40, 220],
  },
  {
    category: 'furniture',
    query: 'nightstand',
    noun: 'nightstand',
    path: ['Home & Kitchen', 'Furniture', 'Bedroom Furniture', 'Nightstands'],
    attributes: ['storage space', 'easy assemble', 'solid wood', 'living room', 'space saving'],
    options: { color: ['white', 'black', 'walnut', 'oak'] },
    descriptors: ['bedside', 'small', 'modern', 'rustic', 'drawer'],
    price: [30, 150],
  },
  {
    category: 'furniture',
    query: 'storage ottoman',
    noun: 'storage ottoman',
    path: ['Home & Kitchen', 'Furniture', 'Living Room Furniture', 'Ottomans'],
    attributes: ['storage space', 'faux leather', 'living room', 'easy assemble', 'foldable design'],
    options: { color: ['grey', 'beige', 'black', 'brown', 'navy blue'], size: ['small', 'medium', 'large'] },
    descriptors: ['tufted', 'square', 'round', 'velvet', 'folding'],
    price: [25, 120],
  },
  // electronics
  {
    category: 'electronics',
    query: 'wireless earbuds',
    noun: 'wireless earbuds',
    path: ['Electronics', 'Headphones, Earbuds & Accessories', 'Headphones & Earbuds', 'Earbud Headphones'],
    attributes: [
      'noise cancelling',
      'long battery life',
      'water resistant',
      'fast charging',
      'built in microphone',
      'hands free',
    ],
    options: { color: ['black', 'white', 'blue', 'pink'] },
    descriptors: ['bluetooth', 'true wireless', 'sport', 'mini', 'stereo'],
    price: [15, 120],
  },
  {
    category: 'electronics',
    query: 'phone case',
    noun: 'phone case',
    path: ['Cell Phones & Accessories', 'Cases, Holsters & Sleeves', 'Basic Cases'],
    attributes: ['shock absorbing', 'wireless charging', 'easy install', 'slim fit', 'tempered glass', 'heavy duty'],
    options: {
      color: ['black', 'clear', 'blue', 'red', 'purple'],
      style: ['iphone 13', 'iphone 14', 'iphone 15', 'galaxy s23'],
    },
    descriptors: ['protective', 'slim', 'rugged', 'silicone', 'leather'],
    price: [6, 35],
  },
  {
    category: 'electronics',
    query: 'usb c cable',
    noun: 'usb c cable',
    path: [
      'Electronics',
      'Computers & Accessories',
      'Computer Accessories & Peripherals',
      'Cables & Accessories',
      'USB Cables',
    ],
    attributes: ['fast charging', 'high speed', 'heavy duty', 'easy carry', 'nylon braided'],
    options: { size: ['3 feet', '6 feet', '10 feet'], color: ['black', 'white', 'grey', 'red'] },
    descriptors: ['braided', 'durable', 'charging', 'data'],
    price: [5, 25],
  },
  {
    category: 'electronics',
    query: 'bluetooth speaker',
    noun: 'bluetooth speaker',
    path: ['Electronics', 'Portable Audio & Video', 'Portable Speakers & Docks', 'Portable Bluetooth Speakers'],
    attributes: [
      'water resistant',
      'long battery life',
      'stereo sound',
      'easy carry',
      'built in microphone',
      'high power',
    ],
    options: { color: ['black', 'blue', 'red', 'grey', 'green'] },
    descriptors: ['portable', 'outdoor', 'mini', 'waterproof', 'loud'],
    price: [18, 130],
  },
  {
    category: 'electronics',
    query: 'hdmi cable',
    noun: 'hdmi cable',
    path: ['Electronics', 'Television & Video', 'Accessories', 'Cables', 'HDMI Cables'],
    attributes: ['high speed', 'gold plated', 'plug and play', 'heavy duty', 'ultra hd'],
    options: { size: ['3 feet', '6 feet', '10 feet', '15 feet'] },
    descriptors: ['4k', 'braided', 'premium', 'slim'],
    price: [5, 30],
  },
  {
    category: 'electronics',
    query: 'wireless mouse',
    noun: 'wireless mouse',
    path: [
      'Electronics',
      'Computers & Accessories',
      'Computer Accessories & Peripherals',
      'Keyboards, Mice & Accessories',
      'Mice',
    ],
    attributes: ['plug and play', 'long battery life', 'easy carry', 'noise free', 'ergonomic design'],
    options: { color: ['black', 'white', 'grey', 'pink', 'blue'] },
    descriptors: ['silent', 'slim', 'rechargeable', 'portable', 'optical'],
    price: [8, 45],
  },
];

/** Brand names (proper nouns in titles). */
export const BRANDS: readonly string[] = [
  'Aurelia',
  'Brightwell',
  'Cedarline',
  'Dovecrest',
  'Emberly',
  'Fernwood',
  'Glenmore',
  'Harborview',
  'Ivoria',
  'Juniper',
  'Kestrel',
  'Lumina',
  'Marlowe',
  'Northbay',
  'Oakhaven',
  'Pinecrest',
  'Quillon',
  'Rosewell',
  'Silverleaf',
  'Thornbury',
  'Umbra',
  'Velora',
  'Westfield',
  'Yarrow',
  'Zephyra',
];

/** Instruction openings (the synthetic goals' own phrasing; WebShop's are of the same shape). */
export const INSTRUCTION_LEADS: readonly string[] = [
  'i need',
  'i am looking for',
  'i want',
  'find me',
  'i would like',
  'get me',
  'i am searching for',
];

/** Sentence frames of descriptions; {noun} and {attr} are filled in. */
export const DESCRIPTION_FRAMES: readonly string[] = [
  'this {noun} is made for everyday use and is {attr}.',
  'our {noun} is designed with care and tested for quality.',
  'enjoy a {noun} that is {attr} and built to last.',
  'every {noun} comes ready to use out of the box.',
  'a great choice if you want a {noun} that is {attr}.',
  'we stand behind every {noun} we sell with a simple return policy.',
];

/** Bullet-point frames. */
export const BULLET_FRAMES: readonly string[] = [
  '{attr}: thoughtfully made so you get the most from your {noun}',
  'features {attr} for better results every day',
  '{attr} and easy to care for',
  'what you get: one {noun} and our friendly customer service',
];

export const REVIEW_TITLES: readonly string[] = [
  'great value',
  'love it',
  'as described',
  'not bad',
  'would buy again',
  'disappointed',
];
export const REVIEW_BODIES: readonly string[] = [
  'works exactly as described and arrived quickly.',
  'good quality for the price.',
  'it is fine but not what i expected.',
  'my family loves this product.',
  'the size was a little off for me.',
  'i have ordered this twice now.',
];
