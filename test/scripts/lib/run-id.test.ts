/** A run id fixed before the learner starts (`lamer learner --run-id`, LAMER_RUN_ID): taken once, then enforced. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pinRunId } from '../../../scripts/lib/run-id.js';

describe('pinRunId', () => {
  it('names a new run directory, accepts the same id again and refuses another', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'lamer-runid-')), 'run');
    pinRunId(dir, 'lamer-k8s-1');
    expect(readFileSync(join(dir, 'run-id'), 'utf8')).toBe('lamer-k8s-1\n');
    expect(() => pinRunId(dir, 'lamer-k8s-1')).not.toThrow();
    expect(() => pinRunId(dir, 'lamer-k8s-2')).toThrow(/belongs to run lamer-k8s-1/);
  });

  it('refuses an id the protocol would refuse', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-runid-'));
    expect(() => pinRunId(dir, 'a/b')).toThrow(/a run id must match/);
    expect(() => pinRunId(dir, '')).toThrow(/a run id must match/);
  });
});
