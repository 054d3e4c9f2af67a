import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../shared/did-you-mean.js';

describe('did-you-mean', () => {
  it('counts edits, an adjacent swap as one', () => {
    expect(editDistance('lr', 'lr')).toBe(0);
    expect(editDistance('lrr', 'lr')).toBe(1);
    expect(editDistance('mniutes', 'minutes')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests near names, best first, and nothing for far ones', () => {
    expect(closest('minuts', ['minutes', 'mode', 'iterations'])).toEqual(['minutes']);
    expect(closest('EVN', ['env', 'run'])).toEqual(['env']);
    expect(closest('eval', ['evalEvery', 'evalTasks', 'seed'])).toEqual(['evalEvery', 'evalTasks']); // prefix
    expect(closest('no', ['run', 'env', 'model'])).toEqual([]);
  });
});
