/**
 * Behaviour-policy importance correction (docs/design.md §3, the decoupled three-policy form). Per response token:
 * μ = the behaviour policy that sampled it (`behavLogp`), π_prox = the learner's weights at the start of the
 * update (`proxLogp`), π_θ = the weights being optimised.
 *
 * w_t = π_prox/μ = exp(proxLogp − behavLogp), a constant (no gradient flows through it):
 *   truncate: w = min(w, C)                   (truncated IS)
 *   mask:     w = w if w ≤ C, else 0 and the token is counted as masked (AReaL)
 *   bypass:   w = 1, and the PPO ratio is taken against μ instead of π_prox (π_prox := μ; no recompute needed)
 *   off:      w = 1, the PPO ratio is taken against π_prox (plain PPO with recomputed old log-probs)
 * The log-probs must be of the same distribution the learner computes (temperature 1, no top-p/top-k
 * truncation); otherwise w is biased.
 */
import { badInput } from '../errors.js';

export type IsMode = 'truncate' | 'mask' | 'bypass' | 'off';

export interface ImportanceOptions {
  isMode: IsMode;
  /** The cap C of truncate/mask modes (> 0). */
  isCap: number;
}

export const DEFAULT_IMPORTANCE_OPTIONS: Readonly<ImportanceOptions> = Object.freeze({ isMode: 'truncate', isCap: 2 });

const IS_MODES: readonly IsMode[] = ['truncate', 'mask', 'bypass', 'off'];

/** Throws a bad-input error naming the option that is out of range. */
export function checkImportanceOptions(o: ImportanceOptions): void {
  if (!IS_MODES.includes(o.isMode))
    throw badInput(`isMode must be one of ${IS_MODES.join(', ')}, got ${JSON.stringify(o.isMode)}`);
  if (!(typeof o.isCap === 'number' && o.isCap > 0 && o.isCap !== Infinity))
    throw badInput(`isCap must be a finite number > 0, got ${o.isCap}`);
}

/** Throws naming the array and index of the first non-finite value among positions the mask selects. */
export function assertFinite(name: string, xs: ArrayLike<number>, mask?: ArrayLike<number>): void {
  for (let i = 0; i < xs.length; i++) {
    if ((mask === undefined || mask[i] !== 0) && !Number.isFinite(xs[i]))
      throw badInput(`${name}[${i}] is ${xs[i]}; log-probs and advantages must be finite`);
  }
}

/** Throws unless every given array has length n. */
export function checkLengths(n: number, arrays: Record<string, ArrayLike<number> | undefined>): void {
  for (const [name, a] of Object.entries(arrays)) {
    if (a !== undefined && a.length !== n)
      throw badInput(`${name} has length ${a.length}, expected ${n} (one value per token)`);
  }
}

/**
 * Importance weights w = π_prox/μ per token, after truncation or masking. Tokens outside `mask` (0 entries) get
 * w = 0 and are never counted as masked.
 */
export function importanceWeights(
  proxLogp: ArrayLike<number>,
  behavLogp: ArrayLike<number>,
  opts: ImportanceOptions = DEFAULT_IMPORTANCE_OPTIONS,
  mask?: ArrayLike<number>,
): { w: Float64Array; masked: Uint8Array } {
  checkImportanceOptions(opts);
  const n = proxLogp.length;
  checkLengths(n, { behavLogp, mask });
  assertFinite('proxLogp', proxLogp, mask);
  assertFinite('behavLogp', behavLogp, mask);
  const w = new Float64Array(n);
  const masked = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (mask !== undefined && mask[i] === 0) continue;
    if (opts.isMode === 'bypass' || opts.isMode === 'off') {
      w[i] = 1;
      continue;
    }
    const raw = Math.exp(proxLogp[i] - behavLogp[i]);
    if (opts.isMode === 'truncate') w[i] = Math.min(raw, opts.isCap);
    else if (raw <= opts.isCap) w[i] = raw;
    else masked[i] = 1;
  }
  return { w, masked };
}
