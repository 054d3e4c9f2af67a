/**
 * Async vs synchronous lockstep, side by side on this machine: the same model, actors, env and budget, legs
 * interleaved (sync, async, async, sync, ...) so machine drift hits both. Throughput is trials trained per
 * second between the first and the last policy update of each leg (startup and evaluation excluded).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetricsCsv } from '../../shared/run-dir.js';
import { resolveRun } from '../lib/run-config.js';
import { runTraining } from '../lib/train-job.js';

export interface ModesResult {
  iterationsPerLeg: number;
  legs: Array<{ mode: 'sync' | 'async'; trialsPerSec: number; policyLagMean: number; batchFill: number }>;
  syncTrialsPerSec: number;
  asyncTrialsPerSec: number;
  asyncOverSync: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchModes(o: { iterations?: number; rounds?: number; actors?: number; set?: string[] } = {}): Promise<ModesResult> {
  const iterations = o.iterations ?? 12;
  const rounds = o.rounds ?? 1;
  const root = mkdtempSync(join(tmpdir(), 'lamer-modes-'));
  const legs: ModesResult['legs'] = [];
  for (let r = 0; r < rounds; r++) {
    const order: Array<'sync' | 'async'> = r % 2 === 0 ? ['sync', 'async'] : ['async', 'sync'];
    for (const mode of order) {
      const runDir = join(root, `${mode}-${r}`);
      const set = ['run.evalEvery=0', 'run.evalTasks=8', 'log.level=warn', ...(o.set ?? [])];
      if (mode === 'sync') set.push('algo.eta=0');
      const actors = o.actors === undefined ? undefined : String(o.actors);
      await runTraining(resolveRun({ runDir, iterations: String(iterations), minutes: '0', mode, set, actors }), { quiet: true });
      const m = readMetricsCsv(join(runDir, 'metrics.csv'));
      const total = m.get('rollout/trials_trained_total')!;
      const first = total[0];
      const last = total[total.length - 1];
      const lag = m.get('perf/policy_lag_mean')!.map((p) => p.value);
      const fill = (m.get('rollout/batch_fill') ?? []).map((p) => p.value);
      legs.push({
        mode, trialsPerSec: (last.value - first.value) / (last.wall - first.wall),
        policyLagMean: lag.reduce((a, b) => a + b, 0) / lag.length,
        batchFill: fill.length ? fill.reduce((a, b) => a + b, 0) / fill.length : 0,
      });
    }
  }
  const s = median(legs.filter((l) => l.mode === 'sync').map((l) => l.trialsPerSec));
  const a = median(legs.filter((l) => l.mode === 'async').map((l) => l.trialsPerSec));
  return { iterationsPerLeg: iterations, legs, syncTrialsPerSec: s, asyncTrialsPerSec: a, asyncOverSync: a / s };
}
