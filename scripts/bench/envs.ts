/**
 * Env speed: env.step() calls per second under random play, per env and template, timed around step() only
 * (response generation excluded). Sokoban includes the dead-end check on every move; its first episode on a
 * fresh level (cold solvability memo) is reported separately from trial-like replays via restart().
 * Prints one JSON line. Usage: node --import tsx scripts/bench/envs.ts [--seconds 2]
 */
import { createRng } from '../../shared/rng.js';
import { makeEnv } from '../../actor/envs/registry.js';
import type { TextEnv } from '../../actor/envs/types.js';

const argSeconds = process.argv.indexOf('--seconds');
const SECONDS = argSeconds > 0 ? Number(process.argv[argSeconds + 1]) : 2;
const MOVES = ['up', 'down', 'left', 'right'];

interface Measure {
  steps: number;
  ms: number;
}
const rate = (m: Measure) => (m.ms > 0 ? Math.round((m.steps / m.ms) * 1000) : 0);

function randomResponse(env: TextEnv, rng: ReturnType<typeof createRng>): string {
  const compact = env.template === 'compact';
  if (env.id === 'lamer/Sokoban-v0') {
    const n = Number(env.params?.movesPerTurn ?? 1);
    const words = Array.from({ length: n }, () => rng.pick(MOVES));
    return compact ? `${words.join(' ')} </action>` : `<action>${words.join(', ')}</action>`;
  }
  const size = Number(env.params?.size ?? 6);
  const r = 1 + rng.int(size);
  const c = 1 + rng.int(size);
  return compact ? `${r} ${c} </action>` : `I will open this cell. <action>(${r}, ${c})</action>`;
}

function bench(id: string, template: 'full' | 'compact') {
  const env = makeEnv(id, { template });
  const rng = createRng(7);
  const first: Measure = { steps: 0, ms: 0 };
  const later: Measure = { steps: 0, ms: 0 };
  const resets: Measure = { steps: 0, ms: 0 };
  const end = performance.now() + SECONDS * 1000;
  let seed = 0;
  while (performance.now() < end) {
    const t0 = performance.now();
    env.reset({ seed: seed++ });
    resets.ms += performance.now() - t0;
    resets.steps++;
    // A trial replays the instance three times (LaMer N = 3).
    for (let ep = 0; ep < 3; ep++) {
      if (ep > 0) env.restart();
      const m = ep === 0 ? first : later;
      for (let turn = 0; turn < 60; turn++) {
        const response = randomResponse(env, rng);
        const t = performance.now();
        const r = env.step(response);
        m.ms += performance.now() - t;
        m.steps++;
        if (r.terminated || r.truncated) break;
      }
    }
  }
  const all = { steps: first.steps + later.steps, ms: first.ms + later.ms };
  return {
    stepsPerSec: rate(all),
    stepsPerSecFirstEpisode: rate(first),
    stepsPerSecRestarted: rate(later),
    resetsPerSec: rate(resets),
    steps: all.steps,
    levels: seed,
  };
}

const started = performance.now();
const out = {
  bench: 'envs',
  seconds: SECONDS,
  sokoban: { full: bench('lamer/Sokoban-v0', 'full'), compact: bench('lamer/Sokoban-v0', 'compact') },
  minesweeper: { full: bench('lamer/MineSweeper-v0', 'full'), compact: bench('lamer/MineSweeper-v0', 'compact') },
  wallSec: 0,
};
out.wallSec = Math.round((performance.now() - started) / 100) / 10;
process.stdout.write(JSON.stringify(out) + '\n');
