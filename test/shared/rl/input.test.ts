import { describe, expect, it } from 'vitest';
import { parseAdvantagesInput } from '../../../shared/rl/input.js';
import { trialOrderProblem } from '../../../shared/rl/order.js';
import type { Row } from '../../../shared/rl/types.js';

const P = (episode: number, turn: number): Row => ({
  phase: 'play',
  episode,
  turn,
  reward: 0,
  valid: true,
  anchor: 'a',
});
const R = (episode: number): Row => ({
  phase: 'reflect',
  episode,
  turn: 0,
  reward: 0,
  valid: true,
  anchor: 'reflection',
});
const doc = (rows: unknown[], extra: Record<string, unknown> = {}) => ({
  groups: [{ groupId: 'g1', trials: [{ trialId: 'tA', rows }] }],
  ...extra,
});

describe('chronological order of a trial', () => {
  it('accepts play/reflect/play sequences with or without reflections', () => {
    expect(trialOrderProblem([P(0, 0), P(0, 1), R(1), P(1, 0), P(2, 0), P(2, 1)])).toBeNull();
  });
  it.each([
    ['empty trial', [], /no rows/],
    ['starts with a reflect row', [R(1), P(1, 0)], /must start with a play row of episode 0/],
    ['starts in episode 1', [P(1, 0)], /must start with a play row of episode 0/],
    [
      'turn goes back',
      [P(0, 1), P(0, 0)],
      /row \(episode 0, turn 0\) follows play row \(episode 0, turn 1\); turns must increase/,
    ],
    [
      'episode goes back',
      [P(0, 0), P(1, 0), P(0, 1)],
      /out of chronological order: play row \(episode 0, turn 1\) follows play row \(episode 1/,
    ],
    ['episode skipped', [P(0, 0), P(2, 0)], /out of chronological order/],
    [
      'reflect carries the previous episode index',
      [P(0, 0), R(0), P(1, 0)],
      /reflect row carries the index of the episode that follows it/,
    ],
    ['two reflections in a row', [P(0, 0), R(1), R(1), P(1, 0)], /out of chronological order/],
    ['reflection at the end', [P(0, 0), R(1)], /ends with a reflect row for episode 1/],
    ['non-integer turn', [P(0, 0.5)], /turn must be an integer/],
  ])('rejects: %s', (_name, rows, msg) => {
    const p = trialOrderProblem(rows as Row[]);
    expect(p?.message).toMatch(msg);
  });
});

describe('advantages input file', () => {
  it('fills default options and keeps the rows', () => {
    const r = parseAdvantagesInput(doc([P(0, 0)]));
    expect(r.options).toEqual({
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
    expect(r.groups[0].trials[0].rows).toEqual([P(0, 0)]);
    expect(parseAdvantagesInput(doc([P(0, 0)], { options: { estimator: 'rloo' } })).options.gammaStep).toBe(0.95);
  });
  it('names a missing field by its path', () => {
    const { valid: _v, ...noValid } = P(0, 0);
    expect(() => parseAdvantagesInput(doc([P(0, 0), noValid]))).toThrow(
      /groups\[0\]\.trials\[0\]\.rows\[1\]\.valid: .*expected boolean/i,
    );
  });
  it('rejects an unknown estimator naming the option', () => {
    expect(() => parseAdvantagesInput(doc([P(0, 0)], { options: { estimator: 'dapo' } }))).toThrow(
      /options\.estimator: must be one of gigpo, gigpo-upstream, grpo, rloo, ppo/,
    );
  });
  it('rejects unknown keys (strict) and out-of-range numbers', () => {
    expect(() => parseAdvantagesInput(doc([{ ...P(0, 0), extra: 1 }]))).toThrow(/rows\[0\]: unknown key\(s\) 'extra'/);
    expect(() => parseAdvantagesInput(doc([P(0, 0)], { options: { gammaTraj: 1.2 } }))).toThrow(/options\.gammaTraj:/);
    expect(() =>
      parseAdvantagesInput({ groups: [{ groupId: 'g', gammaTraj: -1, trials: [{ trialId: 't', rows: [P(0, 0)] }] }] }),
    ).toThrow(/groups\[0\]\.gammaTraj:/);
    expect(() => parseAdvantagesInput({})).toThrow(/groups: /);
    expect(() => parseAdvantagesInput([])).toThrow(/\(top level\)/);
  });
  it('rejects rows out of order naming group, trial and row', () => {
    expect(() => parseAdvantagesInput(doc([P(0, 0), P(1, 0), P(0, 1)]))).toThrow(
      /group 'g1' trial 'tA' row 2: out of chronological order/,
    );
  });
  it('rejects duplicate ids', () => {
    const t = { trialId: 'tA', rows: [P(0, 0)] };
    expect(() => parseAdvantagesInput({ groups: [{ groupId: 'g', trials: [t, t] }] })).toThrow(
      /group 'g': duplicate trialId 'tA'/,
    );
    expect(() =>
      parseAdvantagesInput({
        groups: [
          { groupId: 'g', trials: [t] },
          { groupId: 'g', trials: [t] },
        ],
      }),
    ).toThrow(/duplicate groupId 'g'/);
  });
});
