/**
 * Off-policy diagnostics logged every update (docs/design.md §3): staleness, importance weights, clipping, masking,
 * KL(μ‖π_prox) and the effective sample size. Definitions are on the fields of `OffPolicyDiagnostics`.
 */
import { badInput } from '../errors.js';
import { checkLengths, importanceWeights, type ImportanceOptions } from './importance.js';
import { DEFAULT_POLICY_LOSS_OPTIONS, ppoTokenLoss, type ClipOptions } from './policy-loss.js';

export interface OffPolicyInput {
  proxLogp: ArrayLike<number>;
  behavLogp: ArrayLike<number>;
  /** 1 at response tokens, 0 elsewhere (batch.ts `respMask`). */
  mask: ArrayLike<number>;
  /** Current log-probs π_θ; omitted = π_θ equals π_prox (start of the update: nothing is clipped). */
  logp?: ArrayLike<number>;
  /** Per-token advantages; needed with `logp` for the clipped fractions. */
  advantages?: ArrayLike<number>;
  /** Staleness of each row (current policy version − the version that sampled it). */
  staleness: ArrayLike<number>;
}

export interface OffPolicyDiagnostics {
  stalenessMin: number;
  stalenessMean: number;
  stalenessMax: number;
  /** Mean and max of the applied weights w over response tokens (masked tokens count as 0). */
  isWeightMean: number;
  isWeightMax: number;
  /** Max of the raw ratio π_prox/μ before truncation/masking. */
  isRatioMax: number;
  /** Fraction of response tokens whose PPO clip binds (gradient zeroed), and whose dual clip binds. */
  clippedFraction: number;
  dualClippedFraction: number;
  /** Fraction of response tokens dropped by the mask mode's cap. */
  maskedFraction: number;
  /** KL(μ‖π_prox) by the k3 estimator on the tokens sampled from μ: mean of (ρ − 1) − log ρ, ρ = π_prox/μ. */
  klBehavProx: number;
  /** Normalised effective sample size of w: (Σw)² / (n·Σw²), in [0, 1]; 1 = all weights equal. */
  ess: number;
  /** Response tokens the statistics are over. */
  tokens: number;
}

/** Off-policy diagnostics of one (mini)batch, over its response tokens (staleness over the given rows). */
export function offPolicyDiagnostics(
  input: OffPolicyInput,
  options: Partial<ImportanceOptions & ClipOptions> = {},
): OffPolicyDiagnostics {
  const opts = { ...DEFAULT_POLICY_LOSS_OPTIONS, ...options };
  const { proxLogp, behavLogp, mask } = input;
  const n = mask.length;
  checkLengths(n, { proxLogp, behavLogp, logp: input.logp, advantages: input.advantages });
  const { w, masked } = importanceWeights(proxLogp, behavLogp, opts, mask);
  let tokens = 0,
    sumW = 0,
    sumW2 = 0,
    maxW = 0,
    maxRatio = 0,
    nMasked = 0,
    kl = 0;
  for (let i = 0; i < n; i++) {
    if (mask[i] === 0) continue;
    tokens++;
    sumW += w[i];
    sumW2 += w[i] * w[i];
    if (w[i] > maxW) maxW = w[i];
    const lr = proxLogp[i] - behavLogp[i];
    const rho = Math.exp(lr);
    if (rho > maxRatio) maxRatio = rho;
    nMasked += masked[i];
    kl += rho - 1 - lr;
  }
  let nClip = 0,
    nDual = 0;
  if (input.logp !== undefined) {
    if (input.advantages === undefined)
      throw badInput('offPolicyDiagnostics: advantages are required with logp (for the clipped fractions)');
    const anchor = opts.isMode === 'bypass' ? behavLogp : proxLogp;
    const f = ppoTokenLoss(input.logp, anchor, input.advantages, opts);
    for (let i = 0; i < n; i++)
      if (mask[i] !== 0) {
        nClip += f.clipped[i];
        nDual += f.dualClipped[i];
      }
  }
  const s = input.staleness;
  let sMin = Infinity,
    sMax = -Infinity,
    sSum = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] < sMin) sMin = s[i];
    if (s[i] > sMax) sMax = s[i];
    sSum += s[i];
  }
  const frac = (k: number): number => (tokens ? k / tokens : 0);
  return {
    stalenessMin: s.length ? sMin : 0,
    stalenessMean: s.length ? sSum / s.length : 0,
    stalenessMax: s.length ? sMax : 0,
    isWeightMean: frac(sumW),
    isWeightMax: maxW,
    isRatioMax: maxRatio,
    clippedFraction: frac(nClip),
    dualClippedFraction: frac(nDual),
    maskedFraction: frac(nMasked),
    klBehavProx: frac(kl),
    ess: sumW2 > 0 ? (sumW * sumW) / (tokens * sumW2) : 0,
    tokens,
  };
}

/** The diagnostics under their metric names (docs/design.md §7, `group/name`). */
export function offPolicyMetrics(d: OffPolicyDiagnostics): Record<string, number> {
  return {
    'train/staleness_min': d.stalenessMin,
    'train/staleness_mean': d.stalenessMean,
    'train/staleness_max': d.stalenessMax,
    'train/is_weight_mean': d.isWeightMean,
    'train/is_weight_max': d.isWeightMax,
    'train/is_ratio_max': d.isRatioMax,
    'train/clip_frac': d.clippedFraction,
    'train/dual_clip_frac': d.dualClippedFraction,
    'train/is_masked_frac': d.maskedFraction,
    'train/kl_behav': d.klBehavProx,
    'train/ess': d.ess,
  };
}
