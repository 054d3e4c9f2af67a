/**
 * Next-token sampling from one row of logits: temperature, nucleus (top-p), seeded. Returns the log-prob of the
 * sampled token under BOTH the distribution actually sampled from (the behaviour policy μ the learner's
 * importance weights need) and the plain model distribution (temperature 1, no top-p).
 */
import type { Xoshiro128Rng } from '../rng.js';

export interface SampleSettings {
  /** 0 = greedy (argmax, lowest id on ties). */
  temperature: number;
  /** Nucleus mass in (0, 1]; 1 = full distribution. */
  topP: number;
}

export interface Sampled {
  token: number;
  /**
   * log μ(token): under softmax(logits/temperature) restricted to the top-p nucleus and renormalised (0 when greedy).
   */
  logprob: number;
  /** log p(token) under softmax(logits) (the model's own distribution). */
  rawLogprob: number;
}

/**
 * Samples one token from `logits[offset .. offset+V)`. Uses exactly one uniform draw per call when
 * temperature > 0 (none when greedy), so streams stay aligned across batch compositions.
 */
export function sampleToken(
  logits: Float32Array,
  offset: number,
  V: number,
  s: SampleSettings,
  rng: Xoshiro128Rng,
  scratch?: Float64Array,
): Sampled {
  let max = -Infinity;
  let arg = 0;
  for (let i = 0; i < V; i++) {
    const z = logits[offset + i]!;
    if (z > max) {
      max = z;
      arg = i;
    }
  }
  let sumRaw = 0;
  for (let i = 0; i < V; i++) sumRaw += Math.exp(logits[offset + i]! - max);
  const logZ = max + Math.log(sumRaw);
  const raw = (t: number) => logits[offset + t]! - logZ;
  if (s.temperature === 0) return { token: arg, logprob: 0, rawLogprob: raw(arg) };

  const q = scratch && scratch.length >= V ? scratch : new Float64Array(V);
  const inv = 1 / s.temperature;
  let sum = 0;
  for (let i = 0; i < V; i++) {
    const e = Math.exp((logits[offset + i]! - max) * inv);
    q[i] = e;
    sum += e;
  }
  const u = rng.uniform();
  if (s.topP >= 1) {
    let target = u * sum;
    let tok = V - 1;
    for (let i = 0; i < V; i++) {
      target -= q[i]!;
      if (target < 0) {
        tok = i;
        break;
      }
    }
    // Guard against rounding landing on a zero-probability tail token.
    while (q[tok] === 0 && tok > 0) tok--;
    return { token: tok, logprob: Math.log(q[tok]! / sum), rawLogprob: raw(tok) };
  }
  // Nucleus: most probable first (ties by lower id), smallest prefix with mass >= topP.
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => q[b]! - q[a]! || a - b);
  let kept = 0;
  let mass = 0;
  while (kept < V) {
    mass += q[order[kept]!]!;
    kept++;
    if (mass >= s.topP * sum) break;
  }
  let target = u * mass;
  let tok = order[kept - 1]!;
  for (let k = 0; k < kept; k++) {
    target -= q[order[k]!]!;
    if (target < 0) {
      tok = order[k]!;
      break;
    }
  }
  return { token: tok, logprob: Math.log(q[tok]! / mass), rawLogprob: raw(tok) };
}
