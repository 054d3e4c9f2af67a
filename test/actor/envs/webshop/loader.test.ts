import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkEnv } from '../../../../actor/envs/check-env.js';
import { WebShopEnv } from '../../../../actor/envs/webshop/env.js';
import { loadWebShopData, parsePricing } from '../../../../actor/envs/webshop/loader.js';
import { oracleAction } from '../../../../actor/envs/webshop/scripted.js';

const FIXTURE = fileURLToPath(new URL('../../../fixtures/webshop', import.meta.url));

describe('loader for the original WebShop data files', () => {
  it('parses prices as WebShop does', () => {
    expect(parsePricing('$12.99')).toEqual({ pricing: [12.99], priceTag: '$12.99' });
    expect(parsePricing('$15.00 - $22.00')).toEqual({ pricing: [15, 22], priceTag: '$15.0 to $22.0' });
    expect(parsePricing('')).toEqual({ pricing: [100], priceTag: '$100.0' });
    expect(parsePricing(undefined)).toEqual({ pricing: [100], priceTag: '$100.0' });
  });

  it('loads the fixture with the original cleaning rules', () => {
    const c = loadWebShopData(FIXTURE);
    // 'nan', the duplicate and the over-long asin are skipped
    expect(c.products.map((p) => p.asin)).toEqual([
      'B07SHAMP01',
      'B07SHAMP02',
      'B08TSHIRT1',
      'B08TSHIRT2',
      'B09GRNTEA1',
      'B09GRNTEA2',
    ]);
    const [shampoo, citrus, shirt, athletic, tea, jasmine] = c.products;
    expect(shampoo).toMatchObject({
      title: 'Herbal Essence Sulfate Free Shampoo for Dry Hair',
      query: 'shampoo',
      category: 'beauty',
      options: { size: ['12 fl oz', '24 fl oz'] },
      priceTag: '$12.99',
      price: 12.99,
      rating: '4.5',
      attributes: ['sulfate free', 'dry hair', 'argan oil'],
      instruction: { text: 'i need a sulfate free shampoo for dry hair', attributes: ['sulfate free', 'dry hair'] },
      reviews: [{ title: 'Great for dry hair', score: 5, body: 'My hair feels soft.' }],
    });
    expect(citrus.options).toEqual({ scent: ['lemon | lime', 'orange'] }); // '/' → ' | ', lower case
    expect(shirt.bulletPoints).toEqual(['Machine wash cold']); // a string becomes one bullet
    expect(shirt.pricing).toEqual([15, 22]);
    expect(shirt.price).toBeGreaterThanOrEqual(15);
    expect(shirt.price).toBeLessThanOrEqual(22);
    expect(athletic).toMatchObject({ priceTag: '$100.0', price: 100 });
    expect(athletic.instruction).toBeUndefined(); // instruction null: no goals
    expect(tea).toMatchObject({ options: {}, rating: '3.0' });
    expect(jasmine).toMatchObject({ attributes: ['DUMMY_ATTR'], options: { 'flavor name': ['jasmine'] } });
    // goals: 2 (size) + 2 (scent) + 4 (size x color) + 1 (no options)
    expect(c.goals).toHaveLength(9);
    expect(c.valGoals).toBe(8); // a small catalogue keeps one training goal
    const teaGoal = c.goals.find((g) => g.asin === 'B09GRNTEA1');
    expect(teaGoal?.instructionText).toMatch(
      /^find me some usda organic green tea that is individually wrapped, and price lower than \d+\.00 dollars$/,
    );
    const shirtGoals = c.goals.filter((g) => g.asin === 'B08TSHIRT1').map((g) => g.goalOptions);
    expect(shirtGoals).toContainEqual({ color: 'navy blue', size: 'small' });
  });

  it('the env plays the loaded data: the scripted shopper buys every goal', () => {
    const env = new WebShopEnv({ dataDir: FIXTURE });
    expect(env.params).toMatchObject({ products: 6, goals: 9, dataDir: FIXTURE });
    for (let goal = 0; goal < 9; goal++) {
      const pinned = new WebShopEnv({ dataDir: FIXTURE, goalIndex: goal });
      pinned.reset({ seed: 0 });
      let won = false;
      for (let t = 0; t < 20 && !won; t++) won = pinned.step(`<action>${oracleAction(pinned)}</action>`).info.won;
      expect(won).toBe(true);
    }
    const report = checkEnv('webshop', { episodes: 20, options: { dataDir: FIXTURE } });
    expect(report).toMatchObject({ ok: true, solverSuccess: 1 });
  });

  it('names the missing file or the broken JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'webshop-'));
    expect(() => loadWebShopData(dir)).toThrow(/items_shuffle_1000\.json' not found/);
    expect(() => loadWebShopData(FIXTURE, { full: true })).toThrow(/items_shuffle\.json' not found/);
    writeFileSync(join(dir, 'items_shuffle_1000.json'), '[{"asin": ');
    writeFileSync(join(dir, 'items_ins_v2_1000.json'), '{}');
    expect(() => loadWebShopData(dir)).toThrow(/products file .* is not valid JSON/);
    writeFileSync(join(dir, 'items_shuffle_1000.json'), '{"not": "an array"}');
    expect(() => loadWebShopData(dir)).toThrow(/must hold a JSON array/);
    expect(() => new WebShopEnv({ dataDir: dir })).toThrow(/webshop data/);
  });
});
