/**
 * The main job as a newcomer meets it: one score per model (the pretrain report, the v0 evaluation and `lamer eval`
 * agree), `lamer eval --run-dir` picks the newest checkpoint, a stop by signal is recorded and still evaluates, a
 * resume says what it continues from, and budgets are totals over the run directory's invocations.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { CLI } from '../fixtures/cli.js';
import { describe, expect, it } from 'vitest';
import { runPretrain } from '../../scripts/lib/pretrain-job.js';
import { resolveRun } from '../../scripts/lib/run-config.js';
import { runTraining } from '../../scripts/lib/train-job.js';
import type { RunMeta } from '../../shared/run-dir.js';

const lamer = async (args: string[]) =>
  (await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8' })).stdout;

describe('lamer train: one score per model, resume, signal', () => {
  it('scores a model the same everywhere, records a signal, and resumes with totals', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lamer-job-'));
    const runDir = join(root, 'run');
    const tiny = [
      'env.groupSize=2',
      'algo.groupsPerUpdate=2',
      'run.evalTasks=6',
      'run.evalEvery=2',
      'learner.checkpointEvery=1',
      'run.progressSec=0.3',
      'model.dModel=16',
      'model.nLayer=1',
      'model.nHead=2',
      'model.nCtx=160',
      'log.level=warn',
      'pretrain.trials=12',
      'pretrain.epochs=1',
      `pretrain.cacheDir=${join(root, 'base')}`,
    ];
    const base = await runPretrain(resolveRun({ runDir, set: tiny }).config);
    expect(base.evalName).toBe('minesweeper-val-s1: 6 tasks x 3 attempts, T 0.7, top-p 0.8');

    // 1. A new run: its v0 evaluation (through an actor process) equals the pretrain report.
    const out1: string[] = [];
    const first = await runTraining(resolveRun({ runDir, iterations: '2', actors: '1', set: tiny }), {
      out: (l) => out1.push(l),
    });
    expect(first.evals[0].version).toBe(0);
    expect(first.evals[0].pass).toEqual(base.basePass);
    expect(out1.some((l) => /^new run run-\w+$/.test(l))).toBe(true);
    expect(out1.some((l) => l.includes(`evaluation ${base.evalName}`))).toBe(true);
    expect(out1.some((l) => /^eval v0: pass@1 .*\(minesweeper-val-s1, 6 tasks/.test(l))).toBe(true);

    // 2. `lamer eval` with its defaults: the base model gets the same score; --run-dir takes the newest checkpoint
    //    and the run's own configuration, and reproduces the training run's final evaluation.
    const sets = tiny.flatMap((s) => ['--set', s]);
    const evBase = JSON.parse(await lamer(['eval', '--checkpoint', base.dir, ...sets, '--json']));
    expect(evBase.pass).toEqual(base.basePass);
    expect(evBase.evaluation.name).toBe('minesweeper-val-s1');
    const evRun = JSON.parse(await lamer(['eval', '--run-dir', runDir, '--json']));
    expect(basename(evRun.checkpoint)).toBe('ckpt-000000000002');
    expect(evRun.pass).toEqual(first.evals.find((e) => e.version === 2)!.pass);

    // 3. Resume with a larger budget, stopped as by Ctrl-C: recorded as a signal, evaluated once more, resume command.
    const out2: string[] = [];
    const stop = new AbortController();
    const second = await runTraining(resolveRun({ runDir, iterations: '400' }), {
      stop: stop.signal,
      out: (l) => {
        out2.push(l);
        if (/^iter [3-9]/.test(l)) stop.abort();
      },
    });
    expect(out2[0]).toMatch(
      new RegExp(
        `^resuming run ${first.runId} from v2 \\(ckpt-000000000002\\), ` +
          `\\d+\\.\\d of 10 minutes used, 2 of 400 iterations done$`,
      ),
    );
    expect(second.stoppedBy).toBe('signal');
    expect(second.startVersion).toBe(2);
    expect(second.evals.at(-1)!.version).toBe(second.policyVersion); // the final evaluation ran after the signal
    expect(out2).toContain(`to resume later: npm start -- --run-dir ${runDir}`);
    expect(
      out2.some((l) =>
        l.startsWith(`stopped by a signal at v${second.policyVersion}; to resume: npm start -- --run-dir ${runDir}`),
      ),
    ).toBe(true);
    const lines2 = out2.flatMap((l) => l.split('\n')); // the final table is one multi-line print
    expect(lines2.some((l) => /^ {2}this invocation v2→v\d+: \d+ trials trained in .* trials\/s\)$/.test(l))).toBe(
      true,
    );
    expect(
      lines2.some((l) => /^ {2}all invocations: \d+ trials in [\d.]+ of 10 min \([\d.]+ trials\/s\)$/.test(l)),
    ).toBe(true);
    let meta = JSON.parse(readFileSync(join(runDir, 'meta.json'), 'utf8')) as RunMeta;
    expect(meta.successful).toBe(false);
    expect(meta.invocations.map((i) => [i.status, i.stoppedBy, i.fromVersion, i.toVersion])).toEqual([
      ['finished', 'iterations', 0, 2],
      ['interrupted', 'signal', 2, second.policyVersion],
    ]);
    // Rates are labelled per invocation and all-time; the all-time one divides by the total time.
    expect(second.totalWallSeconds).toBeGreaterThan(second.wallSeconds);
    expect(second.trialsPerSecAllTime).toBeCloseTo(second.trialsTrained / second.totalWallSeconds, 6);
    expect(second.trialsPerSec).toBeCloseTo((second.trialsTrained - first.trialsTrained) / second.wallSeconds, 6);

    // 4. --minutes is a total: a budget below the time already used ends the run at once, without training.
    const out3: string[] = [];
    const third = await runTraining(resolveRun({ runDir, iterations: '400', minutes: '0.01' }), {
      out: (l) => out3.push(l),
    });
    expect(third.stoppedBy).toBe('minutes');
    expect(third.policyVersion).toBe(second.policyVersion);
    expect(out3[0]).toMatch(/, \d+\.\d of 0\.01 minutes used, /);
    meta = JSON.parse(readFileSync(join(runDir, 'meta.json'), 'utf8')) as RunMeta;
    expect(meta.invocations.map((i) => i.status)).toEqual(['finished', 'interrupted', 'finished']);
    expect(meta.successful).toBe(true);
  }, 300_000);
});
