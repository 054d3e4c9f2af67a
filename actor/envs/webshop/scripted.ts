/**
 * Scripted WebShop shopper: the test oracle and demonstration source. It searches with the goal's query and
 * attributes, walks the result pages, opens the first listed product that satisfies the whole goal, selects the
 * requested options and buys it. It reads the goal as the instruction states it (attributes, options, price
 * bound) and the full records of the products a page lists (as a shopper who opens each one would); it never
 * uses the goal's target product id. `noise` replaces an action by a random admissible one.
 */
import type { Rng } from '../../../shared/rng.js';
import type { EpisodeLog, ScriptedPolicy, TextEnv } from '../types.js';
import { compactText } from './compact.js';
import { instructionOf, type WebShopEnv } from './env.js';
import { INSTRUCTION_LEADS } from './lexicon.js';
import { SEARCH_PLACEHOLDER, choiceMarker } from './parse.js';
import { purchaseScore } from './reward.js';
import type { Goal, Product } from './types.js';

/** The query the shopper types: the goal's product query and attribute phrases. */
export function oracleQuery(goal: Goal): string {
  return [goal.query, ...goal.attributes].join(' ');
}

/** Options to click for a product: the goal's values that the product offers. */
function wantedOptions(p: Product, goal: Goal): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(goal.goalOptions)) if (p.options[name]?.includes(value)) out[name] = value;
  return out;
}

/** Would buying `p` with the goal's options score 1? */
function satisfies(env: WebShopEnv, p: Product, goal: Goal): boolean {
  const target = env.catalogue.byAsin.get(goal.asin);
  return purchaseScore(p, goal, p.price, wantedOptions(p, goal), target?.titleNouns ?? []).score === 1;
}

/** The next action (`search[...]` / `click[...]`) of the shopper on the env's current page. */
export function oracleAction(env: WebShopEnv): string {
  const goal = env.goal();
  const site = env.siteView();
  const s = site.state;
  switch (s.page) {
    case 'search':
      return `search[${oracleQuery(goal)}]`;
    case 'results': {
      const listed = site.pageProducts();
      const hit = listed.find((p) => satisfies(env, p, goal));
      if (hit) return `click[${hit.asin.toLowerCase()}]`;
      if (site.clickables().has('next >')) return 'click[next >]';
      // Nothing satisfies the goal in the 50 results: buy the best-scoring listed product (a failure).
      const best = listed
        .slice()
        .sort(
          (a, b) =>
            purchaseScore(b, goal, b.price, wantedOptions(b, goal), []).score -
            purchaseScore(a, goal, a.price, wantedOptions(a, goal), []).score,
        )[0];
      return best ? `click[${best.asin.toLowerCase()}]` : 'click[back to search]';
    }
    case 'item': {
      const p = env.catalogue.byAsin.get(s.asin as string) as Product;
      const want = wantedOptions(p, goal);
      for (const [name, value] of Object.entries(want)) if (s.options[name] !== value) return `click[${value}]`;
      if (satisfies(env, p, goal) || !site.clickables().has('< prev')) return 'click[buy now]';
      return 'click[< prev]';
    }
    case 'description':
    case 'features':
    case 'reviews':
    case 'attributes':
      return 'click[< prev]';
    case 'done':
      return 'click[back to search]';
  }
}

function randomAction(env: WebShopEnv, rng: Rng): string {
  const actions = env.admissibleActions();
  const a = rng.pick(actions);
  if (a !== SEARCH_PLACEHOLDER) return a;
  const words = env.instruction.split(' ');
  const from = rng.int(words.length);
  return `search[${words.slice(from, from + 1 + rng.int(3)).join(' ')}]`;
}

/** Compact form of an action: its choice word, plus query words for a search. */
export function compactResponseWords(env: WebShopEnv, action: string): string[] {
  const choices = env.compactChoices();
  if (action.startsWith('search[')) {
    const i = choices.indexOf(SEARCH_PLACEHOLDER);
    const query = compactText(action.slice('search['.length, -1)).filter((w) => w !== '<unk>');
    return i < 0 ? ['invalid'] : [choiceMarker(i), ...query];
  }
  const i = choices.indexOf(action);
  return i < 0 ? ['invalid'] : [choiceMarker(i)];
}

/** The instruction without its opening, options and price clause: what to search for. */
function searchPhrase(instruction: string): string {
  let t = instruction.replace(/, and price lower than [\d.]+ dollars$/, '').replace(/ with [a-z ]+: .*$/, '');
  for (const lead of INSTRUCTION_LEADS) if (t.startsWith(`${lead} `)) t = t.slice(lead.length + 1);
  return t.replace(/^(a|an|some) /, '');
}

function optionPhrase(instruction: string): string[] {
  const m = / with (.*?)(, and price lower than [\d.]+ dollars)?$/.exec(instruction);
  if (!m) return [];
  return m[1]
    .split(', and ')
    .map((kv) => kv.split(': ')[1] ?? '')
    .filter((v) => v.length > 0);
}

function priceBound(instruction: string): string | null {
  const m = /price lower than ([\d.]+) dollars$/.exec(instruction);
  return m ? m[1] : null;
}

export const webshopScripted: ScriptedPolicy = {
  act(env: TextEnv, rng: Rng, noise: number) {
    const e = env as WebShopEnv;
    const action = noise > 0 && rng.next() < noise ? randomAction(e, rng) : oracleAction(e);
    return { full: action, compact: compactResponseWords(e, action) };
  },
  reflect(initialObs: string, log: EpisodeLog) {
    const instruction = instructionOf(initialObs) ?? '';
    const phrase = searchPhrase(instruction);
    const options = optionPhrase(instruction);
    const bound = priceBound(instruction);
    const bought = log.steps.some((s) => s.action === 'click[buy now]');
    const reasoning = bought
      ? 'I bought a product that did not match every requirement of the instruction; ' +
        'I should have checked its features, options and price first.'
      : 'I never bought anything: I spent my actions browsing instead of committing to a matching product.';
    const full = [
      `Search for "${phrase}".`,
      'Open a listed product whose title and features match every requested attribute',
      bound ? `and whose price is below ${bound} dollars,` : '',
      options.length > 0 ? `select ${options.join(' and ')},` : '',
      'then click buy now.',
    ]
      .filter((x) => x.length > 0)
      .join(' ');
    const compact = [
      'search',
      ...compactText(phrase),
      ...(options.length > 0 ? ['pick', ...options.flatMap(compactText)] : []),
      ...(bound ? ['under', ...String(Math.round(Number(bound))).split('')] : []),
    ].filter((w) => w !== '<unk>');
    return { full, compact, reasoning };
  },
};
