/** Test harness: a learner server on port 0 with a temp ledger, and raw ws clients that speak the protocol. */
import { PROTOCOL_VERSION } from '../../proto/version.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createAuthenticator, deriveActorToken } from '../../learner/auth.js';
import { Ledger } from '../../learner/ledger.js';
import { createLearnerServer, type LearnerServer, type LearnerServerOptions } from '../../learner/server.js';
import { decode, encode } from '../../proto/codec.js';
import type { Hello, Message } from '../../proto/messages.js';

export const MASTER = 'test-master-key-0123456789abcdef';
export const RUN = 'run-1';

export interface Harness {
  server: LearnerServer;
  ledger: Ledger;
  dir: string;
  state: { learnerEpoch: number; policyVersion: number };
  /** Closes server and ledger, removes the temp dir unless `keepDir`. */
  stop(opts?: { keepDir?: boolean }): Promise<void>;
}

export async function startHarness(
  over: Partial<LearnerServerOptions> = {},
  dir = mkdtempSync(join(tmpdir(), 'lamer-srv-')),
): Promise<Harness> {
  const ledger = await Ledger.open(join(dir, 'ledger'));
  const state = { learnerEpoch: 1, policyVersion: 3 };
  const server = await createLearnerServer({
    runId: RUN,
    auth: createAuthenticator(MASTER),
    ledger,
    policyState: () => state,
    heartbeatMs: 1000,
    ...over,
  });
  return {
    server,
    ledger,
    dir,
    state,
    async stop(opts = {}) {
      await server.close();
      await ledger.close();
      if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function token(actorId: string): string {
  return deriveActorToken(MASTER, actorId);
}

export function hello(actorId: string, over: Partial<Hello> = {}): Hello {
  return {
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    runId: RUN,
    actorId,
    incarnation: 'inc-a',
    lastPolicyVersion: -1,
    lastLearnerEpoch: -1,
    ...over,
  };
}

/** A raw client: queued decoded messages, close info, and helpers. */
export class RawClient {
  readonly messages: Message[] = [];
  private waiting: Array<(m: Message) => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return;
      const r = decode(data as Buffer);
      if (!r.ok) throw new Error(`server sent an invalid frame: ${r.reason}`);
      const w = this.waiting.shift();
      if (w) w(r.msg);
      else this.messages.push(r.msg);
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static async open(
    url: string,
    actorId: string,
    opts: { auth?: string; origin?: string; ca?: Buffer } = {},
  ): Promise<RawClient> {
    const ws = new WebSocket(url, {
      headers: { authorization: opts.auth ?? `Bearer ${actorId}.${token(actorId)}` },
      perMessageDeflate: false,
      ...(opts.origin ? { origin: opts.origin } : {}),
      ...(opts.ca ? { ca: opts.ca } : {}),
    });
    const c = new RawClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })),
      );
      ws.once('error', reject);
    });
    return c;
  }

  /** Opens and completes the hello/welcome handshake. */
  static async ready(url: string, actorId: string, over: Partial<Hello> = {}): Promise<RawClient> {
    const c = await RawClient.open(url, actorId);
    c.send(hello(actorId, over));
    const w = await c.next();
    if (w.type !== 'welcome') throw new Error(`expected welcome, got ${w.type}`);
    return c;
  }

  send(msg: Message): void {
    this.ws.send(encode(msg));
  }

  next(timeoutMs = 5000): Promise<Message> {
    const m = this.messages.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
      this.waiting.push((msg) => {
        clearTimeout(t);
        resolve(msg);
      });
    });
  }

  /** Writes raw bytes under the WebSocket framing (for malformed-frame tests). */
  writeRaw(bytes: Buffer): void {
    (this.ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(bytes);
  }
}

/** A masked client frame (FIN set) with the given first byte flags/opcode and payload. */
export function maskedFrame(firstByte: number, payload: Buffer): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  if (payload.length >= 126) throw new Error('maskedFrame: small payloads only');
  return Buffer.concat([Buffer.from([firstByte, 0x80 | payload.length]), mask, masked]);
}

export function until(pred: () => boolean, timeoutMs = 5000, stepMs = 10): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (pred()) return resolve();
      if (Date.now() - start > timeoutMs) return reject(new Error('condition not reached in time'));
      setTimeout(tick, stepMs);
    };
    tick();
  });
}
