/**
 * `lamer train --set algo.estimator=ppo` end to end with a tiny model: a run started with the default estimator
 * leaves a checkpoint without a value head; resumed with ppo, the learner adds a zero head (and says so), trains
 * a few updates with the value loss, evaluates through an actor process (generation ignores the head), saves
 * checkpoints that carry the head, and `lamer eval` decodes from such a checkpoint.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI } from '../fixtures/cli.js';
import { describe, expect, it } from 'vitest';
import { resolveRun } from '../../scripts/lib/run-config.js';
import { runTraining } from '../../scripts/lib/train-job.js';
import { readMetricsCsv } from '../../shared/run-dir.js';

const lamer = async (args: string[]) =>
  (await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8' })).stdout;

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
  'log.level=info',
];

describe('lamer train with the ppo estimator (e2e)', () => {
  it('adds a value head to a checkpoint without one, trains with the value loss and checkpoints the head', async () => {
    const runDir = join(mkdtempSync(join(tmpdir(), 'lamer-ppo-')), 'run');
    const first = await runTraining(resolveRun({ runDir, iterations: '1', actors: '1', set: tiny }), { quiet: true });
    expect(first.policyVersion).toBe(1);
    const ckpts = () =>
      readdirSync(join(runDir, 'checkpoints'))
        .filter((d) => d.startsWith('ckpt-'))
        .sort();
    const lamerJson = (d: string) => JSON.parse(readFileSync(join(runDir, 'checkpoints', d, 'lamer.json'), 'utf8'));
    expect(lamerJson(ckpts().at(-1)!).config.valueHead).toBeUndefined();

    const ppo = [...tiny, 'algo.estimator=ppo'];
    const second = await runTraining(resolveRun({ runDir, iterations: '3', actors: '1', set: ppo }), { quiet: true });
    expect(second.policyVersion).toBe(3);
    expect(second.stoppedBy).toBe('iterations');
    const log = readFileSync(join(runDir, 'logs', 'learner.log'), 'utf8');
    expect(log).toMatch(/initialised a zero value head/);
    const metrics = readMetricsCsv(join(runDir, 'metrics.csv'));
    const vl = metrics.get('train/value_loss') ?? [];
    expect(vl.length).toBe(2); // updates 2 and 3
    for (const p of vl) expect(Number.isFinite(p.value) && p.value > 0).toBe(true);
    expect(second.evals.at(-1)?.version).toBe(3);
    const last = lamerJson(ckpts().at(-1)!);
    expect(last.config.valueHead).toBe(true);
    expect(last.manifest.slice(-2).map((e: { name: string }) => e.name)).toEqual([
      'value_head.weight',
      'value_head.bias',
    ]);
    // `lamer eval` decodes from the checkpoint with the head (generation leaves it out) and reproduces the run's
    // final evaluation.
    const ev = JSON.parse(await lamer(['eval', '--run-dir', runDir, '--json']));
    expect(ev.pass).toEqual(second.evals.at(-1)!.pass);
  });
});
