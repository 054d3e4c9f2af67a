/**
 * No descriptor leak per connection: many actors connect and disconnect in every way a connection can end
 * (bye, close, abrupt socket destroy, no hello, 401, never upgrading, protocol violation, superseded, frozen
 * until the heartbeat cuts it, the real actor client reconnecting), and this process's open descriptor count
 * (shared/process-probe.ts `openFds`: the learner's and, since they run here too, the clients') returns to its
 * baseline. Linux only (/proc).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { LearnerClient } from '../../actor/learner-client.js';
import { Outbox } from '../../actor/outbox.js';
import { openFds } from '../../shared/process-probe.js';
import { sampleKey, sampleTrial, sampleTrialBody } from '../proto/samples.js';
import type { LearnerServer } from '../../learner/server.js';
import { RUN, RawClient, startHarness, token, until, type Harness } from './harness.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the socket is closed on this (the client's) side. */
const gone = (ws: WebSocket) =>
  ws.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise<void>((r) => ws.once('close', () => r()));

/** One connection that ends in the way `kind` says; resolves once the client side is closed. */
async function cycle(server: LearnerServer, kind: number, i: number): Promise<void> {
  const { url, port } = server;
  const actorId = `actor-${i % 7}`;
  switch (kind) {
    case 0: {
      // Orderly: bye (the learner closes 1000).
      const c = await RawClient.ready(url, actorId);
      c.send({ type: 'bye', reason: 'done' });
      await c.closed;
      return;
    }
    case 1: {
      // A committed trial, then the client closes.
      const c = await RawClient.ready(url, actorId, { incarnation: `inc-${i}` });
      c.send(sampleTrial(i + 1, sampleKey(0, { runId: RUN, actorId, incarnation: `inc-${i}` })));
      expect(await c.next()).toMatchObject({ type: 'ack', status: 'committed' });
      c.ws.close();
      await c.closed;
      return;
    }
    case 2: {
      // Abrupt: the TCP socket is destroyed under a handshaken connection.
      const c = await RawClient.ready(url, actorId, { incarnation: `inc-${i}` });
      (c.ws as unknown as { _socket: Socket })._socket.destroy();
      await c.closed;
      return;
    }
    case 3: {
      // Upgraded, never says hello, then vanishes.
      const c = await RawClient.open(url, actorId);
      c.ws.terminate();
      await c.closed;
      return;
    }
    case 4: {
      // Refused at the upgrade (401).
      const ws = new WebSocket(url, { headers: { authorization: 'Bearer nobody.0000' } });
      ws.on('error', () => undefined);
      await new Promise<void>((r) =>
        ws.once('unexpected-response', (_req, res) => {
          expect(res.statusCode).toBe(401);
          ws.terminate();
          r();
        }),
      );
      await gone(ws);
      return;
    }
    case 5: {
      // A raw TCP connection that never upgrades, destroyed by the client.
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      await new Promise<void>((r) => s.once('connect', () => r()));
      s.write('GET / HTTP/1.1\r\nHost: x\r\n'); // half a request
      await sleep(5);
      s.destroy();
      return;
    }
    case 6: {
      // A protocol violation: the learner closes 1003.
      const c = await RawClient.ready(url, actorId, { incarnation: `inc-${i}` });
      c.ws.send('text');
      expect((await c.closed).code).toBe(1003);
      return;
    }
    case 7: {
      // Superseded by a newer connection of the same actor (the old one is closed 4003).
      const a = await RawClient.ready(url, actorId, { incarnation: `inc-${i}` });
      const b = await RawClient.ready(url, actorId, { incarnation: `inc-${i}` });
      expect((await a.closed).code).toBe(4003);
      b.ws.terminate();
      await b.closed;
      return;
    }
    case 8: {
      // Frozen: stops reading and answering; the learner's heartbeat terminates it.
      const c = await RawClient.ready(url, actorId, { incarnation: `inc-${i}` });
      const raw = (c.ws as unknown as { _socket: Socket })._socket;
      raw.pause();
      await until(() => server.connection(actorId) === undefined, 5000);
      raw.resume(); // a paused socket never sees its end: thaw it so that the client side closes too
      await c.closed;
      return;
    }
    default: {
      // The real actor client: connects, delivers, is cut off once, reconnects, says bye.
      const outbox = await Outbox.open({});
      const client = new LearnerClient({
        url,
        actorId,
        token: token(actorId),
        runId: RUN,
        outbox,
        incarnation: `inc-${i}`,
        backoff: { initialMs: 5, maxMs: 20 },
      });
      client.start();
      await client.ready();
      expect((await client.sendTrial(sampleTrialBody(i + 1))).status).toBe('committed');
      const ws = (client as unknown as { ws: WebSocket }).ws;
      (ws as unknown as { _socket: Socket })._socket.destroy();
      await until(() => client.stats().reconnects >= 1 && client.connectionState === 'ready', 5000);
      await client.close();
      return;
    }
  }
}

describe('descriptors across connection churn', () => {
  it.runIf(openFds() !== null)(
    'after 60 connections ending in 10 different ways, open fds return to the baseline',
    async () => {
      h = await startHarness({ heartbeatMs: 150, helloTimeoutMs: 300, upgradeTimeoutMs: 300 });
      // Warm-up: one of each, so that what is opened once per process (ledger segment, lazily loaded modules)
      // is in the baseline.
      for (let k = 0; k < 10; k++) await cycle(h.server, k, 1000 + k);
      const settle = async () => {
        await until(() => h!.server.metrics().connectionsLive === 0, 10_000);
        await sleep(400); // sockets refused or destroyed on the server side close on the next ticks
      };
      await settle();
      const baseline = openFds()!;
      const m0 = h.server.metrics();
      for (let i = 0; i < 60; i++) await cycle(h.server, i % 10, i);
      await settle();
      // Poll: the last sockets' descriptors are released asynchronously after their close events.
      let now = openFds()!;
      for (let t = 0; now > baseline + 2 && t < 50; t++) {
        await sleep(100);
        now = openFds()!;
      }
      const m = h.server.metrics();
      expect(m.connectionsOpened - m0.connectionsOpened).toBeGreaterThanOrEqual(60);
      expect(m.connectionsClosed).toBe(m.connectionsOpened);
      expect(m.heartbeatTimeouts - m0.heartbeatTimeouts).toBeGreaterThanOrEqual(6); // the frozen ones
      expect(now, `open fds ${now}, baseline ${baseline}`).toBeLessThanOrEqual(baseline + 2);
    },
    120_000,
  );
});
