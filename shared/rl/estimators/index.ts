/**
 * The estimator registry: a new estimator is one module in this folder plus one line here. Its name then appears
 * in `algo.estimator` (config, `--help`, the `lamer advantages` input schema) with no other edit.
 */
import type { AdvantageEstimator } from '../estimator.js';
import { gigpoUpstream } from './gigpo-upstream.js';
import { gigpo } from './gigpo.js';
import { grpo } from './grpo.js';
import { ppo } from './ppo.js';
import { rloo } from './rloo.js';

export const ESTIMATORS = {
  gigpo,
  'gigpo-upstream': gigpoUpstream,
  grpo,
  rloo,
  ppo,
} as const satisfies Record<string, AdvantageEstimator>;

export type Estimator = keyof typeof ESTIMATORS;

/** The registered names, for zod enums (the default estimator first). */
export const ESTIMATOR_NAMES = Object.keys(ESTIMATORS) as [Estimator, ...Estimator[]];
