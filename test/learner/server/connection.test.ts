/** One connection on its own, over a real WebSocket pair: phases, hello deadline, refusals, closing, the buffer cap. */
import { afterEach, describe, expect, it } from 'vitest';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { Packr } from 'msgpackr';
import { Connection, type ConnectionOptions } from '../../../learner/server/connection.js';
import { zeroMetrics } from '../../../learner/server/metrics.js';
import { decode, encode } from '../../../proto/codec.js';
import type { Message } from '../../../proto/messages.js';
import { CloseCode } from '../../../proto/wire.js';
import { hello, until } from '../harness.js';

const open: Array<() => void> = [];
afterEach(() => {
  for (const f of open.splice(0)) f();
});

/** A server-side Connection and the client WebSocket talking to it. */
async function pair(over: Partial<ConnectionOptions> = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const m = zeroMetrics();
  const got: Message[] = [];
  const closes: Array<[number, string]> = [];
  const server = new Promise<Connection>((resolve) =>
    wss.once('connection', (ws) =>
      resolve(
        new Connection(ws, {
          id: 1,
          actorId: 'a',
          remoteAddress: '127.0.0.1',
          heartbeatMs: 1000,
          helloTimeoutMs: 5000,
          decodeBudgetMs: 1000,
          maxBufferedBytes: 1 << 20,
          metrics: m,
          onMessage: (_c, msg) => got.push(msg),
          onClosed: (_c, code, reason) => closes.push([code, reason]),
          ...over,
        }),
      ),
    ),
  );
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  client.on('error', () => undefined);
  const received: Message[] = [];
  client.on('message', (d) => {
    const r = decode(d as Buffer);
    if (r.ok) received.push(r.msg);
  });
  const clientClosed = new Promise<{ code: number; reason: string }>((r) =>
    client.once('close', (code, reason) => r({ code, reason: reason.toString() })),
  );
  open.push(() => {
    client.terminate();
    wss.close();
  });
  await new Promise((r) => client.once('open', r));
  return { c: await server, client, m, got, closes, received, clientClosed };
}

describe('Connection', () => {
  it('passes gated messages on, becomes ready with a view, and reports its close once', async () => {
    const { c, client, got, closes } = await pair();
    expect(c.isReady).toBe(false);
    expect(() => c.view).toThrow(/has not completed its handshake/);
    client.send(encode(hello('a')));
    await until(() => got.length === 1);
    const view = c.becomeReady(hello('a'));
    expect(view).toMatchObject({ actorId: 'a', incarnation: 'inc-a', isOpen: true, trialsInFlight: 0 });
    expect(c.view).toBe(view);
    client.close(1000, 'done');
    await until(() => closes.length === 1);
    expect(closes).toEqual([[1000, 'done']]);
    expect(c.closed).toBe(true);
    expect(view.isOpen).toBe(false);
    expect(view.send({ type: 'heartbeat', t: 1 })).toBe(false);
  });

  it('closes 1008 when no hello arrives in time', async () => {
    const { m, clientClosed } = await pair({ helloTimeoutMs: 50 });
    expect(await clientClosed).toEqual({ code: CloseCode.POLICY_VIOLATION, reason: 'no hello in time' });
    expect(m.helloTimeouts).toBe(1);
  });

  it('a refused frame closes with its code; a handshaken peer gets the reason in an error message first', async () => {
    const { c, client, received, clientClosed, got } = await pair();
    c.becomeReady(hello('a'));
    client.send(new Packr({ useRecords: false }).pack({ type: 'policy' }));
    expect((await clientClosed).code).toBe(CloseCode.POLICY_VIOLATION);
    expect(received).toEqual([{ type: 'error', code: 'protocol', message: "actors may not send 'policy'" }]);
    expect(got).toEqual([]);
  });

  it('a handler that throws closes 1011 and is counted', async () => {
    const { client, m, clientClosed } = await pair({
      onMessage: () => {
        throw new Error('bug');
      },
    });
    client.send(encode(hello('a')));
    expect(await clientClosed).toEqual({ code: CloseCode.INTERNAL_ERROR, reason: 'internal error' });
    expect(m.internalErr).toBe(1);
  });

  it('a peer that does not answer the close is terminated after the grace', async () => {
    const { c, client, closes } = await pair();
    (client as unknown as { _socket: Socket })._socket.pause(); // never reads the close frame
    const t0 = Date.now();
    c.close(CloseCode.GOING_AWAY, 'bye');
    expect(c.closing).toBe(true);
    await until(() => closes.length === 1, 5000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(closes[0][0]).toBe(1006); // terminated: no close frame came back
  });

  it('a control frame that finds the buffer over its cap closes 4004; weights are not capped here', async () => {
    const { c, client, m } = await pair({ maxBufferedBytes: 1024 });
    (client as unknown as { _socket: Socket })._socket.pause();
    const view = c.becomeReady(hello('a'));
    view.sendBytes(new Uint8Array(8 << 20)); // more than the kernel takes: stays buffered
    expect(c.bufferedAmount).toBeGreaterThan(1024);
    expect(m.slowReaders).toBe(0);
    // Allowed: 1 KiB + two of the largest weights message; a control frame beyond that closes.
    view.sendBytes(new Uint8Array(8 << 20));
    view.sendBytes(new Uint8Array(1 << 20));
    expect(view.send({ type: 'heartbeat', t: 1 })).toBe(true);
    expect(m.slowReaders).toBe(1);
    expect(c.closing).toBe(true);
    expect(c.pendingSends).toBeGreaterThan(0); // the weights, not yet taken by the socket
  });
});
