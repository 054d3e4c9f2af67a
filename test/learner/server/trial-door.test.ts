/** Trial ingest on its own: credit, checks, ack-after-commit, and what a failing hook or ledger does. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '../../../learner/ledger.js';
import type { ActorConnection } from '../../../learner/server.js';
import { zeroMetrics } from '../../../learner/server/metrics.js';
import { TrialDoor, type TrialDoorOptions, type TrialPeer } from '../../../learner/server/trial-door.js';
import { encode } from '../../../proto/codec.js';
import type { Ack, LearnerMessage, Trial } from '../../../proto/messages.js';
import { CloseCode } from '../../../proto/wire.js';
import { sampleKey, sampleTrial } from '../../proto/samples.js';
import { until } from '../harness.js';

let dir: string;
let ledger: Ledger;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lamer-door-'));
  ledger = await Ledger.open(join(dir, 'ledger'));
});
afterEach(async () => {
  await ledger.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** A handshaken peer that records what it is sent (acks only while open) and how it was closed. */
function peer(actorId = 'actor-1') {
  const sent: LearnerMessage[] = [];
  const p = {
    actorId,
    trialsInFlight: 0,
    open: true,
    closedWith: null as [number, string] | null,
    sent,
    view: {
      actorId,
      send: (msg: LearnerMessage) => {
        if (!p.open) return false;
        sent.push(msg);
        return true;
      },
    } as unknown as ActorConnection,
    close(code: number, reason: string) {
      p.open = false;
      p.closedWith = [code, reason];
    },
  };
  return p satisfies TrialPeer;
}

function door(over: Partial<TrialDoorOptions> = {}) {
  const m = zeroMetrics();
  const d = new TrialDoor({
    runId: 'run-1',
    ledger,
    creditWindow: 2,
    policyState: () => ({ policyVersion: 3 }),
    metrics: m,
    ...over,
  });
  return { d, m };
}

const trial = (seq: number, seed = seq + 1): Trial => sampleTrial(seed, sampleKey(seq));
const acks = (p: ReturnType<typeof peer>) => p.sent.filter((x): x is Ack => x.type === 'ack');

describe('TrialDoor', () => {
  it('commits, then tells the learner, then acks; the credit is given back', async () => {
    const order: string[] = [];
    const p = peer();
    const { d, m } = door({ onTrialCommitted: (t, info) => order.push(`committed ${t.key.seq}@${info.offset}`) });
    const t = trial(0);
    const bytes = encode(t);
    d.receive(p, t, bytes);
    expect(p.trialsInFlight).toBe(1);
    await until(() => acks(p).length === 1);
    expect(order).toEqual(['committed 0@0']);
    expect(acks(p)).toEqual([{ type: 'ack', key: t.key, status: 'committed' }]);
    expect(p.trialsInFlight).toBe(0);
    expect(ledger.status(t.key)).toBe('committed');
    d.receive(p, t, bytes);
    await until(() => acks(p).length === 2);
    expect(acks(p)[1].status).toBe('duplicate');
    expect(m).toMatchObject({ trialsReceived: 2, trialsCommitted: 1, dupSuppressed: 1 });
  });

  it('closes 1008 on a trial beyond the credit window', () => {
    const p = peer();
    const { d, m } = door({ creditWindow: 2 });
    for (let i = 0; i < 3; i++) d.receive(p, trial(i), encode(trial(i)));
    expect(p.closedWith).toEqual([CloseCode.POLICY_VIOLATION, 'more than 2 unacked trials']);
    expect(m.creditViolations).toBe(1);
  });

  it('rejects content problems (reported) and foreign keys (not reported) without closing', async () => {
    const reported: string[] = [];
    const p = peer();
    const { d, m } = door({
      creditWindow: 10,
      modelShape: () => ({ vocabSize: 8, contextLength: 1000 }), // sample token ids go up to 63
      onTrialRejected: (t, reason) => reported.push(`${t.key.seq}: ${reason}`),
    });
    d.receive(p, { ...trial(0), key: sampleKey(0, { runId: 'other' }) }, new Uint8Array(1));
    d.receive(p, { ...trial(1), key: sampleKey(1, { actorId: 'mallory' }) }, new Uint8Array(1));
    d.receive(p, trial(2), encode(trial(2)));
    expect(acks(p).map((a) => a.reason)).toEqual([
      "key.runId 'other' is not this run",
      'key.actorId does not match the authenticated actor',
      expect.stringMatching(/vocab/),
    ]);
    expect(reported).toEqual([expect.stringMatching(/^2: .*vocab/)]);
    expect(p.closedWith).toBeNull();
    expect(p.trialsInFlight).toBe(0);
    expect(m.rejected).toBe(3);
    expect(ledger.size).toBe(0);
  });

  it('a check or a hook that throws is counted and logged; the record is refused, the connection kept', async () => {
    const errors: string[] = [];
    const logger = { error: (_: unknown, msg: string) => errors.push(msg), warn: () => undefined } as never;
    const p = peer();
    const { d, m } = door({
      logger,
      checkTrial: () => {
        throw new Error('bug');
      },
      onTrialRejected: () => {
        throw new Error('bug too');
      },
    });
    d.receive(p, trial(0), encode(trial(0)));
    expect(acks(p)).toMatchObject([{ status: 'rejected', reason: 'the learner could not check this record' }]);
    expect(errors).toEqual(['trial check failed', 'onTrialRejected failed']);
    expect(m.internalErr).toBe(2);
    expect(p.closedWith).toBeNull();
  });

  it('acks nothing to a connection that closed meanwhile, and frees its credit', async () => {
    const p = peer();
    const { d, m } = door();
    d.receive(p, trial(0), encode(trial(0)));
    p.open = false; // closed before the ledger made the record durable
    await until(() => m.trialsCommitted === 1);
    await until(() => p.trialsInFlight === 0);
    expect(p.sent).toEqual([]);
  });

  it('a ledger failure acks nothing and closes 1011', async () => {
    const p = peer();
    const { d, m } = door();
    await (ledger as unknown as { writeHandle: { close(): Promise<void> } }).writeHandle.close();
    d.receive(p, trial(0), encode(trial(0)));
    await until(() => p.closedWith !== null);
    expect(p.closedWith).toEqual([CloseCode.INTERNAL_ERROR, 'ledger failure']);
    expect(p.sent).toEqual([]);
    expect(p.trialsInFlight).toBe(0);
    expect(m.internalErr).toBe(1);
  });
});
