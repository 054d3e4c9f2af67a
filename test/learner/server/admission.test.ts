/** Admission on a bare HTTP server: who gets a WebSocket, connection limits, and the upgrade deadline. */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { createAuthenticator } from '../../../learner/auth.js';
import { Admission, type AdmissionOptions } from '../../../learner/server/admission.js';
import { zeroMetrics } from '../../../learner/server/metrics.js';
import { MASTER, token, until } from '../harness.js';

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const x of open.splice(0)) x.close();
});

/** An HTTP server with admission in front of a WebSocket server that keeps every accepted socket. */
async function start(over: Partial<AdmissionOptions> = {}) {
  const http: Server = createServer();
  const wss = new WebSocketServer({ noServer: true });
  const accepted: Array<{ actorId: string; ws: WebSocket }> = [];
  const m = zeroMetrics();
  const admission: Admission = new Admission(http, {
    auth: createAuthenticator(MASTER),
    maxConnections: 10,
    upgradeTimeoutMs: 10_000,
    tls: false,
    live: () => accepted.filter((a) => a.ws.readyState === WebSocket.OPEN).length,
    metrics: m,
    accept: (req, socket, head, actorId) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        admission.upgraded(socket);
        accepted.push({ actorId, ws });
      }),
    ...over,
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  open.push({
    close: () => {
      admission.close();
      for (const a of accepted) a.ws.terminate();
      http.closeAllConnections();
      http.close();
    },
  });
  const connections = () => new Promise<number>((r, j) => http.getConnections((e, n) => (e ? j(e) : r(n))));
  return { admission, accepted, m, port, connections, url: `ws://127.0.0.1:${port}` };
}

/** Opens a WebSocket; resolves it, or rejects with the HTTP status. */
function ws(url: string, headers: Record<string, string>): Promise<WebSocket> {
  const w = new WebSocket(url, { headers });
  open.push({ close: () => w.terminate() });
  return new Promise((resolve, reject) => {
    w.once('open', () => resolve(w));
    w.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }));
      w.terminate();
    });
    w.once('error', reject);
  });
}

const bearer = (actorId: string, t = token(actorId)) => ({ authorization: `Bearer ${actorId}.${t}` });

function rawSocket(port: number, allowHalfOpen = false): Promise<Socket & { closedAt?: number }> {
  const s = connect({ port, host: '127.0.0.1', allowHalfOpen });
  s.on('error', () => undefined);
  open.push({ close: () => s.destroy() });
  return new Promise((r) => s.once('connect', () => r(s)));
}

describe('Admission', () => {
  it('hands over an authenticated upgrade with its actorId; 401 a bad token, 403 a browser Origin', async () => {
    const { accepted, m, url } = await start();
    await ws(url, bearer('actor-1'));
    expect(accepted.map((a) => a.actorId)).toEqual(['actor-1']);
    await expect(ws(url, bearer('actor-2', token('actor-1')))).rejects.toMatchObject({ status: 401 });
    await expect(ws(url, {})).rejects.toMatchObject({ status: 401 });
    await expect(ws(url, { ...bearer('actor-1'), origin: 'https://evil.example' })).rejects.toMatchObject({
      status: 403,
    });
    expect(accepted).toHaveLength(1);
    expect(m).toMatchObject({ authFailures: 2, originRejected: 1, overLimit: 0 });
    expect((await fetch(url.replace('ws://', 'http://'))).status).toBe(426);
  });

  it('counts raw TCP and upgraded connections against the limit; destroys those not upgraded in time', async () => {
    const { admission, m, port, url } = await start({ maxConnections: 3, upgradeTimeoutMs: 300 });
    await ws(url, bearer('actor-1'));
    const raw = [await rawSocket(port), await rawSocket(port)];
    await until(() => admission.pending === 2);
    await expect(ws(url, bearer('actor-2'))).rejects.toMatchObject({ status: 503 });
    expect(m.overLimit).toBe(1);
    const closed = raw.map((s) => new Promise<void>((r) => s.once('close', () => r())));
    const t0 = Date.now();
    await Promise.all(closed);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(m.upgradeTimeouts).toBe(2);
    expect(admission.pending).toBe(0);
    await ws(url, bearer('actor-2')); // room again
  });

  it('a refused peer that never closes its side is cut off after upgradeTimeoutMs (no fd held forever)', async () => {
    const { port, connections } = await start({ maxConnections: 1, upgradeTimeoutMs: 300 });
    await rawSocket(port); // takes the only slot (until its upgrade deadline)
    const s = await rawSocket(port, true); // half-open allowed: it never ends its side after the 503
    const got: string[] = [];
    s.on('data', (d) => got.push(d.toString()));
    await new Promise<void>((r) => s.once('end', () => r()));
    expect(got.join('')).toMatch(/^HTTP\/1.1 503 /);
    // The server's side of both is gone: the first by its upgrade deadline, the refused one by its idle timeout.
    const t0 = Date.now();
    while ((await connections()) > 0) {
      expect(Date.now() - t0, 'server-side sockets still open').toBeLessThan(3000);
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('close() destroys connections that have not upgraded and refuses new ones', async () => {
    const { admission, port, url, m } = await start();
    const s = await rawSocket(port);
    await until(() => admission.pending === 1);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    admission.close();
    await closed;
    expect(admission.pending).toBe(0);
    await expect(ws(url, bearer('actor-1'))).rejects.toMatchObject({ status: 503 });
    expect(m.overLimit).toBe(1);
  });
});
