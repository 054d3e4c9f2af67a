import { describe, expect, it } from 'vitest';
import { benchDecode } from '../../../scripts/bench/decode.js';

describe('bench decode (tiny model)', () => {
  it('reports the engine peak next to the actor pipeline, from alternating rounds', async () => {
    const r = await benchDecode({
      seconds: 2,
      reps: 2,
      set: [
        'model.dModel=16',
        'model.nLayer=1',
        'model.nHead=2',
        'model.nCtx=128',
        'sampling.maxActionTokens=8',
        'sampling.maxReflectTokens=8',
      ],
    });
    expect(r.pipelineOverPeakRounds).toHaveLength(2);
    expect(r.peakTokensPerSec).toBeGreaterThan(0);
    expect(r.pipelineTokensPerSec).toBeGreaterThan(0);
    expect(r.pipelineOverPeak).toBeCloseTo(
      Math.min(...r.pipelineOverPeakRounds) / 2 + Math.max(...r.pipelineOverPeakRounds) / 2,
      9,
    );
    expect(r.pipelineTrials).toBeGreaterThan(0);
    expect(r.pipelineBatchFill).toBeGreaterThan(0);
    expect(r.pipelineBatchFill).toBeLessThanOrEqual(1);
    expect(r.promptTokensPerGenerated).toBeGreaterThan(0);
    expect(r.trialsInFlight).toBe(4 * 8); // actor.groupsInFlight x env.groupSize
  }, 60_000);
});
