import { describe, expect, it } from 'vitest';
import { AlfWorldEnv } from '../../../../actor/envs/alfworld/env.js';
import { alfworldEvalMetrics, alfworldEvalReport } from '../../../../actor/envs/alfworld/report.js';
import { alfworldValidationSeeds } from '../../../../actor/envs/alfworld/tasks.js';
import { scriptedAction } from '../../../../actor/envs/scripted.js';
import { createRng } from '../../../../shared/rng.js';

describe('ALFWorld evaluation report', () => {
  it('groups pass@k by task type and by ID/OOD split from the seeds alone', () => {
    // seeds 2^16 + i cycle Cool, Pick2, Pick, Look, Clean, Heat
    const trials = [
      { seed: 65536, episodesWon: [false, true, false] }, // Cool, won on attempt 2
      { seed: 65537, episodesWon: [false, false, false] }, // Pick2
      { seed: 65538, episodesWon: [true] }, // Pick (stopped after the win)
      { seed: 65539, episodesWon: [false, false, true] }, // Look
      { seed: 65544, episodesWon: [false, false, false] }, // Pick
    ];
    const r = alfworldEvalReport(trials);
    expect(Object.keys(r.byType)).toEqual(['Pick', 'Look', 'Cool', 'Pick2']);
    expect(r.byType.Pick).toEqual({ n: 2, passAtK: [0.5, 0.5, 0.5] });
    expect(r.byType.Look).toEqual({ n: 1, passAtK: [0, 0, 1] });
    expect(r.byType.Cool).toEqual({ n: 1, passAtK: [0, 1, 1] });
    expect(r.inDistribution).toEqual({ n: 3, passAtK: [1 / 3, 1 / 3, 2 / 3] });
    expect(r.outOfDistribution).toEqual({ n: 2, passAtK: [0, 0.5, 0.5] });
    expect(r.all.n).toBe(5);
    const m = alfworldEvalMetrics(r);
    expect(m['eval/alfworld/ood/pass@2']).toBe(0.5);
    expect(m['eval/alfworld/Pick/pass@1']).toBe(0.5);
    // a loaded game's type overrides the seed's
    expect(alfworldEvalReport([{ seed: 2, episodesWon: [true], taskType: 'pick_two_obj_and_place' }]).byType).toEqual({
      Pick2: { n: 1, passAtK: [1] },
    });
    expect(() => alfworldEvalReport([{ seed: -1, episodesWon: [true] }])).toThrow(/seed/);
    expect(() => alfworldEvalReport([{ seed: 1, episodesWon: [] }])).toThrow(/no episodes/);
  });

  it('a noisy scripted player evaluated on the fixed ID and OOD seed lists', () => {
    const env = new AlfWorldEnv();
    const rng = createRng(9);
    const seeds = [...alfworldValidationSeeds('valid_id', 40), ...alfworldValidationSeeds('valid_ood', 20)];
    const trials = seeds.map((seed) => {
      env.reset({ seed });
      const episodesWon: boolean[] = [];
      for (let ep = 0; ep < 3 && !episodesWon.includes(true); ep++) {
        if (ep > 0) env.restart();
        let won = false;
        for (let t = 0; t < 10 && !env.episodeOver; t++)
          won = env.step(scriptedAction(env, 'full', rng, { noise: 0.3 })).info.won;
        episodesWon.push(won);
      }
      return { seed, episodesWon };
    });
    const r = alfworldEvalReport(trials);
    expect(r.inDistribution.n).toBe(40);
    expect(r.outOfDistribution.n).toBe(20);
    for (const p of [r.inDistribution, r.outOfDistribution, ...Object.values(r.byType)]) {
      expect(p.passAtK[0]).toBeLessThanOrEqual(p.passAtK[1]);
      expect(p.passAtK[1]).toBeLessThanOrEqual(p.passAtK[2]);
    }
    expect(r.all.passAtK[2]).toBeGreaterThan(r.all.passAtK[0]); // retries help a noisy player
  });
});
