import { describe, expect, it } from 'vitest';
import { invalidFractions } from '../../../shared/rl/metrics.js';

describe('invalidFractions', () => {
  it('reports the unparsable share overall and per phase', () => {
    const rows = [
      { phase: 'play' as const, valid: true },
      { phase: 'play' as const, valid: false },
      { phase: 'play' as const, valid: true },
      { phase: 'play' as const, valid: true },
      { phase: 'reflect' as const, valid: false },
      { phase: 'reflect' as const, valid: true },
    ];
    expect(invalidFractions(rows)).toEqual({
      'rollout/invalid_frac': 2 / 6,
      'rollout/invalid_play_frac': 1 / 4,
      'rollout/invalid_reflect_frac': 1 / 2,
    });
  });

  it('has no reflect figure without reflections (plain RL) and 0 for no rows', () => {
    expect(invalidFractions([{ phase: 'play', valid: false }])).toEqual({
      'rollout/invalid_frac': 1,
      'rollout/invalid_play_frac': 1,
    });
    expect(invalidFractions([])).toEqual({ 'rollout/invalid_frac': 0, 'rollout/invalid_play_frac': 0 });
  });
});
