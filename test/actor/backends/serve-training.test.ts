/**
 * The OpenAI backend end to end over real HTTP: `lamer serve` (the embedded model) answers an actor whose trials
 * stream to a learner that trains on them; the same run with log-probs switched off shows the learner refusing to
 * train on records without them while evaluation still works.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenAIBackend } from '../../../actor/backends/openai.js';
import { compactVocabulary } from '../../../actor/envs/prompt.js';
import { ActorRuntime } from '../../../actor/runtime.js';
import { createAuthenticator, deriveActorToken } from '../../../learner/auth.js';
import { LearnerRuntime } from '../../../learner/runtime.js';
import { startServe, type ServeHandle } from '../../../scripts/lib/serve.js';
import { resolveConfig } from '../../../shared/config.js';
import { createLogger } from '../../../shared/logger.js';
import { saveModelDir } from '../../../shared/model/checkpoint-files.js';
import { buildManifest, initParams } from '../../../shared/model/manifest.js';
import { WordTokenizer } from '../../../shared/model/tokenizer.js';
import { RunDir, readMetricsCsv } from '../../../shared/run-dir.js';

const MASTER = 'serve-training-master-key-0123456789';
const ENV = 'lamer/MineSweeper-v0';
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function run(logprobs: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'lamer-serve-train-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const tokenizer = new WordTokenizer([...compactVocabulary(ENV)]);
  const model = { vocabSize: tokenizer.vocabSize, nCtx: 160, dModel: 16, nLayer: 1, nHead: 2 };
  const params = initParams(buildManifest(model), 7);
  saveModelDir(join(dir, 'model'), { config: model, params, tokenizer });
  const serve: ServeHandle = await startServe({ checkpoint: join(dir, 'model'), host: '127.0.0.1', port: 0 });
  cleanup.push(() => serve.close());

  const config = resolveConfig({
    run: { iterations: 2, minutes: 3, evalEvery: 0, evalTasks: 3, evalAttempts: 2, seed: 5 },
    env: { id: ENV, groupSize: 2, attempts: 2, maxTurns: 3 },
    model: { nCtx: 160, dModel: 16, nLayer: 1, nHead: 2, init: 'random' },
    algo: { groupsPerUpdate: 1, miniBatchRows: 16 },
    learner: { port: 0 },
  });
  const logger = createLogger({ level: 'silent' });
  const learner = await LearnerRuntime.start({
    config,
    runDir: new RunDir(join(dir, 'run')),
    logger,
    auth: createAuthenticator(MASTER),
    vocabulary: compactVocabulary(ENV),
    initModel: { config: model, params, tokenizer },
  });
  cleanup.push(() => learner.close());
  const backend = new OpenAIBackend({
    baseUrl: serve.url,
    model: 'lamer',
    endpoint: 'completions',
    concurrency: 8,
    timeoutMs: 30_000,
    maxRetries: 2,
    backoffMs: 50,
    logprobs,
  });
  const actor = await ActorRuntime.start({
    url: learner.url,
    actorId: 'a0',
    token: deriveActorToken(MASTER, 'a0'),
    runId: learner.runId,
    logger,
    threads: 1,
    groupsInFlight: 2,
    maxBatch: 8,
    backend,
  });
  cleanup.push(() => actor.shutdown('test over'));
  const summary = await learner.run();
  const metrics = readMetricsCsv(join(dir, 'run', 'metrics.csv'));
  const last = (name: string) => metrics.get(name)?.at(-1)?.value;
  const first = (name: string) => metrics.get(name)?.[0]?.value;
  const sum = (name: string) => (metrics.get(name) ?? []).reduce((a, m) => a + m.value, 0);
  return { summary, first, last, sum, serve, backend };
}

describe('OpenAI backend against lamer serve', () => {
  it('streams trials generated over HTTP to the learner, which trains on them off-policy', async () => {
    const { summary, first, last, sum, serve, backend } = await run(true);
    expect(summary.policyVersion).toBe(2);
    expect(summary.trialsTrained).toBeGreaterThanOrEqual(4);
    expect(sum('train/rows')).toBeGreaterThan(0);
    expect(sum('train/rows_dropped_no_logp')).toBe(0);
    // A server's samples are never treated as on-policy: π_prox is recomputed by the learner.
    expect(first('train/prox_recomputed')).toBe(1);
    expect(last('train/prox_recomputed')).toBe(1);
    // The served weights are the learner's v0 weights, so in the first update the server's log-probs must match the
    // learner's own: importance ratios ~1 and KL(μ‖π_prox) ~0 (this checks the log-probs are the real behaviour ones).
    expect(first('train/is_ratio_max')).toBeGreaterThan(0.999);
    expect(first('train/is_ratio_max')).toBeLessThan(1.001);
    expect(Math.abs(first('train/kl_behav')!)).toBeLessThan(1e-4);
    expect(summary.evals.length).toBeGreaterThanOrEqual(1);
    expect(summary.evals[0].pass).toHaveLength(2);
    expect(serve.stats.completions).toBe(backend.stats.requests);
    expect(backend.stats.failures).toBe(0);
  }, 120_000);

  it('without log-probs the learner refuses to train on the records, and evaluation still works', async () => {
    const { summary, sum, serve } = await run(false);
    expect(summary.evals.length).toBeGreaterThanOrEqual(1);
    expect(summary.evals.at(-1)!.tasks).toBe(3);
    expect(sum('train/rows_dropped_no_logp')).toBeGreaterThan(0);
    expect(sum('train/rows')).toBe(0);
    expect(serve.stats.completions).toBeGreaterThan(0);
  }, 120_000);
});
