/**
 * A learner stopped by a signal (a restart, preemption, a rolling update) must not end its actors: they reconnect to
 * the next start. Found by the 2-hour soak: every SIGTERM restart used to send `bye`, and the actors exited.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LearnerClient } from '../../actor/learner-client.js';
import { Outbox } from '../../actor/outbox.js';
import { deriveActorToken } from '../../learner/auth.js';
import { runEnded } from '../../learner/runtime.js';
import { resolveConfig } from '../../shared/config.js';
import { freePort } from '../fixtures/ports.js';
import { MASTER, until } from './harness.js';
import { startRuntime } from './runtime-fixture.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('learner goodbye', () => {
  it('only a finished run says bye', () => {
    expect(runEnded('iterations')).toBe(true);
    expect(runEnded('minutes')).toBe(true);
    expect(runEnded('budget-spent')).toBe(true);
    expect(runEnded('signal')).toBe(false);
    expect(runEnded(null)).toBe(false); // a failed start
  });

  it('a signal stop closes with 1001 and no bye: the actor reconnects to the next start', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lamer-bye-'));
    const port = await freePort(); // both starts listen here, as a restarted learner does
    const config = resolveConfig({
      model: { dModel: 16, nLayer: 1, nHead: 2, nCtx: 160, init: 'random' },
      env: { groupSize: 2 },
      run: { evalTasks: 2, evalEvery: 0, iterations: 0, minutes: 5 },
      learner: { port },
    });
    const start = () => startRuntime(config, dir);
    const a = await start();
    const byes: string[] = [];
    let welcomes = 0;
    const client = new LearnerClient({
      url: a.url,
      actorId: 'x1',
      token: deriveActorToken(MASTER, 'x1'),
      runId: a.runId,
      outbox: await Outbox.open(),
      onBye: (r) => byes.push(r),
      onWelcome: () => welcomes++,
      backoff: { initialMs: 20, maxMs: 100 },
    });
    client.start();
    try {
      await until(() => welcomes === 1, 20_000);
      const running = a.run();
      a.requestStop();
      expect(await running).toMatchObject({ stoppedBy: 'signal' });
      await a.close();
      expect(a.saidBye).toBe(false);
      expect(byes).toEqual([]);
      await until(() => client.connectionState !== 'ready', 20_000);
      expect(client.connectionState).not.toBe('fatal');
      expect(client.connectionState).not.toBe('closed');
      const b = await start();
      try {
        await until(() => welcomes === 2, 20_000);
        expect(byes).toEqual([]);
      } finally {
        await b.close();
      }
    } finally {
      await client.close();
    }
  }, 60_000);
});
