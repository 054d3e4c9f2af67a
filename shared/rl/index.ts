/**
 * The learner's mathematics in one import: returns, scores, advantages, policy loss, IS weights, admission, metrics,
 * batching.
 */
export * from './types.js';
export * from './options.js';
export * from './estimator.js';
export * from './estimators/index.js';
export * from './stats.js';
export * from './order.js';
export * from './returns.js';
export * from './scores.js';
export * from './advantages.js';
export * from './input.js';
export * from './importance.js';
export * from './policy-loss.js';
export * from './diagnostics.js';
export * from './admission.js';
export * from './metrics.js';
export * from './batch.js';
