/**
 * The synchronous baseline end to end: one actor process in lockstep. Every trained row was sampled by the
 * version being trained (policy lag exactly 0) and each update consumed exactly B groups.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRun } from '../../scripts/lib/run-config.js';
import { runTraining } from '../../scripts/lib/train-job.js';
import { readMetricsCsv } from '../../shared/run-dir.js';

const tiny = [
  'env.groupSize=2',
  'algo.groupsPerUpdate=2',
  'algo.eta=3',
  'run.evalTasks=2',
  'run.evalEvery=0',
  'run.mode=sync',
  'model.dModel=16',
  'model.nLayer=1',
  'model.nHead=2',
  'model.nCtx=160',
  'model.init=random',
  'log.level=warn',
];

describe('lamer train --mode sync (e2e)', () => {
  it('trains in lockstep: zero policy lag, B groups per update, whatever algo.eta says', async () => {
    const runDir = join(mkdtempSync(join(tmpdir(), 'lamer-sync-')), 'run');
    const s = await runTraining(resolveRun({ runDir, iterations: '3', actors: '1', set: tiny }), { quiet: true });
    expect(s.policyVersion).toBe(3);
    expect(s.trialsTrained).toBe(3 * 2 * 2);
    const m = readMetricsCsv(join(runDir, 'metrics.csv'));
    expect(m.get('perf/policy_lag_max')?.map((p) => p.value)).toEqual([0, 0, 0]);
    expect(m.get('train/rows_dropped_stale')?.map((p) => p.value)).toEqual([0, 0, 0]);
  }, 180_000);
});
