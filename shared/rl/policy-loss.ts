/**
 * The reference policy loss. The training graph (ONNX) must implement exactly this and is tested against it.
 *
 * Inputs, one value per token position of a [B, T] batch (batch.ts layout), float64 here:
 *   logp      log π_θ(token)      current weights (the only input that carries gradient)
 *   proxLogp  log π_prox(token)   weights at the start of the update
 *   behavLogp log μ(token)        behaviour policy that sampled the token
 *   A         advantage of the token's row (broadcast to its response tokens)
 *   H         entropy of π_θ at the token's position (carries gradient through the logits, not through logp)
 *   m         1 at response tokens, 0 elsewhere;  n = Σ m  (the number of response tokens of the minibatch)
 * Options: ε = clipEps (0.2), c = dualClipC (3), isMode/C (importance.ts), β = entropyCoef (0.001).
 *
 * Per token:
 *   anchor = behavLogp if isMode = bypass, else proxLogp
 *   δ      = clamp(logp − anchor, −20, 20)            r = exp(δ)
 *   pg1    = −A·r      pg2 = −A·clamp(r, 1−ε, 1+ε)    pgc = max(pg1, pg2)
 *   pg     = min(pgc, −A·c) if A < 0, else pgc       (dual clip)
 *   w      = importance weight (importance.ts), a constant
 * Loss of the minibatch (token-mean):
 *   L = (1/n)·Σ_t m_t·w_t·pg_t − β·(1/n)·Σ_t m_t·H_t            (L = 0 when n = 0)
 * Gradients:
 *   ∂L/∂logp_t = (m_t·w_t/n)·g_t,  g_t = −A·r  unless one of these holds, then g_t = 0:
 *       |logp − anchor| > 20 (the clamp is active);  A < 0 and pgc > −A·c (dual clip binds);  pg2 > pg1 (clip binds)
 *     (ties go to the unclipped branch, i.e. at r = 1±ε exactly the gradient is −A·r, like torch.clamp)
 *   ∂L/∂H_t    = −β·m_t/n
 * Flags: clipped_t = [pg2 > pg1], dualClipped_t = [A < 0 and pgc > −A·c] (verl's clipfrac / clipfrac_lower).
 * With μ = π_prox = π_θ: w = 1, r = 1 and ∂L/∂logp_t = −A_t/n, the plain policy gradient.
 */
import { badInput } from '../errors.js';
import {
  assertFinite,
  checkImportanceOptions,
  checkLengths,
  importanceWeights,
  type ImportanceOptions,
} from './importance.js';

/** Bound on |logp − anchor| before exponentiation, so one wild token cannot overflow the ratio. */
export const LOG_RATIO_CLAMP = 20;

export interface ClipOptions {
  /** PPO clip ε: the ratio is clipped to [1−ε, 1+ε]. */
  clipEps: number;
  /** Dual-clip constant c (> 1): for A < 0 the per-token loss is at most −A·c. */
  dualClipC: number;
}

export interface PolicyLossOptions extends ClipOptions, ImportanceOptions {
  /** β of the entropy bonus. */
  entropyCoef: number;
}

export const DEFAULT_POLICY_LOSS_OPTIONS: Readonly<PolicyLossOptions> = Object.freeze({
  clipEps: 0.2,
  dualClipC: 3,
  isMode: 'truncate',
  isCap: 2,
  entropyCoef: 0.001,
});

/** Throws a bad-input error naming the first option out of range. */
export function checkPolicyLossOptions(o: PolicyLossOptions): void {
  if (!(o.clipEps > 0 && o.clipEps < 1)) throw badInput(`clipEps must be in (0, 1), got ${o.clipEps}`);
  if (!(o.dualClipC > 1 && Number.isFinite(o.dualClipC)))
    throw badInput(`dualClipC must be a finite number > 1, got ${o.dualClipC}`);
  if (!(o.entropyCoef >= 0 && Number.isFinite(o.entropyCoef)))
    throw badInput(`entropyCoef must be a finite number >= 0, got ${o.entropyCoef}`);
  checkImportanceOptions(o);
}

export interface PpoTokenResult {
  /** pg_t per token (before the weight w and the 1/n of the mean). */
  loss: Float64Array;
  /** ∂pg_t/∂logp_t. */
  dLossDLogp: Float64Array;
  ratio: Float64Array;
  clipped: Uint8Array;
  dualClipped: Uint8Array;
}

/** The per-token dual-clip PPO surrogate against `anchorLogp` (π_prox, or μ in bypass mode). */
export function ppoTokenLoss(
  logp: ArrayLike<number>,
  anchorLogp: ArrayLike<number>,
  advantages: ArrayLike<number>,
  opts: ClipOptions = DEFAULT_POLICY_LOSS_OPTIONS,
): PpoTokenResult {
  const n = logp.length;
  checkLengths(n, { anchorLogp, advantages });
  const lo = 1 - opts.clipEps,
    hi = 1 + opts.clipEps;
  const out: PpoTokenResult = {
    loss: new Float64Array(n),
    dLossDLogp: new Float64Array(n),
    ratio: new Float64Array(n),
    clipped: new Uint8Array(n),
    dualClipped: new Uint8Array(n),
  };
  for (let i = 0; i < n; i++) {
    const A = advantages[i];
    const d = logp[i] - anchorLogp[i];
    const dc = Math.min(LOG_RATIO_CLAMP, Math.max(-LOG_RATIO_CLAMP, d));
    const r = Math.exp(dc);
    const pg1 = -A * r;
    const pg2 = -A * Math.min(hi, Math.max(lo, r));
    const clip = pg2 > pg1;
    const pgc = clip ? pg2 : pg1;
    const dual = A < 0 && pgc > -A * opts.dualClipC;
    out.ratio[i] = r;
    out.loss[i] = dual ? -A * opts.dualClipC : pgc;
    out.clipped[i] = clip ? 1 : 0;
    out.dualClipped[i] = dual ? 1 : 0;
    // `+ 0` turns −0 into 0 so gradients compare equal to an independent computation.
    out.dLossDLogp[i] = clip || dual || dc !== d || A === 0 ? 0 : -A * r + 0;
  }
  return out;
}

/** Per-token inputs of one minibatch, all of length B·T (batch.ts layout). */
export interface TokenLossInput {
  logp: ArrayLike<number>;
  proxLogp: ArrayLike<number>;
  behavLogp: ArrayLike<number>;
  advantages: ArrayLike<number>;
  entropy: ArrayLike<number>;
  mask: ArrayLike<number>;
}

export interface TokenLossResult {
  /** L, the scalar minimised. */
  loss: number;
  /** (1/n)·Σ m·w·pg, the policy-gradient part. */
  pgLoss: number;
  /** (1/n)·Σ m·H, the token-mean entropy. */
  entropy: number;
  /** n, the response tokens averaged over. */
  tokens: number;
  /** ∂L/∂logp per token. */
  dLossDLogp: Float64Array;
  /** ∂L/∂H per token (−β/n at response tokens). */
  dLossDEntropy: Float64Array;
  /** The importance weights used and the masked flags (importance.ts). */
  w: Float64Array;
  masked: Uint8Array;
  clipped: Uint8Array;
  dualClipped: Uint8Array;
}

/** Token-mean loss of a minibatch with importance weights and entropy bonus (formula in the file header). */
export function aggregateTokenMean(input: TokenLossInput, options: Partial<PolicyLossOptions> = {}): TokenLossResult {
  const o: PolicyLossOptions = { ...DEFAULT_POLICY_LOSS_OPTIONS, ...options };
  checkPolicyLossOptions(o);
  const { mask } = input;
  const N = mask.length;
  checkLengths(N, {
    logp: input.logp,
    proxLogp: input.proxLogp,
    behavLogp: input.behavLogp,
    advantages: input.advantages,
    entropy: input.entropy,
  });
  assertFinite('logp', input.logp, mask);
  assertFinite('advantages', input.advantages, mask);
  assertFinite('entropy', input.entropy, mask);
  const { w, masked } = importanceWeights(input.proxLogp, input.behavLogp, o, mask);
  const anchor = o.isMode === 'bypass' ? input.behavLogp : input.proxLogp;
  const ppo = ppoTokenLoss(input.logp, anchor, input.advantages, o);
  let n = 0;
  for (let i = 0; i < N; i++) if (mask[i] !== 0) n++;
  const dLossDLogp = new Float64Array(N);
  const dLossDEntropy = new Float64Array(N);
  let pgSum = 0,
    hSum = 0;
  for (let i = 0; i < N; i++) {
    if (mask[i] === 0) continue;
    pgSum += w[i] * ppo.loss[i];
    hSum += input.entropy[i];
    dLossDLogp[i] = (w[i] * ppo.dLossDLogp[i]) / n + 0; // + 0: no −0 for a zero weight
    dLossDEntropy[i] = -o.entropyCoef / n;
  }
  const pgLoss = n ? pgSum / n : 0;
  const entropy = n ? hSum / n : 0;
  return {
    loss: pgLoss - o.entropyCoef * entropy,
    pgLoss,
    entropy,
    tokens: n,
    dLossDLogp,
    dLossDEntropy,
    w,
    masked,
    clipped: maskFlags(ppo.clipped, mask),
    dualClipped: maskFlags(ppo.dualClipped, mask),
  };
}

function maskFlags(flags: Uint8Array, mask: ArrayLike<number>): Uint8Array {
  for (let i = 0; i < flags.length; i++) if (mask[i] === 0) flags[i] = 0;
  return flags;
}
