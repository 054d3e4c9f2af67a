/**
 * The main job end to end with a tiny budget: a learner in this process, two actor processes over real
 * WebSockets, then a resume from the checkpoint. Asserts the run directory a user gets.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRun } from '../../scripts/lib/run-config.js';
import { runTraining } from '../../scripts/lib/train-job.js';
import { readMetricsCsv } from '../../shared/run-dir.js';

const tiny = [
  'env.groupSize=2',
  'algo.groupsPerUpdate=2',
  'run.evalTasks=4',
  'run.evalEvery=2',
  'learner.checkpointEvery=1',
  'model.dModel=16',
  'model.nLayer=1',
  'model.nHead=2',
  'model.nCtx=160',
  'model.init=random',
  'log.level=warn',
];

describe('lamer train (e2e)', () => {
  it('trains with two actor processes, writes the run directory, and resumes at the checkpointed version', async () => {
    const runDir = join(mkdtempSync(join(tmpdir(), 'lamer-e2e-')), 'run');
    const first = await runTraining(resolveRun({ runDir, iterations: '2', actors: '2', set: tiny }), { quiet: true });
    expect(first.policyVersion).toBe(2);
    expect(first.stoppedBy).toBe('iterations');
    expect(first.trialsTrained).toBe(2 * 2 * 2); // 2 updates x 2 groups x 2 trials
    expect(first.evals.map((e) => e.version)).toEqual([0, 2]);
    for (const f of [
      'config.json',
      'meta.json',
      'metrics.csv',
      'learning-curve.png',
      'summary.json',
      'logs/learner.log',
      'logs/a0.log',
      'logs/a1.log',
    ]) {
      expect(existsSync(join(runDir, f)), f).toBe(true);
    }
    const meta = JSON.parse(readFileSync(join(runDir, 'meta.json'), 'utf8'));
    expect(meta.successful).toBe(true);
    const metrics = readMetricsCsv(join(runDir, 'metrics.csv'));
    expect(metrics.get('train/loss')?.length).toBe(2);
    expect(metrics.get('eval/pass@3')?.length).toBe(2);
    // Throughput instrumentation: learner wait per update, actors' publish-to-switch latency and idle fraction.
    expect(metrics.get('perf/learner_wait_ms')?.length).toBe(2);
    const switches = metrics.get('perf/weight_switch_ms') ?? [];
    expect(switches.length).toBeGreaterThan(0);
    for (const p of switches) expect(p.value).toBeGreaterThanOrEqual(0);
    const idle = (metrics.get('perf/actor_idle_frac') ?? []).filter((p) => Number.isFinite(p.value));
    expect(idle.length).toBeGreaterThan(0);
    for (const p of idle) {
      expect(p.value).toBeGreaterThanOrEqual(0);
      expect(p.value).toBeLessThanOrEqual(1);
    }
    expect(readdirSync(join(runDir, 'checkpoints')).some((d) => d.startsWith('ckpt-000000000002'))).toBe(true);

    // Resume: same directory, larger budget. Starts at v2 in a new learner epoch and trains one more version.
    const second = await runTraining(resolveRun({ runDir, iterations: '3', actors: '1' }), { quiet: true });
    expect(second.runId).toBe(first.runId);
    expect(second.learnerEpoch).toBe(first.learnerEpoch + 1);
    expect(second.policyVersion).toBe(3);
    expect(second.evals.map((e) => e.version)).toEqual([0, 2, 3]);
    const saved = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
    expect(saved.model.dModel).toBe(16); // the saved config is the base layer on resume
    expect(saved.run.iterations).toBe(3);

    // Resume with the budget already spent: nothing trained, and the summary says why (the CLI exits 3).
    const third = await runTraining(resolveRun({ runDir, iterations: '3', actors: '0' }), { quiet: true });
    expect(third.stoppedBy).toBe('budget-spent');
    expect(third.policyVersion).toBe(3);
    expect(third.trialsTrained).toBe(second.trialsTrained);
  }, 240_000);
});
