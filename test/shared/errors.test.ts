import { describe, expect, it } from 'vitest';
import { LamerError, badInput, isLamerError } from '../../shared/errors.js';

describe('error catalog', () => {
  it('keeps the code across a structured clone (worker boundary)', () => {
    const e = badInput('mine (7, 1) is outside the 6x6 board');
    const cloned = structuredClone(e.toJSON());
    expect(isLamerError(cloned)).toBe(true);
    expect(cloned.code).toBe('RL_ERR_BAD_INPUT');
    expect(e).toBeInstanceOf(LamerError);
    expect(isLamerError(new Error('plain'))).toBe(false);
  });
});
