/** WebShop's `EnvSpec`: everything the registry and the central env modules know about it. */
import { seededReplay } from '../common/seeded-replay.js';
import type { CheckedEpisode, EnvSpec, RuleCheck } from '../types.js';
import { WEBSHOP_ID, WebShopEnv, type WebShopOptions, WebShopOptionsSchema } from './env.js';
import { buildWebShopPrompt, webshopPromptContent } from './prompt.js';
import { webshopScripted } from './scripted.js';

/**
 * Only a purchase ends an episode; it reports the WebShop score, and the reward is 10 exactly when that score is
 * 1 (won); every other step pays 0. The scripted shopper must buy a matching product.
 */
const checkRules: RuleCheck = (ck, seed, _reset, solved, random) => {
  const check = (ep: CheckedEpisode, what: string) =>
    ep.results.forEach((r, t) => {
      const score = r.info.taskScore;
      const bought = typeof score === 'number';
      if (bought !== r.terminated) ck.fail(`seed ${seed}: ${what} step ${t + 1} purchase and termination disagree`);
      if (bought && !(score >= 0 && score <= 1))
        ck.fail(`seed ${seed}: ${what} step ${t + 1} score ${String(score)} outside [0, 1]`);
      if (r.info.won !== (bought && score === 1))
        ck.fail(`seed ${seed}: ${what} step ${t + 1} won flag disagrees with score ${String(score)}`);
      if (r.reward !== (r.info.won ? 10 : 0))
        ck.fail(`seed ${seed}: ${what} step ${t + 1} reward ${r.reward} with won=${r.info.won}`);
      if (r.terminated && r.info.actionText !== 'click[buy now]')
        ck.fail(`seed ${seed}: ${what} step ${t + 1} ended without buy now`);
    });
  check(solved, 'solver');
  check(random, 'random');
  if (!solved.won) ck.fail(`seed ${seed}: the scripted shopper did not buy a matching product`);
  return solved.won ? solved.turns : null;
};

export const webshopSpec: EnvSpec = {
  id: WEBSHOP_ID,
  aliases: ['webshop'],
  description:
    'WebShop (LaMer): search a 1,000-product catalogue, open items, choose options and buy what the instruction ' +
    'asks for',
  make: (o) => new WebShopEnv(o as WebShopOptions),
  options: WebShopOptionsSchema,
  prompt: webshopPromptContent,
  // 2: the search page's button reads `click search`, no longer the same as the query choice `search`.
  promptRevision: 2,
  buildPrompt: buildWebShopPrompt,
  scripted: webshopScripted,
  checkRules,
  replay: seededReplay,
};
