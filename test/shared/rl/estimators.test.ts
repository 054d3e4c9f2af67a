/** The estimator registry is the only list of estimators: config, input schema and dispatch all follow it. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../../shared/config.js';
import { computeAdvantages } from '../../../shared/rl/advantages.js';
import { ESTIMATORS, ESTIMATOR_NAMES } from '../../../shared/rl/estimators/index.js';
import { parseAdvantagesInput } from '../../../shared/rl/input.js';
import { DEFAULT_ADVANTAGE_OPTIONS } from '../../../shared/rl/options.js';
import type { Group } from '../../../shared/rl/types.js';

const group: Group = {
  groupId: 'g0',
  trials: [
    { trialId: 'a', rows: [{ phase: 'play', episode: 0, turn: 0, reward: 1, valid: true, anchor: 's0' }] },
    { trialId: 'b', rows: [{ phase: 'play', episode: 0, turn: 0, reward: 0, valid: true, anchor: 's0' }] },
  ],
};

afterEach(() => vi.restoreAllMocks());

describe('estimator registry', () => {
  it('every registered name is accepted by the run config and the advantages input, and nothing else is', () => {
    expect(ESTIMATOR_NAMES).toEqual(Object.keys(ESTIMATORS));
    for (const name of ESTIMATOR_NAMES) {
      expect(resolveConfig({ algo: { estimator: name } }).algo.estimator).toBe(name);
      expect(parseAdvantagesInput({ options: { estimator: name }, groups: [group] }).options.estimator).toBe(name);
    }
    expect(() => resolveConfig({ algo: { estimator: 'dapo' } })).toThrow(/algo\.estimator/);
  });

  it('dispatches to the registered module of the chosen name', () => {
    for (const name of ESTIMATOR_NAMES) {
      const spy = vi.spyOn(ESTIMATORS[name], 'advantages');
      computeAdvantages([group], { estimator: name });
      expect(spy).toHaveBeenCalledTimes(1);
      spy.mockRestore();
    }
  });

  it('says which estimators ignore γ_traj, and they really do', () => {
    const twoEpisodes: Group = {
      groupId: 'g1',
      trials: [0, 1].map((t) => ({
        trialId: `t${t}`,
        rows: [
          { phase: 'play' as const, episode: 0, turn: 0, reward: -0.1 * (t + 1), valid: true, anchor: 's0' },
          { phase: 'reflect' as const, episode: 1, turn: 0, reward: 0, valid: true, anchor: 'reflection' },
          { phase: 'play' as const, episode: 1, turn: 0, reward: 10 * t, valid: true, anchor: 's0' },
        ],
      })),
    };
    for (const name of ESTIMATOR_NAMES) {
      const adv = (g: number) =>
        computeAdvantages([twoEpisodes], { estimator: name, gammaTraj: g })[0].trials.flatMap((t) =>
          t.rows.map((r) => r.advantage),
        );
      const changes = adv(0.1).some((a, i) => Math.abs(a - adv(0.9)[i]) > 1e-9);
      expect(changes, name).toBe(ESTIMATORS[name].usesGammaTraj);
    }
  });

  it("the run config and the library share one default per option, except the reflect rows' advantage", () => {
    const algo = resolveConfig({}).algo;
    for (const [k, v] of Object.entries(DEFAULT_ADVANTAGE_OPTIONS))
      if (k !== 'reflectAdvantage') expect(algo[k as keyof typeof algo], k).toBe(v);
    // The library (and `lamer advantages`) computes the spec's; training defaults to the measured-better variant.
    expect(DEFAULT_ADVANTAGE_OPTIONS.reflectAdvantage).toBe('lamer');
    expect(algo.reflectAdvantage).toBe('step');
  });
});
