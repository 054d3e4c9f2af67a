/**
 * Regression (found by `lamer chaos`): a learner that resumed from checkpoint C in epoch e, published newer
 * weights, and died before checkpointing them used to restart from C in epoch e AGAIN. Actors holding the dead
 * process's (e, v>C) weights then ignored every (e, v') with v' <= v, kept sampling with weights of a dead
 * timeline, and had their trials rejected as "newer than the learner". Every start must open a new epoch.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LearnerRuntime } from '../../learner/runtime.js';
import { resolveConfig } from '../../shared/config.js';
import { startRuntime } from './runtime-fixture.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function start(runDir: string): Promise<LearnerRuntime> {
  const config = resolveConfig({
    model: { dModel: 16, nLayer: 1, nHead: 2, nCtx: 160, init: 'random' },
    env: { groupSize: 2 },
    run: { evalTasks: 2 },
    learner: { port: 0 },
  });
  return startRuntime(config, runDir);
}

describe('learner epoch', () => {
  it('grows on every start, also when two starts resume from the same checkpoint', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lamer-epoch-'));
    const a = await start(dir);
    expect(a.summary().learnerEpoch).toBe(0);
    await a.close(); // no checkpoint: the next start is fresh again, yet a new epoch
    const b = await start(dir);
    expect(b.summary().learnerEpoch).toBe(1);
    await b.checkpoint(); // checkpoint written in epoch 1
    await b.close();
    const c = await start(dir);
    expect(c.summary().learnerEpoch).toBe(2);
    await c.close(); // died before checkpointing: the next start resumes from the epoch-1 checkpoint again
    const d = await start(dir);
    expect(d.summary().learnerEpoch).toBe(3);
    expect(d.summary().policyVersion).toBe(0);
    await d.close();
    expect(readFileSync(join(dir, 'learner-epoch'), 'utf8').trim()).toBe('3');
  }, 60_000);
});
