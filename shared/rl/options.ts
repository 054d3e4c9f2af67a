/**
 * The one schema of the advantage options: the run config's `algo` group spreads these fields, `lamer advantages`
 * validates its input with them, and `resolveAdvantageOptions` fills defaults for library callers. One default
 * per option (γ_traj 0.9: the paper's best for MineSweeper, the default environment; docs/method.md §3.4), with one
 * exception: the run config trains with `reflectAdvantage: 'step'` (shared/config.ts says why), the library keeps
 * the spec's `lamer`.
 */
import { z } from 'zod';
import { badInput } from '../errors.js';
import { ESTIMATOR_NAMES } from './estimators/index.js';

const UNIT = 'must be a number in [0, 1]';
const NON_NEGATIVE = 'must be a finite number >= 0';
const unit = z.number({ error: UNIT }).min(0, UNIT).max(1, UNIT);
const nonNegative = z.number({ error: NON_NEGATIVE }).min(0, NON_NEGATIVE).refine(Number.isFinite, NON_NEGATIVE);
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });

export const AdvantageOptionsSchema = z.strictObject({
  estimator: oneOf(ESTIMATOR_NAMES)
    .default('gigpo')
    .describe(`advantage estimator (${ESTIMATOR_NAMES.join(', ')})`),
  gammaStep: unit.default(0.95).describe('discount between turns of an episode'),
  gammaTraj: unit.default(0.9).describe('discount across episode boundaries (paper best for MineSweeper: 0.9)'),
  omega: nonNegative.default(1).describe('weight of the GiGPO step advantage'),
  gaeLambda: unit.default(0.95).describe('GAE lambda of the ppo estimator (1 = Monte-Carlo returns, 0 = one-step TD)'),
  norm: oneOf(['mean', 'mean_std'] as const)
    .default('mean')
    .describe('advantage normalisation'),
  invalidPenalty: nonNegative.default(0.5).describe('episode-score penalty for an unparsable turn'),
  returns: oneOf(['code', 'paper'] as const)
    .default('code')
    .describe('cross-episode return: reference code recursion or paper form'),
  /**
   * What a reflect row's GiGPO advantage is made of. `lamer` (the spec): A_E + ω·A_S, where A_E is the reflection's
   * score 0 minus the group's mean score — the same offset for every reflection of the group. `step`: ω·A_S only,
   * the next episode's return against the other reflections of the group (an ablation: the offset adds variance).
   */
  reflectAdvantage: oneOf(['lamer', 'step'] as const)
    .default('lamer')
    .describe(
      "reflect rows' advantage: 'lamer' A_E + omega*A_S (spec), " +
        "or 'step' omega*A_S only (drops the group-mean offset A_E)",
    ),
});

export type AdvantageOptions = z.infer<typeof AdvantageOptionsSchema>;
/** `mean`: subtract the group mean; `mean_std`: also divide by (unbiased std + 1e-6). GiGPO variants only. */
export type Norm = AdvantageOptions['norm'];
/** `code`: the reference implementation's recursion (default); `paper`: the paper's closed form. */
export type ReturnsMode = AdvantageOptions['returns'];
export type ReflectAdvantage = AdvantageOptions['reflectAdvantage'];

export const DEFAULT_ADVANTAGE_OPTIONS: Readonly<AdvantageOptions> = Object.freeze(AdvantageOptionsSchema.parse({}));

/**
 * Fills defaults and rejects bad options with a message naming the option. Keys other than the advantage
 * options are ignored, so a wider object (the run config's `algo` group) can be passed as is.
 */
export function resolveAdvantageOptions(options: Partial<AdvantageOptions> = {}): AdvantageOptions {
  const picked: Record<string, unknown> = {};
  for (const k of Object.keys(AdvantageOptionsSchema.shape)) {
    const v = (options as Record<string, unknown>)[k];
    if (v !== undefined) picked[k] = v;
  }
  const r = AdvantageOptionsSchema.safeParse(picked);
  if (!r.success) {
    const i = r.error.issues[0];
    throw badInput(`options.${i.path.join('.')} ${i.message}, got ${JSON.stringify(picked[String(i.path[0])])}`);
  }
  return r.data;
}
