/**
 * The fields that say who generated a trial and whether its rows carry behaviour log-probs: optional, so records
 * written before them stay valid; a row that says it has none must not smuggle any in.
 */
import { describe, expect, it } from 'vitest';
import { decodeTrial, encode } from '../../proto/codec.js';
import { TrialSchema, toTensor, validateTrial, type Trial } from '../../proto/messages.js';
import { sampleTrial } from './samples.js';

function withoutLogp(t: Trial): Trial {
  return {
    ...t,
    policy: { backend: 'openai', model: 'Qwen/Qwen3-4B' },
    rows: t.rows.map((r) => ({ ...r, hasLogp: false, behavLogp: toTensor(new Float32Array(0)) })),
  };
}

describe('trial records: policy backend and hasLogp', () => {
  it('old records (no fields) and new ones validate; the fields survive the codec', () => {
    const old = sampleTrial(4);
    expect('hasLogp' in old.rows[0]).toBe(false);
    expect(TrialSchema.safeParse(old).success).toBe(true);
    expect(validateTrial(old)).toBeNull();
    const t = withoutLogp(sampleTrial(5));
    expect(TrialSchema.safeParse(t).success).toBe(true);
    expect(validateTrial(t)).toBeNull();
    const r = decodeTrial(encode(t));
    if (!r.ok) throw new Error(r.reason);
    const back = r.trial;
    expect(back.policy).toEqual({ backend: 'openai', model: 'Qwen/Qwen3-4B' });
    expect(back.rows.every((r) => r.hasLogp === false && r.behavLogp.shape[0] === 0)).toBe(true);
    const explicit = {
      ...old,
      policy: { backend: 'onnx' as const },
      rows: old.rows.map((r) => ({ ...r, hasLogp: true })),
    };
    expect(validateTrial(TrialSchema.parse(explicit))).toBeNull();
  });

  it('rejects log-probs on a row that says it has none, a missing set on one that does, and unknown backends', () => {
    const t = withoutLogp(sampleTrial(6));
    t.rows[1] = { ...t.rows[1], behavLogp: toTensor(Float32Array.from([-1, -1, -1, -1])) };
    expect(validateTrial(t)).toMatch(/row 1: hasLogp is false but behavLogp has 4 values/);
    const u = sampleTrial(7);
    u.rows[0] = { ...u.rows[0], behavLogp: toTensor(new Float32Array(0)) };
    expect(validateTrial(u)).toMatch(/row 0: response has 4 tokens but behavLogp has 0/);
    expect(TrialSchema.safeParse({ ...sampleTrial(8), policy: { backend: 'vllm' } }).success).toBe(false);
    expect(TrialSchema.safeParse({ ...sampleTrial(8), policy: { backend: 'openai', extra: 1 } }).success).toBe(false);
  });
});
