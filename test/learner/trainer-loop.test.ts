/**
 * The learner's main loop (learner/trainer-loop.ts) and its evaluator (learner/evaluator.ts) with a real task
 * book and ingest, a recording trainer, and "actors" that are plain function calls filling slots.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Evaluator } from '../../learner/evaluator.js';
import { Ingest } from '../../learner/ingest.js';
import { Quarantine } from '../../learner/quarantine.js';
import type { LearnerState } from '../../learner/run-state.js';
import { TaskBook } from '../../learner/task-book.js';
import { TrainerLoop } from '../../learner/trainer-loop.js';
import type { TrainerApi } from '../../learner/update.js';
import { Waker } from '../../learner/waker.js';
import type { Trial } from '../../proto/messages.js';
import type { Config } from '../../shared/config.js';
import { MetricsCsv, readMetricsCsv } from '../../shared/run-dir.js';
import { sampleTrial } from '../proto/samples.js';
import { config, silent } from './components.js';

let dir = '';
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

function freshState(): LearnerState {
  return {
    runId: 'r',
    policyVersion: 0,
    learnerEpoch: 0,
    taskBook: { nextIndex: 0, nextLease: 0, groups: [], trainedGroups: 0 },
    ledgerOffset: 0,
    counters: { trialsCommitted: 0, trialsTrained: 0, surplus: 0, rowsDroppedStale: 0 },
    evals: [],
  };
}

/** Eval trials: task i is won in its first episode iff i is even. */
function evalTrial(groupId: string, i: number): Trial {
  const t = sampleTrial(100 + i);
  const won = i % 2 === 0;
  return {
    ...t,
    groupId,
    trialIndex: 0,
    mode: 'eval',
    episodesWon: won ? [true] : [false, false, false],
    rows: won ? t.rows.filter((r) => r.episode === 0) : t.rows,
  };
}

function setup(cfg: Config) {
  dir = mkdtempSync(join(tmpdir(), 'lamer-loop-'));
  const state = freshState();
  const book = new TaskBook({
    seed: 1,
    groupSize: cfg.env.groupSize,
    attempts: cfg.env.attempts,
    evalTasks: cfg.run.evalTasks,
    evalAttempts: 3,
  });
  const waker = new Waker();
  const ingest = new Ingest({
    book,
    counters: state.counters,
    logger: silent,
    onSlotFilled: () => waker.kick(),
    quarantine: Quarantine.open(join(dir, 'quarantine')),
    modelShape: { vocabSize: 64, contextLength: 256 },
    adoptWindow: 16,
  });
  const metrics = new MetricsCsv(join(dir, 'metrics.csv'));
  let offset = 0;
  /** Fills every open slot, as actors would (train groups: the sync admission rule, η = 0, decides how many exist). */
  const actorsWork = (allowNewTrain: boolean) => {
    while (true) {
      const grants = book.grant(
        'a0/i',
        100,
        state.policyVersion,
        (a) => (a.accepted + a.running < (a.version + 1) * cfg.algo.groupsPerUpdate ? 1 : 0),
        allowNewTrain,
      );
      if (grants.length === 0) break;
      for (const g of grants)
        for (const i of g.trialIndices) {
          const t = sampleTrial(offset + 1);
          const onPolicy = {
            ...t,
            groupId: g.groupId,
            trialIndex: i,
            rows: t.rows.map((r) => ({ ...r, policyVersion: state.policyVersion })),
          };
          ingest.commit(
            g.kind === 'eval' ? evalTrial(g.groupId, Number(g.groupId.split('-').pop())) : onPolicy,
            offset++,
          );
        }
    }
  };
  const steps: number[] = [];
  const checkpoints: number[] = [];
  const published: number[] = [];
  /** `interrupt`: the next ppoStep fails as a stuck worker would after the watchdog replaced it (or not). */
  const trainer: TrainerApi & {
    params(): Promise<Float32Array>;
    restarts: number;
    interrupt: null | 'restarted' | 'not-restarted';
  } = {
    restarts: 0,
    interrupt: null,
    score: async (_t, B, T) => new Float32Array(B * T),
    ppoStep: async (b) => {
      if (trainer.interrupt) {
        if (trainer.interrupt === 'restarted') trainer.restarts++;
        trainer.interrupt = null;
        throw new Error("worker call 'ppoStep' did not finish within 10 ms");
      }
      steps.push(b.B);
      return { loss: 0, gradNorm: 0, entropy: 0, clipFrac: 0 };
    },
    params: async () => new Float32Array(4),
  };
  const lines: string[] = [];
  const evaluator = new Evaluator({
    config: cfg,
    book,
    ingest,
    metrics,
    logger: silent,
    waker,
    t0: Date.now(),
    actors: () => 1,
    emit: (l) => lines.push(l),
    pushEvalCohorts: () => actorsWork(false),
    stopSignalled: () => loop.stopped === 'signal',
  });
  const loop: TrainerLoop = new TrainerLoop(
    {
      config: cfg,
      state,
      book,
      ingest,
      evaluator,
      trainer,
      metrics,
      logger: silent,
      waker,
      t0: Date.now(),
      priorSeconds: 0,
      model: { nCtx: 64, padId: 0 },
      pushTrainCohorts: () => actorsWork(true),
      publish: () => published.push(state.policyVersion),
      checkpoint: async () => void checkpoints.push(state.policyVersion),
    },
    new Float32Array(4),
  );
  return { loop, state, book, steps, checkpoints, published, lines, metrics, trainer };
}

describe('TrainerLoop (sync mode: the loop itself drives the fake actors)', () => {
  it('trains until the iteration budget, evaluating and checkpointing on schedule and at the end', async () => {
    const cfg = config({
      run: { mode: 'sync', iterations: 4, evalEvery: 2, evalTasks: 4, minutes: 0 },
      learner: { checkpointEvery: 3 },
    });
    const t = setup(cfg);
    const stopped = await t.loop.run();
    expect(stopped).toBe('iterations');
    expect(t.state.policyVersion).toBe(4);
    expect(t.state.counters.trialsTrained).toBe(4 * 2 * 2);
    expect(t.published).toEqual([1, 2, 3, 4]);
    expect(t.checkpoints).toEqual([3, 4]);
    expect(t.state.evals.map((e) => e.version)).toEqual([0, 2, 4]);
    // Tasks 0 and 2 of 4 are won at the first attempt.
    for (const e of t.state.evals) expect(e.pass).toEqual([0.5, 0.5, 0.5]);
    expect(t.lines.filter((l) => l.startsWith('eval v')).length).toBe(3);
    expect(t.book.groups).toEqual([]); // everything consumed
    expect(t.loop.lag).toEqual({ mean: 0, max: 0 });
    const m = readMetricsCsv(t.metrics.path);
    expect(m.get('train/loss')?.length).toBe(4);
    expect(m.get('eval/pass@1')?.map((p) => p.value)).toEqual([0.5, 0.5, 0.5]);
  });

  it(
    'a stop request skips training; the final evaluation ' + 'still runs when actors finish it in time; checkpoints',
    async () => {
      const cfg = config({ run: { mode: 'sync', iterations: 100, evalEvery: 0, minutes: 0 } });
      const t = setup(cfg);
      t.loop.requestStop();
      expect(await t.loop.run()).toBe('signal');
      expect(t.state.evals.map((e) => e.version)).toEqual([0]);
      expect(t.state.policyVersion).toBe(0);
      expect(t.checkpoints).toEqual([0]);
    },
  );

  it('reruns an update interrupted by a trainer worker restart on the same groups, once', async () => {
    const cfg = config({ run: { mode: 'sync', iterations: 2, evalEvery: 0, evalTasks: 2, minutes: 0 } });
    const t = setup(cfg);
    t.trainer.interrupt = 'restarted';
    expect(await t.loop.run()).toBe('iterations');
    expect(t.state.policyVersion).toBe(2);
    expect(t.state.counters.trialsTrained).toBe(2 * 2 * 2); // nothing trained twice, nothing skipped
    expect(t.published).toEqual([1, 2]);
  });

  it('a failed update without a worker restart ends the run with its reason', async () => {
    const cfg = config({ run: { mode: 'sync', iterations: 2, evalEvery: 0, evalTasks: 2, minutes: 0 } });
    const t = setup(cfg);
    t.trainer.interrupt = 'not-restarted';
    await expect(t.loop.run()).rejects.toThrow(/ppoStep' did not finish/);
    expect(t.state.policyVersion).toBe(0);
  });

  it('a resumed run whose iteration budget is already spent trains nothing and says so', async () => {
    const cfg = config({ run: { mode: 'sync', iterations: 3, evalEvery: 0, evalTasks: 2, minutes: 0 } });
    const t = setup(cfg);
    t.state.policyVersion = 3;
    expect(await t.loop.run()).toBe('budget-spent');
    expect(t.loop.stopped).toBe('budget-spent');
    expect(t.published).toEqual([]);
    expect(t.checkpoints).toEqual([]);
    expect(t.state.evals).toEqual([]);
  });

  it('does not evaluate a version twice after a resume (v0 already evaluated)', async () => {
    const cfg = config({ run: { mode: 'sync', iterations: 1, evalEvery: 0, minutes: 0 } });
    const t = setup(cfg);
    t.state.evals.push({ version: 0, pass: [0, 0, 0], diversity: 0, tasks: 3, wall: 0 });
    await t.loop.run();
    expect(t.state.evals.map((e) => e.version)).toEqual([0, 1]);
  });
});
