import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { legFigures, quantile } from '../../../scripts/bench/throughput.js';

/** A metrics.csv as the learner writes it (wall_s, version, name, value). */
function csv(lines: Array<[number, number, string, number]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lamer-tp-'));
  const f = join(dir, 'metrics.csv');
  writeFileSync(f, 'wall_s,version,name,value\n' + lines.map((l) => l.join(',')).join('\n') + '\n');
  return f;
}

describe('throughput bench figures', () => {
  it('quantile interpolates and handles empty input', () => {
    expect(quantile([3, 1, 2], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it(
    'rates are measured between the first and the last ' + 'update; startup wait and version-0 switches are excluded',
    () => {
      const f = legFigures(
        csv([
          [0.5, 0, 'perf/weight_switch_ms', 900], // initial load at connect: not a publish-to-switch hop
          [10, 1, 'perf/learner_wait_ms', 8000], // startup + initial evaluation: outside the window
          [10, 1, 'perf/update_ms', 1000],
          [10, 1, 'rollout/trials_trained_total', 32],
          [10, 1, 'rollout/episodes_trained_total', 90],
          [10, 1, 'rollout/env_steps_trained_total', 500],
          [10, 1, 'rollout/tokens_trained_total', 4000],
          [10, 1, 'perf/policy_lag_mean', 0],
          [10, 1, 'perf/policy_lag_max', 0],
          [10.5, 1, 'perf/weight_switch_ms', 20],
          [10.6, 1, 'perf/weight_switch_ms', 40], // a second actor: the version's time until all switched is 40
          [12, 1, 'perf/actor_idle_frac', 0.25],
          [12, 1, 'rollout/batch_fill', 0.5],
          [14, 2, 'perf/learner_wait_ms', 1000],
          [14, 2, 'perf/update_ms', 3000],
          [14, 2, 'rollout/trials_trained_total', 64],
          [14, 2, 'rollout/episodes_trained_total', 180],
          [14, 2, 'rollout/env_steps_trained_total', 1300],
          [14, 2, 'rollout/tokens_trained_total', 8000],
          [14, 2, 'perf/policy_lag_mean', 0.5],
          [14, 2, 'perf/policy_lag_max', 1],
          [14.2, 2, 'perf/weight_switch_ms', 10],
          [14.2, 2, 'perf/weight_swap_ms', 6],
          [10.5, 1, 'perf/weight_swap_ms', 8],
          [0.5, 0, 'perf/weight_swap_ms', 300],
          [16, 2, 'perf/actor_idle_frac', 0.75],
          [16, 2, 'rollout/batch_fill', 1],
          [18, 3, 'perf/learner_wait_ms', 3000],
          [18, 3, 'perf/update_ms', 1000],
          [18, 3, 'rollout/trials_trained_total', 96],
          [18, 3, 'rollout/episodes_trained_total', 270],
          [18, 3, 'rollout/env_steps_trained_total', 2100],
          [18, 3, 'rollout/tokens_trained_total', 12000],
          [18, 3, 'perf/policy_lag_mean', 1.5],
          [18, 3, 'perf/policy_lag_max', 2],
        ]),
        { algo: 'metarl', mode: 'async', actors: 1, round: 0 },
      );
      expect(f.updates).toBe(2);
      expect(f.seconds).toBe(8);
      expect(f.trialsPerSec).toBe(64 / 8);
      expect(f.trajectoriesPerSec).toBe(180 / 8);
      expect(f.envStepsPerSec).toBe(1600 / 8);
      expect(f.tokensPerSec).toBe(8000 / 8);
      expect(f.learnerIdleFrac).toBeCloseTo(4000 / 8000, 12);
      expect(f.actorIdleFrac).toBeCloseTo(0.5, 12);
      expect(f.batchFill).toBeCloseTo(0.75, 12);
      expect(f.policyLagMean).toBeCloseTo(1, 12);
      expect(f.policyLagMax).toBe(2);
      expect(f.weightSwitchMsP50).toBe(25); // versions 1 (max 40) and 2 (10)
      expect(f.weightSwitchMsMax).toBe(40);
      expect(f.weightSwapMsP50).toBe(7);
    },
  );

  it('refuses a leg with fewer than two updates', () => {
    expect(() =>
      legFigures(csv([[1, 1, 'rollout/trials_trained_total', 8]]), { algo: 'rl', mode: 'sync', actors: 1, round: 0 }),
    ).toThrow(/fewer than two/);
  });
});

describe('bench throughput (e2e, tiny model)', () => {
  it('runs the four configurations and writes the JSON summary and the chart', async () => {
    const { benchThroughput } = await import('../../../scripts/bench/throughput.js');
    const { existsSync, readFileSync } = await import('node:fs');
    const outDir = join(mkdtempSync(join(tmpdir(), 'lamer-tp-e2e-')), 'out');
    const legs: string[] = [];
    const r = await benchThroughput({
      iterations: 2,
      rounds: 1,
      outDir,
      workload: 'generation',
      set: [
        'model.dModel=16',
        'model.nLayer=1',
        'model.nHead=2',
        'model.nCtx=128',
        'sampling.maxActionTokens=8',
        'sampling.maxReflectTokens=8',
        'algo.groupsPerUpdate=1',
      ],
      onLeg: (f) => legs.push(`${f.algo}-${f.mode}`),
    });
    expect(legs).toEqual(['metarl-sync', 'metarl-async', 'rl-sync', 'rl-async']);
    for (const k of [
      'asyncOverSync',
      'metaRlOverRlAsync',
      'metaRlOverRlSync',
      'weightSwitchMsP50',
      'overlapBound',
    ] as const) {
      expect(Number.isFinite(r[k]), k).toBe(true);
      expect(r[k]).toBeGreaterThan(0);
    }
    // Meta-RL trials are 3 episodes, RL trials 1: trajectories/s per trial/s tells the configurations apart.
    expect(r.configs['rl-sync'].trajectoriesPerSec).toBeCloseTo(r.configs['rl-sync'].trialsPerSec, 9);
    expect(r.configs['metarl-sync'].trajectoriesPerSec).toBeGreaterThan(r.configs['metarl-sync'].trialsPerSec);
    expect(r.configs['metarl-sync'].policyLagMax).toBe(0);
    expect(existsSync(r.chart)).toBe(true);
    expect(JSON.parse(readFileSync(join(outDir, 'throughput.json'), 'utf8')).legs).toHaveLength(4);
  }, 240_000);
});
