/**
 * `lamer train` with `policy.backend=openai`: the local actor processes generate with an OpenAI-compatible server
 * (here `lamer serve`, in this process) instead of the embedded model, and the learner trains on their trials.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compactVocabulary } from '../../actor/envs/prompt.js';
import { resolveRun } from '../../scripts/lib/run-config.js';
import { startServe } from '../../scripts/lib/serve.js';
import { runTraining } from '../../scripts/lib/train-job.js';
import { saveModelDir } from '../../shared/model/checkpoint-files.js';
import { buildManifest, initParams } from '../../shared/model/manifest.js';
import { WordTokenizer } from '../../shared/model/tokenizer.js';
import { readMetricsCsv } from '../../shared/run-dir.js';

describe('lamer train --set policy.backend=openai', () => {
  it('local actors generate with the server; the learner trains on their trials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-serve-train-'));
    // The served model only has to share the learner's vocabulary (its architecture may differ).
    const tokenizer = new WordTokenizer([...compactVocabulary('lamer/MineSweeper-v0')]);
    const model = { vocabSize: tokenizer.vocabSize, nCtx: 192, dModel: 32, nLayer: 1, nHead: 2 };
    saveModelDir(join(dir, 'served'), { config: model, params: initParams(buildManifest(model), 5), tokenizer });
    const serve = await startServe({ checkpoint: join(dir, 'served'), host: '127.0.0.1', port: 0 });
    try {
      const set = [
        'env.groupSize=2',
        'algo.groupsPerUpdate=1',
        'run.evalTasks=2',
        'run.evalEvery=0',
        'env.maxTurns=3',
        'model.dModel=16',
        'model.nLayer=1',
        'model.nHead=2',
        'model.nCtx=160',
        'model.init=random',
        'log.level=warn',
        'policy.backend=openai',
        `policy.baseUrl=${serve.url}`,
        'policy.model=lamer',
        'policy.endpoint=completions',
        'policy.backoffMs=50',
      ];
      const summary = await runTraining(resolveRun({ runDir: join(dir, 'run'), iterations: '2', actors: '1', set }), {
        quiet: true,
      });
      expect(summary.policyVersion).toBe(2);
      expect(summary.trialsTrained).toBe(4);
      const metrics = readMetricsCsv(join(dir, 'run', 'metrics.csv'));
      expect(metrics.get('train/rows')!.every((m) => m.value > 0)).toBe(true);
      expect(metrics.get('train/prox_recomputed')!.every((m) => m.value === 1)).toBe(true);
      // Every policy call of the run (training and evaluation trials) went to the server.
      expect(serve.stats.completions).toBeGreaterThan(0);
      expect(serve.stats.errors).toBe(0);
    } finally {
      await serve.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
