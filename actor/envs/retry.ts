/**
 * What the retry metrics (shared/rl/metrics.ts `retryStats`) key a trial's episodes by, as the env's
 * `EnvSpec.retryKey` says: the actions taken (the default; MineSweeper's fatal key is the mine cell) or the states
 * reached (Sokoban: the fatal key is the dead-locked state).
 */
import type { RetryEpisode } from '../../shared/rl/metrics.js';
import { envSpec } from './registry.js';

/** One env step as the trial saw it: the observation after the action and how the episode stood. */
export interface StepRecord {
  obs: string;
  terminated: boolean;
  won: boolean;
  /** The env's task score of this step, where it reports one (WebShop: the purchase's score in [0, 1]). */
  score?: number;
}

/**
 * A trial's episodes for `retryStats`. `plays` are the trial's play turns in order (episode index and action text),
 * `steps` the env steps in the same order (one per play turn).
 */
export function retryEpisodes(
  envId: string,
  plays: ReadonlyArray<{ episode: number; actionText: string }>,
  steps: ReadonlyArray<StepRecord>,
): RetryEpisode[] {
  if (plays.length !== steps.length)
    throw new Error(`retryEpisodes: ${plays.length} play turns but ${steps.length} env steps`);
  const byState = envSpec(envId).retryKey === 'state';
  const out: RetryEpisode[] = [];
  plays.forEach((p, i) => {
    const e = (out[p.episode] ??= { won: false, visited: [] }) as { won: boolean; visited: string[]; fatal?: string };
    const key = byState ? steps[i].obs : p.actionText;
    e.visited.push(key);
    if (steps[i].won) e.won = true;
    else if (steps[i].terminated) e.fatal = key;
  });
  return out.filter((e) => e !== undefined);
}
