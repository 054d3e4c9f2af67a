/**
 * Group statistics the estimators share (docs/method.md §4.2–§4.3): mean and unbiased std with the reference's
 * one-value rule, `mean` / `mean_std` normalisation, and the identical-anchor step advantage.
 */
import { badInput } from '../errors.js';
import type { Norm } from './options.js';

/** Added to the std before dividing (the reference's epsilon). */
export const STD_EPSILON = 1e-6;

/** Mean and unbiased std of a sample; a single value gives {mean 0, std 1} (the reference's rule). */
export function groupStats(values: ArrayLike<number>): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) throw badInput('group statistics of an empty set');
  if (n === 1) return { mean: 0, std: 1 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}

/** x − m (`mean`) or (x − m)/(sd + 1e-6) (`mean_std`). */
export function normalise(x: number, s: { mean: number; std: number }, norm: Norm): number {
  return norm === 'mean' ? x - s.mean : (x - s.mean) / (s.std + STD_EPSILON);
}

/** A_S per row: centre (and optionally scale) the returns within groups of identical anchors; singletons get 0. */
export function stepAdvantages(anchors: readonly string[], G: ArrayLike<number>, norm: Norm): Float64Array {
  const clusters = new Map<string, number[]>();
  for (let i = 0; i < anchors.length; i++) {
    const c = clusters.get(anchors[i]);
    if (c) c.push(i);
    else clusters.set(anchors[i], [i]);
  }
  const out = new Float64Array(anchors.length);
  for (const idx of clusters.values()) {
    if (idx.length === 1) continue;
    const s = groupStats(idx.map((i) => G[i]));
    for (const i of idx) out[i] = normalise(G[i], s, norm);
  }
  return out;
}
