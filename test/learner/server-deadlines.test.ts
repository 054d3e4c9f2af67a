/**
 * The learner's per-send deadline (docs/long-runs.md §3): a peer that stops reading leaves our sends unfinished once
 * the kernel's buffers are full; past `sendTimeoutMs` its connection is closed 4005 and the peer and the delay are
 * logged, while everyone else keeps being served.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { createAuthenticator } from '../../learner/auth.js';
import type { Ledger } from '../../learner/ledger.js';
import { PolicyPublisher } from '../../learner/publisher.js';
import { createLearnerServer } from '../../learner/server.js';
import { toTensor } from '../../proto/messages.js';
import { MASTER, RawClient, startHarness, until, type Harness } from './harness.js';

const state = { learnerEpoch: 1, policyVersion: 3 };

let h: Harness | null = null;
const pubs: PolicyPublisher[] = [];
afterEach(async () => {
  for (const p of pubs.splice(0)) p.close();
  await h?.stop();
  h = null;
});

/** A logger that keeps its warnings. */
function recordingLogger(): { logger: never; warnings: Array<{ obj: Record<string, unknown>; msg: string }> } {
  const warnings: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const none = () => undefined;
  const logger = {
    info: none,
    debug: none,
    error: none,
    warn: (obj: Record<string, unknown>, msg: string) => warnings.push({ obj, msg }),
  };
  return { logger: logger as never, warnings };
}

/** 8 MiB of weights: more than the kernel takes for a peer that does not read (~3 MiB on loopback). */
const bigWeights = (v: number) => toTensor(new Float32Array(2 << 20).fill(v));

describe('learner send deadline', () => {
  it('closes a connection once a send to a peer that stopped reading is overdue; logs who and how long', async () => {
    const { logger, warnings } = recordingLogger();
    // Heartbeats slower than the deadline: the close must come from the send deadline, not from silence.
    h = await startHarness({ sendTimeoutMs: 1000, heartbeatMs: 2000, logger });
    const bystander = await RawClient.ready(h.server.url, 'bystander');
    const stalled = await RawClient.ready(h.server.url, 'stalled');
    (stalled.ws as unknown as { _socket: Socket })._socket.pause(); // stops reading, connection stays up
    const pub = new PolicyPublisher({ peers: () => h!.server.connections(), sweepMs: 20 });
    pubs.push(pub);
    const t0 = Date.now();
    pub.publish({ policyVersion: 4, learnerEpoch: 1, config: {}, weights: bigWeights(1) });
    await until(() => h!.server.connection('stalled') === undefined, 5000);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(h.server.metrics()).toMatchObject({ sendTimeouts: 1, heartbeatTimeouts: 0, slowReaders: 0 });
    const w = warnings.find((x) => x.obj.actorId === 'stalled');
    expect(w?.msg).toMatch(/did not complete in time/);
    expect(w?.obj).toMatchObject({ limitMs: 1000, remoteAddress: '127.0.0.1' });
    expect(w?.obj.waitedMs as number).toBeGreaterThan(1000);
    // The bystander got the weights and is still served.
    await until(() => bystander.messages.some((m) => m.type === 'policy'), 5000);
    bystander.send({ type: 'heartbeat', t: 9 });
    await until(() => bystander.messages.some((m) => m.type === 'heartbeat'), 5000);
    expect(h.server.connection('bystander')).toBeDefined();
    bystander.ws.close();
    stalled.ws.terminate();
  });

  it('sendTimeoutMs 0: no send deadline (the same stalled peer stays connected)', async () => {
    h = await startHarness({ sendTimeoutMs: 0, heartbeatMs: 2000 });
    const stalled = await RawClient.ready(h.server.url, 'stalled');
    (stalled.ws as unknown as { _socket: Socket })._socket.pause();
    const pub = new PolicyPublisher({ peers: () => h!.server.connections(), sweepMs: 20 });
    pubs.push(pub);
    pub.publish({ policyVersion: 4, learnerEpoch: 1, config: {}, weights: bigWeights(1) });
    await new Promise((r) => setTimeout(r, 1500));
    // The send is still pending, and the connection is still up (the paused peer still answers nothing, but
    // heartbeats allow 3 x 2 s of silence).
    expect(h.server.connection('stalled')?.bufferedAmount).toBeGreaterThan(0);
    expect(h.server.metrics().sendTimeouts).toBe(0);
    stalled.ws.terminate();
  });

  it('refuses a negative or non-finite sendTimeoutMs', async () => {
    const base = { runId: 'r', auth: createAuthenticator(MASTER), ledger: {} as Ledger, policyState: () => state };
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(createLearnerServer({ ...base, sendTimeoutMs: bad })).rejects.toThrow(/sendTimeoutMs must be >= 0/);
    }
  });
});
