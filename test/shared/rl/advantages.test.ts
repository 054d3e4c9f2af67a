import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeAdvantages, groupAdvantages, STD_EPSILON } from '../../../shared/rl/advantages.js';
import { resolveAdvantageOptions } from '../../../shared/rl/options.js';
import type { AdvantageOptions, Estimator, Group, Row } from '../../../shared/rl/types.js';
import { FC, arbGamma, arbGroup } from './arbitraries.js';

const flatA = (g: Group, o: Partial<AdvantageOptions> = {}): number[] =>
  groupAdvantages(g, o).trials.flatMap((t) => t.rows.map((r) => r.advantage));
const rowsOf = (g: Group): Row[] => g.trials.flatMap((t) => t.rows);
const play = (episode: number, turn: number, reward: number, anchor: string, valid = true): Row => ({
  phase: 'play',
  episode,
  turn,
  reward,
  valid,
  anchor,
});
const single = (trials: Row[][]): Group => ({
  groupId: 'g',
  trials: trials.map((rows, i) => ({ trialId: `t${i}`, rows })),
});

/**
 * Independent single-episode GiGPO (GiGPO paper with LaMer's all-rows episode statistics): explicit sums, no library
 * code.
 */
function singleEpisodeGigpo(g: Group, gamma: number, omega: number, penalty: number): number[] {
  const rows: Array<{ score: number; G: number; anchor: string }> = [];
  for (const t of g.trials) {
    const total = t.rows.reduce((s, r) => s + r.reward, 0);
    t.rows.forEach((r, i) => {
      let G = 0;
      for (let l = i; l < t.rows.length; l++) G += gamma ** (l - i) * t.rows[l].reward;
      rows.push({ score: total - (r.valid ? 0 : penalty), G, anchor: r.anchor });
    });
  }
  const mean = rows.length === 1 ? 0 : rows.reduce((s, r) => s + r.score, 0) / rows.length;
  return rows.map((r) => {
    const same = rows.filter((q) => q.anchor === r.anchor);
    const AS = same.length === 1 ? 0 : r.G - same.reduce((s, q) => s + q.G, 0) / same.length;
    return r.score - mean + omega * AS;
  });
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const scale = (xs: number[]): number => Math.max(1, ...xs.map(Math.abs));

describe('advantage properties (fast-check, fixed seed)', () => {
  it('mean-normalised advantages sum to zero over each group (gigpo mean, grpo, rloo)', () => {
    const est = fc.constantFrom<Estimator>('gigpo', 'grpo', 'rloo');
    fc.assert(
      fc.property(
        arbGroup(),
        est,
        arbGamma,
        fc.constantFrom<'code' | 'paper'>('code', 'paper'),
        (g, estimator, gammaTraj, returns) => {
          fc.pre(rowsOf(g).length >= 2); // a one-row group keeps its raw score (reference rule)
          const A = flatA(g, { estimator, gammaTraj, returns, norm: 'mean' });
          expect(Math.abs(sum(A))).toBeLessThan(1e-9 * scale(A) * A.length);
        },
      ),
      FC,
    );
  });

  it('gigpo with mean_std: the episode and step parts each sum to zero too', () => {
    fc.assert(
      fc.property(arbGroup({ minTrials: 2 }), (g) => {
        const A = flatA(g, { norm: 'mean_std' });
        expect(Math.abs(sum(A))).toBeLessThan(1e-6 * scale(A) * A.length);
      }),
      FC,
    );
  });

  it('identical trials get identical advantages', () => {
    fc.assert(
      fc.property(
        arbGroup({ maxTrials: 4 }),
        fc.nat(),
        fc.constantFrom<Estimator>('gigpo', 'gigpo-upstream', 'grpo', 'rloo'),
        (g, pick, estimator) => {
          const src = g.trials[pick % g.trials.length];
          const copy = { trialId: 'copy', rows: src.rows.map((r) => ({ ...r })) };
          const res = groupAdvantages({ ...g, trials: [...g.trials, copy] }, { estimator });
          const a = res.trials[pick % g.trials.length].rows;
          const b = res.trials[res.trials.length - 1].rows;
          expect(b).toEqual(a);
        },
      ),
      FC,
    );
  });

  it('permuting trials permutes the outputs', () => {
    fc.assert(
      fc.property(
        arbGroup({ minTrials: 2 }),
        fc.func(fc.integer()),
        fc.constantFrom<Estimator>('gigpo', 'gigpo-upstream', 'grpo', 'rloo'),
        fc.constantFrom<'mean' | 'mean_std'>('mean', 'mean_std'),
        (g, key, estimator, norm) => {
          const perm = g.trials.map((_, i) => i).sort((a, b) => key(a) - key(b) || a - b);
          const base = groupAdvantages(g, { estimator, norm });
          const permuted = groupAdvantages({ ...g, trials: perm.map((i) => g.trials[i]) }, { estimator, norm });
          perm.forEach((orig, pos) => {
            const want = base.trials[orig];
            const got = permuted.trials[pos];
            expect(got.trialId).toBe(want.trialId);
            got.rows.forEach((r, j) => {
              expect(r.G).toBe(want.rows[j].G);
              expect(r.episodeReward).toBe(want.rows[j].episodeReward);
              // Summation order changes, so compare to rounding error.
              expect(Math.abs(r.advantage - want.rows[j].advantage)).toBeLessThan(
                1e-9 * Math.max(1, Math.abs(want.rows[j].advantage)),
              );
            });
          });
        },
      ),
      FC,
    );
  });

  it('trials with one episode reduce to single-episode GiGPO, whatever γ_traj and the returns form', () => {
    fc.assert(
      fc.property(
        arbGroup({ maxEpisodes: 1 }),
        arbGamma,
        arbGamma,
        fc.constantFrom(0.4, 1, 1.2),
        fc.constantFrom<'code' | 'paper'>('code', 'paper'),
        (g, gammaStep, gammaTraj, omega, returns) => {
          const got = flatA(g, { gammaStep, gammaTraj, omega, returns });
          const want = singleEpisodeGigpo(g, gammaStep, omega, 0.5);
          got.forEach((a, i) => expect(Math.abs(a - want[i])).toBeLessThan(1e-9 * Math.max(1, Math.abs(want[i]))));
        },
      ),
      FC,
    );
  });

  it('a group-level gammaTraj overrides the option', () => {
    fc.assert(
      fc.property(arbGroup(), (g) => {
        const viaGroup = computeAdvantages([{ ...g, gammaTraj: 0.9 }], { gammaTraj: 0.1 })[0];
        const viaOption = computeAdvantages([g], { gammaTraj: 0.9 })[0];
        expect(viaGroup.trials).toEqual(viaOption.trials);
      }),
      { ...FC, numRuns: 100 },
    );
  });
});

describe('estimators on hand-worked examples', () => {
  // Three single-row trials with scores 1, 2, 6 (valid, distinct anchors).
  const g = single([[play(0, 0, 1, 'a')], [play(0, 0, 2, 'b')], [play(0, 0, 6, 'c')]]);

  it('rloo: each score minus the mean of the others', () => {
    const A = flatA(g, { estimator: 'rloo' });
    [1 - 4, 2 - 3.5, 6 - 1.5].forEach((v, i) => expect(A[i]).toBeCloseTo(v, 12));
  });

  it('grpo: (s − mean)/(unbiased std + 1e-6), regardless of norm', () => {
    const sd = Math.sqrt((4 + 1 + 9) / 2);
    for (const norm of ['mean', 'mean_std'] as const) {
      const A = flatA(g, { estimator: 'grpo', norm });
      [-2, -1, 3].forEach((d, i) => expect(A[i]).toBeCloseTo(d / (sd + STD_EPSILON), 12));
    }
  });

  it('gigpo mean_std divides both parts by their std + 1e-6', () => {
    // Two trials, one episode each: rewards [0, 1] and [0, 0]; anchors s0, s1 in both.
    const h = single([
      [play(0, 0, 0, 's0'), play(0, 1, 1, 's1')],
      [play(0, 0, 0, 's0'), play(0, 1, 0, 's1')],
    ]);
    // Scores 1, 1, 0, 0: mean .5, sd = sqrt(4·.25/3). G (γ .95): .95, 1, 0, 0.
    const sdE = Math.sqrt(1 / 3);
    const sdS0 = Math.sqrt(0.95 ** 2 / 2);
    const sdS1 = Math.sqrt(1 / 2);
    const want = [
      0.5 / (sdE + 1e-6) + 0.475 / (sdS0 + 1e-6),
      0.5 / (sdE + 1e-6) + 0.5 / (sdS1 + 1e-6),
      -0.5 / (sdE + 1e-6) - 0.475 / (sdS0 + 1e-6),
      -0.5 / (sdE + 1e-6) - 0.5 / (sdS1 + 1e-6),
    ];
    flatA(h, { norm: 'mean_std' }).forEach((a, i) => expect(a).toBeCloseTo(want[i], 9));
  });

  it('gigpo-upstream: one score per trial for the statistics, penalty on the step return too', () => {
    // A: rewards [0, 1]; B: rewards [0, 0, 0] with its second row invalid. γ_step .95.
    const h = single([
      [play(0, 0, 0, 's0'), play(0, 1, 1, 's1')],
      [play(0, 0, 0, 's0'), play(0, 1, 0, 's1', false), play(0, 2, 0, 's2')],
    ]);
    // Scores A: 1, 1; B: 0, −.5, 0. Trial scores (first rows): 1, 0 → mean .5.
    // G: A .95, 1; B 0, −.5, 0. Step groups s0 {.95, 0} mean .475; s1 {1, −.5} mean .25; s2 singleton.
    const want = [0.5 + 0.475, 0.5 + 0.75, -0.5 - 0.475, -1 - 0.75, -0.5];
    const res = groupAdvantages(h, { estimator: 'gigpo-upstream' });
    res.trials.flatMap((t) => t.rows.map((r) => r.advantage)).forEach((a, i) => expect(a).toBeCloseTo(want[i], 12));
    expect(res.trials[1].rows.map((r) => r.G)).toEqual([0, -0.5, 0]);
    // LaMer's gigpo on the same data: statistics over all 5 rows (mean 1.5/5 = .3), no penalty in G.
    const lamer = flatA(h);
    const wantLamer = [1 - 0.3 + 0.475, 1 - 0.3 + 0.5, -0.3 - 0.475, -0.5 - 0.3 - 0.5, -0.3];
    lamer.forEach((a, i) => expect(a).toBeCloseTo(wantLamer[i], 12));
  });

  it('a one-row group keeps its raw score (reference rule: mean 0, std 1)', () => {
    const one = single([[play(0, 0, 3, 'a', false)]]);
    expect(flatA(one)).toEqual([2.5]);
    expect(flatA(one, { estimator: 'rloo' })).toEqual([2.5]);
    expect(flatA(one, { estimator: 'grpo' })[0]).toBeCloseTo(2.5 / (1 + 1e-6), 12);
  });

  it('groups are independent of each other', () => {
    const a = single([[play(0, 0, 1, 'x')], [play(0, 0, 0, 'x')]]);
    const b = { ...single([[play(0, 0, 100, 'x')]]), groupId: 'other' };
    const both = computeAdvantages([a, b]);
    expect(both[0]).toEqual(groupAdvantages(a));
    expect(both.map((x) => x.groupId)).toEqual(['g', 'other']);
  });
});

describe('option and input checks', () => {
  it('fills the defaults (one γ_traj default, 0.9, shared with the run config)', () => {
    expect(resolveAdvantageOptions()).toEqual({
      estimator: 'gigpo',
      gammaStep: 0.95,
      gammaTraj: 0.9,
      omega: 1,
      gaeLambda: 0.95,
      norm: 'mean',
      invalidPenalty: 0.5,
      returns: 'code',
      reflectAdvantage: 'lamer',
    });
  });
  it("takes the run config's algo group as is (other keys ignored)", async () => {
    const { resolveConfig } = await import('../../../shared/config.js');
    const algo = resolveConfig({ algo: { estimator: 'rloo', gammaTraj: 0.9 } }).algo;
    const o = resolveAdvantageOptions(algo);
    expect(o).toEqual({
      estimator: 'rloo',
      gammaStep: algo.gammaStep,
      gammaTraj: 0.9,
      omega: algo.omega,
      gaeLambda: algo.gaeLambda,
      norm: algo.norm,
      invalidPenalty: algo.invalidPenalty,
      returns: algo.returns,
      reflectAdvantage: algo.reflectAdvantage,
    });
  });
  it('rejects bad options naming them', () => {
    expect(() => resolveAdvantageOptions({ gammaTraj: 1.5 })).toThrow(
      /options.gammaTraj must be a number in \[0, 1\], got 1.5/,
    );
    expect(() => resolveAdvantageOptions({ estimator: 'dapo' as Estimator })).toThrow(
      /options.estimator must be one of gigpo, gigpo-upstream, grpo, rloo, ppo/,
    );
    expect(() => resolveAdvantageOptions({ omega: Number.NaN })).toThrow(/options.omega/);
  });
  it('rejects rows out of chronological order naming group, trial and row', () => {
    const bad = {
      groupId: 'g7',
      trials: [{ trialId: 'trial-2', rows: [play(0, 0, 0, 'a'), play(0, 2, 0, 'b'), play(0, 1, 0, 'c')] }],
    };
    expect(() => computeAdvantages([bad])).toThrow(
      /group 'g7' trial 'trial-2' row 2: out of chronological order.*turns must increase/,
    );
    const badGamma = { ...single([[play(0, 0, 1, 'a')]]), gammaTraj: 2 };
    expect(() => computeAdvantages([badGamma])).toThrow(/group 'g' gammaTraj must be a number in \[0, 1\]/);
  });
});

describe('reflectAdvantage option', () => {
  const reflect = (episode: number): Row => ({
    phase: 'reflect',
    episode,
    turn: 0,
    reward: 0,
    valid: true,
    anchor: 'reflection',
  });
  // Two trials: both fail episode 0; the first wins episode 1 (+10), the second fails it again.
  const g = single([
    [play(0, 0, -0.1, 'a'), reflect(1), play(1, 0, 10, 'b')],
    [play(0, 0, -0.1, 'a'), reflect(1), play(1, 0, -0.1, 'b')],
  ]);
  it("'step' gives reflect rows ω·A_S only (hand-computed), play rows unchanged", () => {
    const lamer = flatA(g, { gammaTraj: 0.6 });
    const step = flatA(g, { gammaTraj: 0.6, reflectAdvantage: 'step' });
    // Reflect rows' G = the next episode's first return: 10 and −0.1 → A_S = ±5.05. Group mean score = 9.7 / 6.
    expect(step[1]).toBeCloseTo(5.05, 12);
    expect(step[4]).toBeCloseTo(-5.05, 12);
    expect(lamer[1]).toBeCloseTo(-9.7 / 6 + 5.05, 12);
    expect(lamer[4]).toBeCloseTo(-9.7 / 6 - 5.05, 12);
    for (const i of [0, 2, 3, 5]) expect(step[i]).toBe(lamer[i]);
  });
  it('rejects an unknown value, naming the option', () => {
    expect(() => resolveAdvantageOptions({ reflectAdvantage: 'none' as never })).toThrow(
      /options.reflectAdvantage must be one of lamer, step/,
    );
  });
});
