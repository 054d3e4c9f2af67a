import { describe, expect, it } from 'vitest';
import { LeaseSchema, TrialSchema, toTensor, trialKeyString, validateTrial, type Trial } from '../../proto/messages.js';
import { PROTOCOL_VERSION } from '../../proto/version.js';
import { sampleKey, sampleMessages, sampleTrial, sampleTrialBody } from './samples.js';

function trialWith(body: Partial<Trial>, seed = 1): Trial {
  return { ...sampleTrial(seed), ...body };
}

describe('validateTrial', () => {
  it('accepts well-formed trials: lost after N attempts, won at the last played episode', () => {
    expect(PROTOCOL_VERSION).toBe(3);
    expect(validateTrial(sampleTrial(1))).toBeNull();
    const won = {
      type: 'trial' as const,
      key: sampleKey(1),
      ...sampleTrialBody(2, { episodes: 2, attempts: 3, won: true }),
    };
    expect(TrialSchema.safeParse(won).success).toBe(true);
    expect(validateTrial(won)).toBeNull();
    expect(validateTrial(sampleTrial(3), { learnerPolicyVersion: 3, vocabSize: 64 })).toBeNull();
  });

  it('names the problem for each semantic violation', () => {
    const t = sampleTrial(4);
    const rows = t.rows;
    const cases: Array<[Trial, RegExp]> = [
      [trialWith({ rows: [] }), /no rows/],
      [
        trialWith({ rows: [{ ...rows[0], behavLogp: toTensor(new Float32Array([-1])) }, ...rows.slice(1)] }),
        /response has 4 tokens but behavLogp has 1/,
      ],
      [
        trialWith({
          rows: [{ ...rows[0], behavLogp: toTensor(new Float32Array([-1, Number.NaN, -1, -1])) }, ...rows.slice(1)],
        }),
        /behavLogp\[1\]/,
      ],
      [
        trialWith({
          rows: [{ ...rows[0], behavLogp: toTensor(new Float32Array([-1, 0.5, -1, -1])) }, ...rows.slice(1)],
        }),
        /behavLogp\[1\] = 0.5/,
      ],
      [trialWith({ rows: [rows[1], rows[0], ...rows.slice(2)] }), /chronological/],
      [trialWith({ rows: [...rows.slice(0, 3), ...rows.slice(4)] }), /1 reflections for 3 episodes/],
      [trialWith({ episodesWon: [true, false, false] }), /episode 0 was won but the trial continued/],
      [trialWith({ episodesWon: [false, false] }), /ended after 2 of 3 episodes|beyond/],
      [trialWith({ attempts: 2 }), /3 entries for 2 attempts/],
      [trialWith({ stats: { ...t.stats, finishedAt: t.stats.startedAt - 1 } }), /finishedAt/],
      [trialWith({ rows: [{ ...rows[0], phase: 'reflect' }, ...rows.slice(1)] }), /reflection precedes episode 0/],
    ];
    cases.forEach(([trial, re], i) => expect(validateTrial(trial) ?? `case ${i} accepted`).toMatch(re));
    expect(validateTrial(t, { learnerPolicyVersion: 2 })).toMatch(/policyVersion 3 is newer than the learner's 2/);
    expect(validateTrial(t, { vocabSize: 10 })).toMatch(/outside the vocabulary/);
  });

  it('the schema bounds leases and keys', () => {
    const lease = sampleMessages().find((m) => m.type === 'lease')!;
    expect(LeaseSchema.safeParse(lease).success).toBe(true);
    expect(LeaseSchema.safeParse({ ...lease, trialIndices: [8] }).success).toBe(false);
    expect(LeaseSchema.safeParse({ ...lease, envOptions: { when: new Date(0) } }).success).toBe(false);
    expect(trialKeyString(sampleKey(5))).toBe('run-1/actor-1/inc-a/5');
  });
});
