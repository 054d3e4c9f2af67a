import { describe, expect, it } from 'vitest';
import { WebShopEnv, instructionOf } from '../../../../actor/envs/webshop/env.js';
import { oracleAction, oracleQuery } from '../../../../actor/envs/webshop/scripted.js';
import type { Product } from '../../../../actor/envs/webshop/types.js';

const act = (a: string) => `I will do this.\n<action>${a}</action>`;

/** An env on the default catalogue at the goal of `seed`, with the goal's own product searched for. */
function atResults(seed = 11) {
  const env = new WebShopEnv();
  env.reset({ seed });
  const goal = env.goal();
  const r = env.step(act(`search[${oracleQuery(goal)}]`));
  return { env, goal, r };
}

function openProduct(env: WebShopEnv, asin: string) {
  const site = env.siteView();
  return env.step(act(`click[${asin.toLowerCase()}]`)) && site;
}

describe('WebShop pages and actions', () => {
  it('starts on the search page with the instruction; search and click[search] are admissible', () => {
    const env = new WebShopEnv();
    const { obs, info } = env.reset({ seed: 5 });
    expect(instructionOf(obs)).toBe(env.instruction);
    expect(obs).toBe(`'WebShop' [SEP] 'Instruction:' [SEP] '${env.instruction}' [SEP] 'Search'`);
    expect(info).toMatchObject({ won: false, seed: 5, split: 'train', instruction: env.instruction });
    expect(env.admissibleActions()).toEqual(['search[<your query>]', 'click[search]']);
    expect(env.anchor()).toBe(obs);
    expect(env.render()).toBe(obs);
  });

  it('click[search] is listed but ignored; a non-admissible click is a valid no-op', () => {
    const env = new WebShopEnv();
    env.reset({ seed: 5 });
    const r1 = env.step(act('click[search]'));
    expect(r1).toMatchObject({ obs: "'Search'", reward: 0, terminated: false, truncated: false });
    expect(r1.info).toMatchObject({ valid: true, executed: false, page: 'search' });
    const r2 = env.step(act('click[buy now]'));
    expect(r2.info).toMatchObject({ valid: true, executed: false, page: 'search' });
  });

  it('search lists 10 of the top 50 results per page with next >/< prev', () => {
    const { env, r } = atResults();
    const site = env.siteView();
    expect(site.state.page).toBe('results');
    expect(site.state.results).toHaveLength(50);
    const parts = r.obs.split(' [SEP] ');
    expect(parts.slice(0, 3)).toEqual(["'Back to Search'", "'Page 1 (Total results: 50)'", "'Next >'"]);
    expect(parts).toHaveLength(3 + 10 * 3);
    const first = env.catalogue.byAsin.get(site.state.results[0]) as Product;
    expect(parts.slice(3, 6)).toEqual([`'${first.asin}'`, `'${first.title}'`, `'${first.priceTag}'`]);
    expect(env.admissibleActions().slice(0, 2)).toEqual(['click[back to search]', 'click[next >]']);
    expect(env.admissibleActions()).toContain(`click[${first.asin.toLowerCase()}]`);

    env.step(act('click[next >]'));
    expect(site.state.resultsPage).toBe(2);
    expect(env.admissibleActions().slice(0, 3)).toEqual(['click[back to search]', 'click[< prev]', 'click[next >]']);
    for (let i = 0; i < 3; i++) env.step(act('click[next >]'));
    expect(site.state.resultsPage).toBe(5);
    expect(env.admissibleActions()).not.toContain('click[next >]'); // 5 * 10 = 50 results: the last page
    env.step(act('click[next >]'));
    expect(site.state.resultsPage).toBe(5);
    env.step(act('click[< prev]'));
    expect(site.state.resultsPage).toBe(4);
  });

  it('item page: options, sub-pages and < prev back to the item, back to the results', () => {
    const { env } = atResults();
    const site = env.siteView();
    const asin = site.state.results.find(
      (a) => Object.keys((env.catalogue.byAsin.get(a) as Product).options).length > 0,
    ) as string;
    const p = env.catalogue.byAsin.get(asin) as Product;
    const page = site.state.resultsPage;
    openProduct(env, asin);
    expect(site.state).toMatchObject({ page: 'item', asin, options: {} });
    const obs = env.anchor();
    expect(obs.startsWith("'Back to Search' [SEP] '< Prev' [SEP] ")).toBe(true);
    expect(
      obs.endsWith(
        `'${p.title}' [SEP] 'Price: ${p.priceTag}' [SEP] 'Rating: ${p.rating}' [SEP] ` +
          "'Description' [SEP] 'Features' [SEP] 'Reviews' [SEP] 'Buy Now'",
      ),
    ).toBe(true);
    const [name, values] = Object.entries(p.options)[0];
    expect(obs).toContain(`'${name}' [SEP] ${values.map((v) => `'${v}'`).join(' [SEP] ')}`);
    expect(env.admissibleActions()).toEqual([
      'click[back to search]',
      'click[< prev]',
      'click[description]',
      'click[features]',
      'click[reviews]',
      'click[buy now]',
      ...Object.values(p.options)
        .flat()
        .map((v) => `click[${v}]`),
    ]);

    env.step(act(`click[${values[1]}]`));
    expect(site.state.options).toEqual({ [name]: values[1] });
    env.step(act(`click[${values[0]}]`));
    expect(site.state.options).toEqual({ [name]: values[0] }); // a later choice replaces the earlier one

    const feat = env.step(act('click[features]'));
    expect(site.state.page).toBe('features');
    expect(feat.obs).toBe(["'Back to Search'", "'< Prev'", ...p.bulletPoints.map((b) => `'${b}'`)].join(' [SEP] '));
    expect(env.admissibleActions()).toEqual(['click[back to search]', 'click[< prev]']);
    env.step(act('click[< prev]'));
    expect(site.state).toMatchObject({ page: 'item', asin, options: { [name]: values[0] } }); // options kept
    expect(env.step(act('click[description]')).obs).toBe(`'Back to Search' [SEP] '< Prev' [SEP] '${p.description}'`);
    env.step(act('click[< prev]'));
    const rev = env.step(act('click[reviews]')).obs;
    expect(rev).toBe(
      p.reviews.length === 0
        ? "'Back to Search' [SEP] '< Prev' [SEP] 'No reviews found'"
        : [
            "'Back to Search'",
            "'< Prev'",
            ...p.reviews.flatMap((x) => [`'"${x.title}"'`, `'${x.score}'`, `'${x.body}'`]),
          ].join(' [SEP] '),
    );
    env.step(act('click[< prev]'));
    env.step(act('click[< prev]'));
    expect(site.state).toMatchObject({ page: 'results', resultsPage: page, asin: null, options: {} });
  });

  it('back to search resets the session; search works from any page', () => {
    const { env } = atResults();
    const site = env.siteView();
    openProduct(env, site.state.results[0]);
    env.step(act('search[green tea]'));
    expect(site.state).toMatchObject({ page: 'results', keywords: ['green', 'tea'], asin: null });
    const r = env.step(act('click[back to search]'));
    expect(r.obs).toBe("'Search'");
    expect(site.state).toMatchObject({ page: 'search', keywords: null, results: [], asin: null, options: {} });
  });

  it('buy now ends the episode: 10 and won for a score of 1, else 0 with the score in info', () => {
    const { env, goal } = atResults();
    const site = env.siteView();
    // the goal's product without its options: attributes and price match, options do not
    while (
      !site.state.results.slice((site.state.resultsPage - 1) * 10, site.state.resultsPage * 10).includes(goal.asin)
    ) {
      env.step(act('click[next >]'));
    }
    openProduct(env, goal.asin);
    const nOpt = Object.keys(goal.goalOptions).length;
    const r = env.step(act('click[buy now]'));
    expect(r).toMatchObject({ reward: nOpt === 0 ? 10 : 0, terminated: true, truncated: false });
    expect(r.info.taskScore).toBeCloseTo((goal.attributes.length + 1) / (goal.attributes.length + nOpt + 1));
    expect(r.info.won).toBe(nOpt === 0);
    expect(r.info.episode).toEqual({ r: r.reward, l: env.snapshot().steps });
    expect(r.obs).toContain("'Thank you for shopping with us!'");
    expect(() => env.step(act('click[back to search]'))).toThrow(/after the episode ended/);

    // restart keeps the goal; the shopper then wins with reward 10
    const again = env.restart();
    expect(instructionOf(again.obs)).toBe(goal.instructionText);
    expect(env.goal()).toBe(goal);
    let last;
    for (let i = 0; i < 30; i++) {
      last = env.step(act(oracleAction(env)));
      if (last.terminated) break;
    }
    expect(last).toMatchObject({ reward: 10, terminated: true });
    expect(last?.info).toMatchObject({ won: true, taskScore: 1, actionText: 'click[buy now]' });
  });

  it('restart restores the initial page and the same goal after a failed purchase (docs/method.md §9)', () => {
    const env = new WebShopEnv();
    const first = env.reset({ seed: 2024 });
    env.step(act('search[shampoo]'));
    env.step(act(`click[${env.siteView().state.results[0].toLowerCase()}]`));
    env.step(act('click[buy now]'));
    const r = env.restart();
    expect(r).toEqual(first);
    expect(env.siteView().state).toMatchObject({ page: 'search', results: [], asin: null });
  });

  const fullParsing =
    'full template parsing: lower-cased, first <action> to first </action>; missing tags send the last 20 characters';
  it(fullParsing, () => {
    const env = new WebShopEnv();
    env.reset({ seed: 1 });
    const r1 = env.step('Reasoning...\n<ACTION>Search[Green Tea]</ACTION> and <action>click[search]</action>');
    expect(r1.info).toMatchObject({ valid: true, actionText: 'search[green tea]', page: 'results' });
    const r2 = env.step('I would click the first product now');
    expect(r2.info).toMatchObject({ valid: false, actionText: 'k the first product now'.slice(-20), executed: false });
    const r3 = env.step('<action></action>');
    expect(r3.info).toMatchObject({ valid: true, actionText: '', executed: false });
  });

  it('compact template: a choice word names an admissible action; the search choice takes query words', () => {
    const env = new WebShopEnv({ template: 'compact' });
    env.reset({ seed: 1 });
    expect(env.compactChoices()).toEqual(['search[<your query>]', 'click[search]']);
    const bad = env.step('<c1> </action>'); // search without words
    expect(bad.info).toMatchObject({ valid: false, actionText: 'invalid' });
    expect(env.step('<c3> </action>').info.valid).toBe(false); // out of range
    expect(env.step('green tea </action>').info.valid).toBe(false); // no choice word
    expect(env.step('<c2> </action>').info).toMatchObject({
      valid: true,
      actionText: 'click[search]',
      executed: false,
    });
    const r = env.step('<c1> green tea </action>');
    expect(r.info).toMatchObject({ valid: true, actionText: 'search[green tea]', page: 'results' });
    expect(env.step('<c1> back </action>').info.valid).toBe(false); // a click choice takes no words
    expect(env.step('<c1> </action>').info).toMatchObject({ valid: true, actionText: 'click[back to search]' });
  });

  it('maxSteps truncates an episode that never buys', () => {
    const env = new WebShopEnv({ maxSteps: 3 });
    env.reset({ seed: 0 });
    env.step(act('click[search]'));
    env.step(act('click[search]'));
    const r = env.step(act('click[search]'));
    expect(r).toMatchObject({ terminated: false, truncated: true, reward: 0 });
    expect(r.info.episode).toEqual({ r: 0, l: 3 });
  });

  it('validation seeds play the first 500 goals; goalIndex pins a goal; bad options name the problem', () => {
    const env = new WebShopEnv();
    expect(env.reset({ seed: 2 ** 16 + 7 }).info).toMatchObject({ goalIndex: 7, split: 'val' });
    const pinned = new WebShopEnv({ goalIndex: 42 });
    expect(pinned.reset({ seed: 1 }).info).toMatchObject({ goalIndex: 42 });
    expect(() => new WebShopEnv({ goalIndex: 10_000_000 })).toThrow(/goalIndex/);
    expect(() => new WebShopEnv({ products: 1 })).toThrow(/products/);
    expect(() => new WebShopEnv({ colour: 'red' } as never)).toThrow(/colour/);
    expect(() => env.reset({ seed: -1 })).toThrow(/seed/);
  });
});
