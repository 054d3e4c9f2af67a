/** The learner's periodic evaluation: ALFWorld's per-type and ID/OOD metrics beside pass@k. */
import { describe, expect, it } from 'vitest';
import { envEvalMetrics } from '../../learner/evaluator.js';
import type { Trial } from '../../proto/messages.js';
import { resolveConfig } from '../../shared/config.js';

// Only the fields the grouping reads; the rest of a trial record plays no part.
const trial = (taskSeed: number, episodesWon: boolean[]) => ({ taskSeed, episodesWon }) as unknown as Trial;

describe('envEvalMetrics', () => {
  it('logs eval/alfworld/<type>/pass@k, id and ood for ALFWorld, over run.evalAttempts', () => {
    const cfg = resolveConfig({ env: { id: 'lamer/ALFWorld-v0' }, run: { evalAttempts: 3 } });
    // seeds 2^16 + i cycle Cool, Pick2, Pick, Look, Clean, Heat
    const m = envEvalMetrics(cfg, [
      trial(65536, [false, true]),
      trial(65538, [true]),
      trial(65539, [false, false, false]),
    ]);
    expect(m['eval/alfworld/Cool/pass@1']).toBe(0);
    expect(m['eval/alfworld/Cool/pass@2']).toBe(1);
    expect(m['eval/alfworld/Pick/pass@3']).toBe(1);
    expect(m['eval/alfworld/id/pass@1']).toBe(0.5);
    expect(m['eval/alfworld/ood/pass@3']).toBe(1);
    expect(m['eval/alfworld/all/pass@3']).toBeCloseTo(2 / 3);
    expect(Object.keys(m).filter((k) => k.startsWith('eval/alfworld/id/'))).toHaveLength(3);
    expect(m['eval/alfworld/Pick2/pass@1']).toBeUndefined(); // no trial of that type
  });

  it('logs nothing extra for other envs, for loaded ALFWorld games, or without trials', () => {
    const t = [trial(65536, [true])];
    expect(envEvalMetrics(resolveConfig({ env: { id: 'lamer/MineSweeper-v0' } }), t)).toEqual({});
    const loaded = resolveConfig({ env: { id: 'lamer/ALFWorld-v0', options: { dataDir: 'games' } } });
    expect(envEvalMetrics(loaded, t)).toEqual({});
    expect(envEvalMetrics(resolveConfig({ env: { id: 'lamer/ALFWorld-v0' } }), [])).toEqual({});
  });
});
