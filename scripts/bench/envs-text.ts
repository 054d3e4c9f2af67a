/**
 * Text-world env speed (WebShop, ALFWorld): env.step() calls per second under random admissible play and under
 * the scripted policy, per template, timed around step() only (policy excluded); WebShop search steps (BM25)
 * and purchases (fuzzy scoring) separately; resets per second; prompt building per turn; and the one-off cost
 * of building the WebShop catalogue (products, goals, BM25 index) in a fresh process.
 * Prints one JSON line. Usage: node --import tsx scripts/bench/envs-text.ts [--seconds 2]
 */
import { createRng } from '../../shared/rng.js';
import { makeEnv } from '../../actor/envs/registry.js';
import { buildPrompt } from '../../actor/envs/prompt.js';
import { scriptedAction } from '../../actor/envs/scripted.js';
import type { EpisodeLog, TextEnv } from '../../actor/envs/types.js';
import { generateProducts } from '../../actor/envs/webshop/generate.js';
import { shuffleGoals, syntheticGoals } from '../../actor/envs/webshop/goals.js';
import { ProductSearch } from '../../actor/envs/webshop/search.js';

const argSeconds = process.argv.indexOf('--seconds');
const SECONDS = argSeconds > 0 ? Number(process.argv[argSeconds + 1]) : 2;

interface Measure {
  n: number;
  ms: number;
}
const rate = (m: Measure) => (m.ms > 0 ? Math.round((m.n / m.ms) * 1000) : 0);
const micros = (m: Measure) => (m.n > 0 ? Math.round((m.ms / m.n) * 1000 * 10) / 10 : 0);

function catalogueBuild() {
  const t0 = performance.now();
  const products = generateProducts(0, 1000);
  const t1 = performance.now();
  const goals = shuffleGoals(syntheticGoals(products, 0));
  const t2 = performance.now();
  const search = new ProductSearch(products);
  const t3 = performance.now();
  const q = { n: 0, ms: 0 };
  for (const g of goals.slice(0, 500)) {
    const t = performance.now();
    search.search([g.query, ...g.attributes].join(' '));
    q.ms += performance.now() - t;
    q.n++;
  }
  return {
    products: products.length,
    goals: goals.length,
    productsMs: Math.round(t1 - t0),
    goalsMs: Math.round(t2 - t1),
    indexMs: Math.round(t3 - t2),
    searchMicros: micros(q),
  };
}

function bench(id: string, template: 'full' | 'compact', policy: 'random' | 'scripted') {
  const env: TextEnv = makeEnv(id, { template });
  const rng = createRng(7);
  const steps = { n: 0, ms: 0 };
  const searches = { n: 0, ms: 0 };
  const buys = { n: 0, ms: 0 };
  const resets = { n: 0, ms: 0 };
  const prompts = { n: 0, ms: 0 };
  let wins = 0;
  let episodes = 0;
  const end = performance.now() + SECONDS * 1000;
  let seed = 0;
  while (performance.now() < end) {
    const t0 = performance.now();
    const { obs } = env.reset({ seed: seed++ });
    resets.ms += performance.now() - t0;
    resets.n++;
    for (let ep = 0; ep < 3; ep++) {
      // a trial replays the task (LaMer N = 3)
      if (ep > 0) env.restart();
      episodes++;
      const log: EpisodeLog = { steps: [], won: false };
      for (let turn = 0; turn < 15; turn++) {
        const tp = performance.now();
        buildPrompt(env, {
          template,
          phase: 'play',
          memory: 'reflection',
          initialObs: obs,
          episode: ep,
          turn,
          current: log,
          past: [],
        });
        prompts.ms += performance.now() - tp;
        prompts.n++;
        const response = scriptedAction(env, template, rng, { noise: policy === 'random' ? 1 : 0 });
        const t = performance.now();
        const r = env.step(response);
        const dt = performance.now() - t;
        steps.ms += dt;
        steps.n++;
        const a = r.info.actionText;
        if (a.startsWith('search[')) {
          searches.ms += dt;
          searches.n++;
        }
        if (a === 'click[buy now]') {
          buys.ms += dt;
          buys.n++;
        }
        log.steps.push({ action: a, obs: r.obs });
        if (r.info.won) wins++;
        if (r.terminated || r.truncated) break;
      }
    }
  }
  return {
    stepsPerSec: rate(steps),
    stepMicros: micros(steps),
    resetsPerSec: rate(resets),
    promptMicros: micros(prompts),
    ...(id === 'lamer/WebShop-v0' ? { searchStepMicros: micros(searches), buyStepMicros: micros(buys) } : {}),
    winRate: Math.round((wins / Math.max(1, episodes)) * 1000) / 1000,
    steps: steps.n,
    tasks: seed,
  };
}

const started = performance.now();
const catalogue = catalogueBuild();
const out = {
  bench: 'envs-text',
  seconds: SECONDS,
  webshopCatalogue: catalogue,
  webshop: {
    full: {
      random: bench('lamer/WebShop-v0', 'full', 'random'),
      scripted: bench('lamer/WebShop-v0', 'full', 'scripted'),
    },
    compact: {
      random: bench('lamer/WebShop-v0', 'compact', 'random'),
      scripted: bench('lamer/WebShop-v0', 'compact', 'scripted'),
    },
  },
  alfworld: {
    full: {
      random: bench('lamer/ALFWorld-v0', 'full', 'random'),
      scripted: bench('lamer/ALFWorld-v0', 'full', 'scripted'),
    },
    compact: {
      random: bench('lamer/ALFWorld-v0', 'compact', 'random'),
      scripted: bench('lamer/ALFWorld-v0', 'compact', 'scripted'),
    },
  },
  wallSec: 0,
};
out.wallSec = Math.round((performance.now() - started) / 100) / 10;
process.stdout.write(JSON.stringify(out) + '\n');
