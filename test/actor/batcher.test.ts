import { describe, expect, it } from 'vitest';
import { Batcher, type BatchRequest, type BatchResult, type Generator } from '../../actor/batcher.js';

/** A generator that records batch sizes and answers after a macrotask, like a worker thread would. */
function fakeGenerator(log: number[][]): Generator {
  return {
    async generate(reqs: BatchRequest[]): Promise<BatchResult[]> {
      log.push(reqs.map((r) => r.seed));
      await new Promise((r) => setTimeout(r, 2));
      return reqs.map((r) => ({ tokens: [r.seed], logprobs: [-1], finish: 'stop', policyVersion: 0 }));
    },
  };
}

const req = (seed: number): BatchRequest => ({ prompt: [1], maxTokens: 1, stop: [], temperature: 1, topP: 1, seed });

/** A trial that needs `turns` sequential generations, optionally parking at a phase barrier first. */
async function trial(b: Batcher, id: number, turns: number, barrierEvery = 0): Promise<number[]> {
  b.trialStarted();
  const got: number[] = [];
  try {
    for (let t = 0; t < turns; t++) {
      if (barrierEvery && t % barrierEvery === 0) await b.phaseBarrier();
      got.push((await b.generate(req(id * 100 + t))).tokens[0]);
    }
  } finally {
    b.trialFinished();
  }
  return got;
}

describe('Batcher', () => {
  it('async: trials at different stages share batches and each gets its own answer', async () => {
    const log: number[][] = [];
    const b = new Batcher(fakeGenerator(log), { maxBatch: 8, concurrency: 1, lockstep: false });
    const results = await Promise.all([trial(b, 1, 5), trial(b, 2, 2), trial(b, 3, 3)]);
    expect(results).toEqual([
      [100, 101, 102, 103, 104],
      [200, 201],
      [300, 301, 302],
    ]);
    // The first batch holds all three trials' first turns; later batches shrink as trials finish.
    expect(log[0].sort()).toEqual([100, 200, 300]);
    expect(log.map((x) => x.length)).toEqual([3, 3, 2, 1, 1]);
    expect(b.stats.requests).toBe(10);
  });

  it('async: respects maxBatch', async () => {
    const log: number[][] = [];
    const b = new Batcher(fakeGenerator(log), { maxBatch: 2, concurrency: 2, lockstep: false });
    await Promise.all([1, 2, 3, 4, 5].map((i) => trial(b, i, 1)));
    expect(Math.max(...log.map((x) => x.length))).toBe(2);
    expect(log.flat().sort()).toEqual([100, 200, 300, 400, 500]);
  });

  it('lockstep: a finished phase idles until the slowest trial reaches the barrier', async () => {
    const log: number[][] = [];
    const b = new Batcher(fakeGenerator(log), { maxBatch: 8, concurrency: 1, lockstep: true });
    // Trial 1 runs phases of 1 turn (barrier every turn), trial 2 phases of 3 turns.
    const order: string[] = [];
    const t1 = (async () => {
      b.trialStarted();
      for (let p = 0; p < 2; p++) {
        await b.phaseBarrier();
        order.push(`t1-phase${p}`);
        await b.generate(req(100 + p));
      }
      b.trialFinished();
    })();
    const t2 = (async () => {
      b.trialStarted();
      for (let p = 0; p < 2; p++) {
        await b.phaseBarrier();
        order.push(`t2-phase${p}`);
        for (let t = 0; t < 3; t++) await b.generate(req(200 + p * 10 + t));
      }
      b.trialFinished();
    })();
    await Promise.all([t1, t2]);
    // Phase 1 of trial 1 cannot start before trial 2 finished all 3 turns of phase 0.
    expect(log.map((x) => x.length)).toEqual([2, 1, 1, 2, 1, 1]);
    expect(order.indexOf('t1-phase1')).toBeGreaterThan(order.indexOf('t2-phase0'));
    expect(log[3].sort()).toEqual([101, 210]);
  });
});
