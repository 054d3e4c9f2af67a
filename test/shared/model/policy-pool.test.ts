import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../shared/model/config.js';
import { buildManifest, initParams } from '../../../shared/model/manifest.js';
import { DecodeEngine, type GenRequest } from '../../../shared/model/generate.js';
import { PolicyPool } from '../../../shared/model/policy-pool.js';

const cfg: ModelConfig = { vocabSize: 20, nCtx: 64, dModel: 16, nLayer: 2, nHead: 2 };
const m = buildManifest(cfg);
const p1 = initParams(m, 1, 0.4);
const p2 = initParams(m, 2, 0.4);
const reqs: GenRequest[] = Array.from({ length: 6 }, (_, i) => ({
  prompt: [1, ...Array.from({ length: i }, (_, k) => 4 + k)],
  maxTokens: 10,
  stop: [2],
  temperature: 0.8,
  topP: 0.95,
  seed: 100 + i,
}));

let pool: PolicyPool;
beforeAll(async () => {
  pool = await PolicyPool.create({ config: cfg, params: p1, version: 1, threads: 2 });
});
afterAll(async () => pool?.close());

describe('PolicyPool', () => {
  it('generates in workers exactly what the in-thread engine generates', async () => {
    const local = await DecodeEngine.create(cfg, p1, 1);
    try {
      const expected = await local.generate(reqs);
      const [a, b] = await Promise.all([pool.generate(reqs), pool.generate(reqs.slice(0, 3))]);
      expect(a.map((r) => r.tokens)).toEqual(expected.map((r) => r.tokens));
      expect(b.map((r) => r.tokens)).toEqual(expected.slice(0, 3).map((r) => r.tokens));
      expect(a.every((r) => r.policyVersion === 1)).toBe(true);
    } finally {
      await local.close();
    }
  });

  it('keeps the calling thread free while workers decode (event-loop utilisation, vs decoding in-thread)', async () => {
    const big = Array.from({ length: 32 }, (_, i) => ({ ...reqs[0]!, maxTokens: 60, stop: [], seed: i }));
    const elu = async (f: () => Promise<unknown>) => {
      const start = performance.eventLoopUtilization();
      await f();
      return performance.eventLoopUtilization(start).utilization;
    };
    const inPool = await elu(() => Promise.all([pool.generate(big), pool.generate(big)]));
    const local = await DecodeEngine.create(cfg, p1, 1);
    try {
      const inThread = await elu(() => local.generate(big));
      expect(inThread).toBeGreaterThan(0.5); // session.run blocks the thread that calls it
      expect(inPool).toBeLessThan(0.25);
    } finally {
      await local.close();
    }
  });

  it('swaps weights in every worker; each result reports the version it was generated with', async () => {
    const local = await DecodeEngine.create(cfg, p2, 2);
    try {
      const expected = await local.generate(reqs);
      const during = pool.generate(reqs);
      await pool.setWeights(p2, 2);
      expect(pool.version).toBe(2);
      const r = await during;
      expect(new Set(r.map((x) => x.policyVersion)).size).toBe(1);
      // Both workers switched: two concurrent batches both come from version 2.
      const [a, b] = await Promise.all([pool.generate(reqs), pool.generate(reqs)]);
      for (const res of [a, b]) {
        expect(res.every((x) => x.policyVersion === 2)).toBe(true);
        expect(res.map((x) => x.tokens)).toEqual(expected.map((x) => x.tokens));
      }
    } finally {
      await local.close();
    }
  });

  it('a worker respawned by piscina catches up with the latest weights', async () => {
    const threads = (
      pool as unknown as { pool: { threads: Array<{ threadId: number; terminate(): Promise<number> }> } }
    ).pool.threads;
    const victim = threads[0]!.threadId;
    await threads[0]!.terminate();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const ids = (pool as unknown as { pool: { threads: Array<{ threadId: number }> } }).pool.threads.map(
        (t) => t.threadId,
      );
      if (ids.length === 2 && !ids.includes(victim)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const results = await Promise.all([pool.generate(reqs), pool.generate(reqs), pool.generate(reqs)]);
    for (const r of results) expect(r.every((x) => x.policyVersion === pool.version)).toBe(true);
    await pool.setWeights(p1, 5);
    const after = await Promise.all([pool.generate(reqs), pool.generate(reqs)]);
    for (const r of after) expect(r.every((x) => x.policyVersion === 5)).toBe(true);
    // The ended worker's guard and ack are forgotten once its replacement acks.
    expect(pool.trackedThreads).toBe(2);
  });

  it(
    'a decode past its deadline rejects with RL_ERR_TIMEOUT and is cancelled at its next step; ' +
      'the worker is kept and the pool keeps working',
    async () => {
      const long: GenRequest[] = Array.from({ length: 48 }, (_, i) => ({
        prompt: [1, 4 + (i % 8)],
        maxTokens: 40,
        stop: [],
        temperature: 1,
        topP: 1,
        seed: i,
      }));
      await expect(pool.generate(long, { timeoutMs: 1 })).rejects.toMatchObject({
        code: 'RL_ERR_TIMEOUT',
        message: 'decode of 48 requests did not finish within 1 ms; it was cancelled',
      });
      expect(pool.timeouts).toBe(1);
      const ids = () =>
        (pool as unknown as { pool: { threads: Array<{ threadId: number }> } }).pool.threads.map((t) => t.threadId);
      const before = ids();
      const after = await pool.generate(reqs);
      expect(after).toHaveLength(reqs.length);
      expect(after.every((r) => r.policyVersion === pool.version)).toBe(true);
      // Stopped by the cancel: no worker had to be killed.
      expect(pool.killed).toBe(0);
      expect(ids()).toEqual(before);
    },
  );

  it('many decodes cancelled at random points never abort the process (no thread killed inside onnxruntime)', () => {
    // Terminating a worker mid-decode aborted the whole process ("terminate called after throwing an instance of
    // 'Napi::Error'") within ~150 such calls; a child process shows an abort as a signal instead of killing vitest.
    const script = fileURLToPath(new URL('./fixtures/cancel-stress.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, '300'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.signal, r.stderr.slice(-500)).toBeNull();
    expect(r.status, r.stderr.slice(-500)).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { calls: number; cancelled: number; ok: number; killed: number };
    expect(out.calls).toBe(300);
    expect(out.cancelled).toBeGreaterThan(50); // the deadlines did cut decodes short
    expect(out.ok).toBeGreaterThan(0);
  }, 150_000);

  it('rejects bad requests with the model error code', async () => {
    await expect(pool.generate([{ ...reqs[0]!, prompt: [1, 20] }])).rejects.toMatchObject({ code: 'RL_ERR_MODEL' });
    await expect(pool.setWeights(new Float32Array(3), 3)).rejects.toThrow(/parameters have 3 values/);
  });
});
