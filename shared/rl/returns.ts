/**
 * Cross-episode discounted returns over one trial (docs/method.md §3). Rows must be in chronological order
 * (see order.ts); the functions here do not re-check it.
 *
 * code (default, the reference `credit_assignment`): walk the rows backwards with `running = 0`;
 *   play row of episode k: running = r + (k == episode of the previously visited play row ? γ_step : γ_traj)·running
 *   reflect row:           G = running (the return of the first play turn of the episode that follows it).
 *   Closed form: G_t^(n) = g_t^(n) + γ_step^(T_n−1−t)·γ_traj·G_0^(n+1).
 * paper: G_t^(n) = g_t^(n) + Σ_{m>n} γ_traj^(m−n)·g_0^(m), i.e. the future episodes are not further discounted by
 *   the steps left in the current one; reflect rows again take G_0 of the episode that follows them.
 * with g_t^(n) = Σ_{l≥t} γ_step^(l−t)·r_l^(n), the undiscounted-across-episodes return inside episode n.
 */
import type { ReturnsMode, Row } from './types.js';

/** The reference code's recursion. */
export function codeReturns(rows: readonly Row[], gammaStep: number, gammaTraj: number): Float64Array {
  const G = new Float64Array(rows.length);
  let running = 0;
  let cur = rows.length ? rows[rows.length - 1].episode : 0;
  for (let i = rows.length - 1; i >= 0; i--) {
    const r = rows[i];
    if (r.phase === 'play') {
      running = r.reward + (r.episode === cur ? gammaStep : gammaTraj) * running;
      cur = r.episode;
    }
    G[i] = running;
  }
  return G;
}

/** Discounted return inside each episode only (g_t^(n)); reflect rows get 0. */
export function episodeReturns(rows: readonly Row[], gammaStep: number): Float64Array {
  const g = new Float64Array(rows.length);
  let running = 0;
  let cur = -1;
  for (let i = rows.length - 1; i >= 0; i--) {
    const r = rows[i];
    if (r.phase !== 'play') continue;
    if (r.episode !== cur) running = 0;
    running = r.reward + gammaStep * running;
    cur = r.episode;
    g[i] = running;
  }
  return g;
}

/** The paper's closed form. */
export function paperReturns(rows: readonly Row[], gammaStep: number, gammaTraj: number): Float64Array {
  const g = episodeReturns(rows, gammaStep);
  // g0[n] = return of the first play row of episode n; later rows overwrite nothing because we keep the first.
  const g0 = new Map<number, number>();
  let maxEpisode = -1;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r.phase === 'play' && !g0.has(r.episode)) g0.set(r.episode, g[i]);
    if (r.episode > maxEpisode) maxEpisode = r.episode;
  }
  // V[n] = G_0^(n) = g_0^(n) + γ_traj·V[n+1]; absent episodes contribute nothing.
  const V = new Float64Array(maxEpisode + 2);
  for (let n = maxEpisode; n >= 0; n--) V[n] = (g0.get(n) ?? 0) + gammaTraj * V[n + 1];
  const G = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    G[i] = r.phase === 'play' ? g[i] + gammaTraj * V[r.episode + 1] : V[r.episode];
  }
  return G;
}

/** Cross-episode return of every row of one trial. */
export function crossEpisodeReturns(
  rows: readonly Row[],
  gammaStep: number,
  gammaTraj: number,
  mode: ReturnsMode = 'code',
): Float64Array {
  return mode === 'paper' ? paperReturns(rows, gammaStep, gammaTraj) : codeReturns(rows, gammaStep, gammaTraj);
}
