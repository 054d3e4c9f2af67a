import { describe, expect, it } from 'vitest';
import { freePort } from '../fixtures/ports.js';
import { ActorRuntime } from '../../actor/runtime.js';
import { createLogger } from '../../shared/logger.js';

describe('ActorRuntime', () => {
  const givesUp =
    'gives up when the learner stays unreachable (an actor that missed the final bye does not retry forever)';
  it(givesUp, async () => {
    const port = await freePort();
    const t0 = Date.now();
    const actor = await ActorRuntime.start({
      url: `ws://127.0.0.1:${port}`,
      actorId: 'a0',
      token: 'x'.repeat(64),
      runId: 'run-test',
      logger: createLogger({ level: 'silent' }),
      threads: 1,
      groupsInFlight: 1,
      maxBatch: 8,
      giveUpAfterMs: 1000,
    });
    await actor.done();
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(10_000);
    expect(actor.stats.trialsDone).toBe(0);
  });
});
