/**
 * Episode-level scores (docs/method.md §4.1): every play row carries the undiscounted sum of the play rewards of its
 * own episode; reflect rows carry 0; a row whose output did not parse loses `invalidPenalty` (its own row only).
 */
import type { Row } from './types.js';

/** Undiscounted play-reward sum of each row's episode (0 for reflect rows), without any penalty. */
export function episodeRewards(rows: readonly Row[]): Float64Array {
  const sums = new Map<number, number>();
  for (const r of rows) if (r.phase === 'play') sums.set(r.episode, (sums.get(r.episode) ?? 0) + r.reward);
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = rows[i].phase === 'play' ? sums.get(rows[i].episode)! : 0;
  return out;
}

/** The episode score the episode advantage is built from: episodeReward − invalidPenalty·[row invalid]. */
export function episodeScores(rows: readonly Row[], invalidPenalty: number): Float64Array {
  const out = episodeRewards(rows);
  for (let i = 0; i < rows.length; i++) if (!rows[i].valid) out[i] -= invalidPenalty;
  return out;
}
