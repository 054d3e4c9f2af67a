import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { LearnerClient, type LearnerClientOptions } from '../../actor/learner-client.js';
import { Outbox } from '../../actor/outbox.js';
import { CloseCode } from '../../proto/wire.js';
import { decode, encode, sha256Hex } from '../../proto/codec.js';
import { toTensor, type Ack, type Lease, type Policy } from '../../proto/messages.js';
import { sampleTrialBody } from '../proto/samples.js';
import { RUN, startHarness, token, until, type Harness } from '../learner/harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function harness(over: Parameters<typeof startHarness>[0] = {}, dir?: string): Promise<Harness> {
  const h = await startHarness(over, dir);
  cleanups.push(() => h.stop({ keepDir: dir !== undefined }));
  return h;
}

async function client(
  url: string,
  over: Partial<LearnerClientOptions> = {},
  actorId = 'actor-1',
): Promise<LearnerClient> {
  const outbox = over.outbox ?? (await Outbox.open({}));
  const c = new LearnerClient({
    url,
    actorId,
    token: token(actorId),
    runId: RUN,
    outbox,
    backoff: { initialMs: 20, maxMs: 200 },
    ...over,
  });
  cleanups.push(() => c.close());
  c.start();
  return c;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lamer-client-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function ledgerKeys(h: Harness): Promise<string[]> {
  const out: string[] = [];
  for await (const r of h.ledger.iterate(0)) out.push(`${r.key.incarnation}/${r.key.seq}`);
  return out;
}

describe('LearnerClient delivery', () => {
  it('hello/welcome, then sendTrial resolves with the ack once the ledger committed it', async () => {
    const h = await harness();
    const c = await client(h.server.url);
    const w = await c.ready();
    expect(w.policyVersion).toBe(3);
    const ack = await c.sendTrial(sampleTrialBody(1));
    expect(ack).toMatchObject({
      type: 'ack',
      status: 'committed',
      key: { runId: RUN, actorId: 'actor-1', incarnation: c.incarnation, seq: 0 },
    });
    expect(h.ledger.status(ack.key)).toBe('committed');
    const second = await c.sendTrial(sampleTrialBody(2));
    expect(second.key.seq).toBe(1);
    expect(c.stats()).toMatchObject({ state: 'ready', sent: 2, acked: 2, inFlight: 0, outbox: 0 });
  });

  it('never exceeds the credit window and pauses on credit 0', async () => {
    let maxInFlight = 0;
    const h = await harness({
      creditWindow: 2,
      onTrialCommitted: (_t, info) => {
        maxInFlight = Math.max(maxInFlight, info.conn.trialsInFlight);
      },
    });
    const c = await client(h.server.url);
    await c.ready();
    const acks = await Promise.all(Array.from({ length: 12 }, (_, i) => c.sendTrial(sampleTrialBody(i + 1))));
    expect(acks.every((a) => a.status === 'committed')).toBe(true);
    expect(maxInFlight).toBeLessThanOrEqual(2);
    expect(h.server.metrics().creditViolations).toBe(0);
    // Credit is a protocol message like any other: the learner sends it through its ordinary send path.
    expect(h.server.send('actor-1', { type: 'credit', n: 0 })).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    const receipt = await c.enqueueTrial(sampleTrialBody(99));
    await new Promise((r) => setTimeout(r, 150));
    expect(h.ledger.status(receipt.key)).toBe('absent');
    expect(h.server.send('actor-1', { type: 'credit', n: 2 })).toBe(true);
    expect((await receipt.acked).status).toBe('committed');
  });

  it('resends after a learner restart; an ack lost in a dropped connection yields exactly one commit', async () => {
    const dir = tempDir();
    let drop = true;
    let h = await startHarness(
      {
        // Commit the first record, then cut the connection before its ack goes out.
        onTrialCommitted: (_t, info) => {
          if (drop) {
            drop = false;
            info.conn.close(CloseCode.INTERNAL_ERROR, 'test: ack lost');
          }
        },
      },
      dir,
    );
    const port = h.server.port;
    const c = await client(h.server.url);
    await c.ready();
    const first = await c.enqueueTrial(sampleTrialBody(1));
    // The client reconnects; the welcome says seq 0 is committed, so it is dropped from the outbox, not resent.
    expect((await first.acked).status).toBe('duplicate');
    expect(c.stats().droppedByWelcome).toBe(1);
    // Learner goes away; trials keep accumulating in the outbox.
    await h.stop({ keepDir: true });
    const pending = await Promise.all([2, 3, 4].map((s) => c.enqueueTrial(sampleTrialBody(s))));
    await new Promise((r) => setTimeout(r, 100));
    expect(c.stats().outbox).toBe(3);
    h = await startHarness({ port }, dir);
    cleanups.push(() => h.stop());
    const acks: Ack[] = await Promise.all(pending.map((p) => p.acked));
    expect(acks.map((a) => a.status)).toEqual(['committed', 'committed', 'committed']);
    expect(await ledgerKeys(h)).toEqual([0, 1, 2, 3].map((s) => `${c.incarnation}/${s}`));
    expect(c.stats().reconnects).toBeGreaterThanOrEqual(2);
  });

  it('a durable outbox survives the process: a new incarnation resends old records under the old keys', async () => {
    const dir = tempDir();
    const h = await harness({}, dir);
    await h.server.close(); // learner unreachable while the first actor process runs
    const boxDir = join(dir, 'outbox');
    const firstBox = await Outbox.open({ dir: boxDir });
    const first = new LearnerClient({
      url: h.server.url,
      actorId: 'actor-1',
      token: token('actor-1'),
      runId: RUN,
      outbox: firstBox,
      backoff: { initialMs: 20, maxMs: 50 },
    });
    first.start();
    const keys = (await Promise.all([1, 2, 3].map((s) => first.enqueueTrial(sampleTrialBody(s))))).map((r) => r.key);
    // "SIGKILL": abandon the process state; only the outbox directory remains.
    await first.close();
    const h2 = await startHarness({ port: h.server.port }, join(dir, 'second'));
    cleanups.push(() => h2.stop());
    const acked: Ack[] = [];
    const second = await client(h2.server.url, {
      outbox: await Outbox.open({ dir: boxDir }),
      onAck: (a) => acked.push(a),
    });
    expect(second.incarnation).not.toBe(first.incarnation);
    await until(() => acked.length === 3);
    expect(acked.map((a) => a.key).sort((a, b) => a.seq - b.seq)).toEqual(keys);
    expect(acked.every((a) => a.status === 'committed')).toBe(true);
    expect(h2.ledger.size).toBe(3);
    expect((await Outbox.open({ dir: boxDir })).size).toBe(0);
    // New trials of the new process use its own incarnation from seq 0.
    expect((await second.sendTrial(sampleTrialBody(9))).key).toMatchObject({ incarnation: second.incarnation, seq: 0 });
  });
});

describe('LearnerClient failure handling', () => {
  it('stops for good on a wrong run (4001) and on a bad token (401)', async () => {
    const h = await harness();
    const fatal: string[] = [];
    const wrongRun = await client(h.server.url, { runId: 'another-run', onFatal: (e) => fatal.push(e.message) });
    await expect(wrongRun.ready()).rejects.toThrow(/4001/);
    const badToken = await client(
      h.server.url,
      { token: 'f'.repeat(64), onFatal: (e) => fatal.push(e.message) },
      'actor-2',
    );
    await expect(badToken.ready()).rejects.toThrow(/HTTP 401/);
    expect(fatal).toHaveLength(2);
    expect(wrongRun.connectionState).toBe('fatal');
    await expect(wrongRun.enqueueTrial(sampleTrialBody(1))).rejects.toThrow(/fatal/);
  });

  it('a zombie incarnation is fenced (4003) while the newer process keeps working', async () => {
    const h = await harness();
    const fatal: string[] = [];
    const old = await client(h.server.url, { incarnation: 'old', onFatal: (e) => fatal.push(e.message) });
    await old.ready();
    const fresh = await client(h.server.url, { incarnation: 'new' });
    await fresh.ready();
    await until(() => fatal.length === 1);
    expect(fatal[0]).toMatch(/4003/);
    expect((await fresh.sendTrial(sampleTrialBody(1))).status).toBe('committed');
  });

  it('backs off with full jitter between failed attempts, capped', async () => {
    const h = await harness();
    const url = h.server.url;
    await h.server.close();
    const c = await client(url, { backoff: { initialMs: 20, maxMs: 80 }, random: () => 1 });
    await new Promise((r) => setTimeout(r, 600));
    // Delays 20, 40, 80, 80, ... ms: about 8 attempts in 600 ms (connection refusals are immediate).
    const n = c.stats().connects;
    expect(n).toBeGreaterThanOrEqual(4);
    expect(n).toBeLessThanOrEqual(10);
  });

  it('terminates a silent learner after 3 heartbeat intervals and reconnects', async () => {
    // A fake learner that welcomes and then never sends another byte (no pings either).
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong: false });
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    let connections = 0;
    wss.on('connection', (ws) => {
      connections++;
      ws.on('error', () => undefined);
      ws.once('message', () =>
        ws.send(
          encode({
            type: 'welcome',
            learnerEpoch: 0,
            policyVersion: -1,
            heartbeatMs: 50,
            maxPayload: 1 << 20,
            creditWindow: 4,
            committed: [],
          }),
        ),
      );
    });
    await new Promise((r) => wss.once('listening', r));
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const c = await client(url);
    await c.ready();
    await until(() => connections >= 2, 3000);
    expect(c.stats().livenessTimeouts).toBeGreaterThanOrEqual(1);
  });
});

describe('LearnerClient send deadline', () => {
  it('closes the connection when a send to a learner that stopped reading is overdue; reconnects', async () => {
    // A fake learner: the first connection welcomes, then stops reading (it keeps pinging, so the client's liveness
    // check is satisfied and only the send deadline can notice; ws itself would cut the connection only after 60
    // unsent pongs, 12 s at this rate); later connections welcome and ack every trial.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    const sockets: Array<{ terminate(): void }> = [];
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    cleanups.push(() => sockets.forEach((ws) => ws.terminate()));
    let connections = 0;
    const received: number[] = [];
    wss.on('connection', (ws) => {
      const n = ++connections;
      sockets.push(ws);
      ws.on('error', () => undefined);
      const pings = setInterval(() => ws.ping(), 200);
      ws.on('close', () => clearInterval(pings));
      ws.on('message', (data) => {
        const r = decode(data as Buffer);
        if (!r.ok) throw new Error(r.reason);
        if (r.msg.type === 'hello') {
          ws.send(
            encode({
              type: 'welcome',
              learnerEpoch: 0,
              policyVersion: -1,
              heartbeatMs: 1000,
              maxPayload: 64 << 20,
              // The stalled one takes everything; the next one a record at a time, so that each of its sends
              // completes well within the deadline even on a loaded machine.
              creditWindow: n === 1 ? 32 : 1,
              committed: [],
            }),
          );
          if (n === 1) (ws as unknown as { _socket: Socket })._socket.pause();
        } else if (r.msg.type === 'trial') {
          received.push(r.msg.key.seq);
          ws.send(encode({ type: 'ack', key: r.msg.key, status: 'committed' }));
        }
      });
    });
    await new Promise((r) => wss.once('listening', r));
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const warnings: Array<{ obj: Record<string, unknown>; msg: string }> = [];
    const none = () => undefined;
    const logger = {
      info: none,
      debug: none,
      error: none,
      warn: (obj: Record<string, unknown>, msg: string) => warnings.push({ obj, msg }),
    } as never;
    const c = await client(url, { sendTimeoutMs: 1000, logger });
    await c.ready();
    // ~1.4 MiB each, 11 MiB in all: more than the kernel buffers for a peer that does not read (~3 MiB).
    const receipts = await Promise.all(
      Array.from({ length: 8 }, (_, i) => c.enqueueTrial(sampleTrialBody(i + 1, { promptLen: 32_768 }))),
    );
    const t0 = Date.now();
    const acks = await Promise.all(receipts.map((r) => r.acked));
    expect(acks.map((a) => a.status)).toEqual(Array(8).fill('committed'));
    expect(Date.now() - t0).toBeLessThan(10_000); // deadline 1 s + close grace 2 s + backoff, not ws's 12 s
    expect(connections).toBe(2);
    expect(c.stats()).toMatchObject({ sendTimeouts: 1, livenessTimeouts: 0, outbox: 0 });
    // Every record reached the second learner exactly once (the first never read any).
    expect([...received].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const w = warnings.find((x) => /did not complete in time/.test(x.msg));
    expect(w?.obj).toMatchObject({ url, limitMs: 1000 });
    expect(w?.obj.waitedMs as number).toBeGreaterThan(1000);
  });
});

describe('LearnerClient leases and policies', () => {
  it('delivers leases; accepts verified newer policies and a new epoch; ignores stale or corrupt ones', async () => {
    const h = await harness();
    const leases: Lease[] = [];
    const policies: Array<[number, number]> = [];
    const c = await client(h.server.url, {
      onLease: (l) => leases.push(l),
      onPolicy: (p) => {
        policies.push([p.learnerEpoch, p.policyVersion]);
      },
    });
    await c.ready();
    const weights = toTensor(Float32Array.from({ length: 16 }, (_, i) => i));
    const policy = (learnerEpoch: number, policyVersion: number, sha = sha256Hex(weights.data)): Policy => ({
      type: 'policy',
      learnerEpoch,
      policyVersion,
      config: { dModel: 4 },
      weights,
      sha256: sha,
    });
    h.server.send('actor-1', {
      type: 'lease',
      leaseId: 'l1',
      groupId: 'g1',
      envId: 'lamer/MineSweeper-v0',
      taskSeed: 5,
      groupSize: 2,
      attempts: 3,
      mode: 'train',
      memory: 'reflection',
      trialIndices: [0, 1],
      policyVersionAtLease: 3,
      envOptions: {},
      trial: {
        template: 'compact',
        maxTurns: 7,
        reflect: true,
        temperature: 1,
        topP: 1,
        maxActionTokens: 8,
        maxReflectTokens: 12,
      },
    });
    h.server.send('actor-1', policy(1, 4));
    h.server.send('actor-1', policy(1, 4)); // same version again: ignored
    h.server.send('actor-1', policy(1, 3)); // older: ignored
    h.server.send('actor-1', policy(1, 6, 'e'.repeat(64))); // corrupt: ignored
    h.server.send('actor-1', policy(2, 2)); // learner restarted (new epoch) at an older version: accepted
    await until(() => c.stats().policiesAccepted + c.stats().policiesIgnored + c.stats().badChecksums === 5);
    expect(leases.map((l) => l.leaseId)).toEqual(['l1']);
    expect(policies).toEqual([
      [1, 4],
      [2, 2],
    ]);
    expect(c.stats()).toMatchObject({ policiesIgnored: 2, badChecksums: 1 });
    expect(c.currentPolicy).toEqual({ learnerEpoch: 2, policyVersion: 2 });
    expect(c.requestLeases(3)).toBe(true);
  });
});
