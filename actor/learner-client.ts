/**
 * The actor's side of the wire: connects to the learner, says hello, keeps the connection alive, and delivers
 * every trial record at least once. Together with the learner's idempotent ledger this gives exactly-once
 * commits:
 *
 * - `enqueueTrial` numbers the record `(runId, actorId, incarnation, seq)` and puts its encoded bytes in the
 *   outbox (durable if the outbox has a directory) before it is ever sent; it is removed only on an ack.
 * - After every `welcome`, entries the learner reports as committed are dropped and all others are (re)sent
 *   byte-identically, never more than the credit window at a time.
 * - Reconnects use exponential backoff with full jitter; liveness is client-side too (terminate after
 *   3 heartbeat intervals without any inbound byte), and every send has a deadline (`sendTimeoutMs`): a send the
 *   socket has not taken in time (the learner stopped reading) closes the connection with 4005 and reconnects;
 *   the outbox resends whatever was not acked.
 * - The close codes in `FATAL_CLOSE_CODES` (proto/wire.ts: 4001 wrong run, 4002 protocol mismatch, 4003 fenced)
 *   and HTTP 401 are fatal: the client stops and reports through `onFatal`; everything else is retried.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { decode, encode, sha256Hex } from '../proto/codec.js';
import {
  LEARNER_MESSAGE_TYPES,
  trialKeyString,
  type Ack,
  type ActorMessage,
  type Lease,
  type Policy,
  type TrialBody,
  type TrialKey,
  type Welcome,
} from '../proto/messages.js';
import { PROTOCOL_VERSION } from '../proto/version.js';
import { CloseCode, FATAL_CLOSE_CODES } from '../proto/wire.js';
import { SendClock } from '../shared/deadline.js';
import { LamerError, badInput } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Outbox } from './outbox.js';

export interface LearnerClientOptions {
  /** ws:// or wss:// URL of the learner. */
  url: string;
  actorId: string;
  /** This actor's token (`deriveActorToken(masterKey, actorId)`); sent in the Authorization header. */
  token: string;
  runId: string;
  /** Random per process start by default; keys of new trials use it. */
  incarnation?: string;
  outbox: Outbox;
  onLease?: (lease: Lease) => void;
  /** A verified policy newer than the current one (or from a new learner epoch). Errors are logged. */
  onPolicy?: (policy: Policy) => void | Promise<void>;
  onWelcome?: (welcome: Welcome) => void;
  /** Every ack, including those of records recovered from a durable outbox and those implied by a welcome. */
  onAck?: (ack: Ack) => void;
  /** The learner ended the run (a `bye` message); the client keeps its connection until `close()`. */
  onBye?: (reason: string) => void;
  /** The client stopped for good (fatal close code, 401). */
  onFatal?: (err: LamerError) => void;
  /** Pin the CA that signed the learner's certificate (wss). */
  tls?: { ca: string | Buffer };
  /** Reconnect backoff: delay = random(0, min(maxMs, initialMs * 2^attempt)). Defaults 200 / 10,000 ms. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Time for TCP + upgrade + welcome before giving up on an attempt (default 10,000 ms). */
  handshakeTimeoutMs?: number;
  /**
   * A send whose bytes the socket has not taken within this closes the connection with 4005 (logged with how long
   * it waited) and the client reconnects (default 60,000 ms; 0 = no deadline).
   */
  sendTimeoutMs?: number;
  /** Largest frame accepted from the learner (default 256 MiB: weights can be big). */
  maxPayload?: number;
  /** Policy already held (e.g. restored), announced in hello so the learner need not resend it. */
  policy?: { learnerEpoch: number; policyVersion: number };
  capabilities?: Record<string, string | number | boolean>;
  /** Jitter source (default Math.random). */
  random?: () => number;
  logger?: Logger;
}

/** After a close we started, a learner that does not answer it is cut off this much later. */
const CLOSE_GRACE_MS = 2000;

export type ClientState = 'idle' | 'connecting' | 'ready' | 'backoff' | 'closed' | 'fatal';

export interface TrialReceipt {
  key: TrialKey;
  /** Resolves with the learner's ack (committed, duplicate or rejected). Rejects only if the client stops for good. */
  acked: Promise<Ack>;
}

export interface ClientStats {
  state: ClientState;
  connects: number;
  reconnects: number;
  sent: number;
  resent: number;
  acked: number;
  rejected: number;
  droppedByWelcome: number;
  policiesAccepted: number;
  policiesIgnored: number;
  badChecksums: number;
  livenessTimeouts: number;
  /** Connections closed because a send missed its deadline. */
  sendTimeouts: number;
  inFlight: number;
  outbox: number;
}

interface Waiter {
  promise: Promise<Ack>;
  resolve: (a: Ack) => void;
  reject: (e: Error) => void;
}

/** See the module comment. Call {@link LearnerClient.start} to connect. */
export class LearnerClient {
  readonly incarnation: string;
  private state: ClientState = 'idle';
  private ws: WebSocket | null = null;
  /** Times the current connection's sends (a new one per connection). */
  private sends = new SendClock();
  private welcome: Welcome | null = null;
  private window = 0;
  private inflight = new Set<string>();
  private queue: string[] = [];
  private everSent = new Set<string>();
  private waiters = new Map<string, Waiter>();
  private readyWaiters: Array<{ resolve: (w: Welcome) => void; reject: (e: Error) => void }> = [];
  private nextSeq: number;
  private attempt = 0;
  private lastSeen = 0;
  private liveness: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private policy: { learnerEpoch: number; policyVersion: number };
  private readonly counters = {
    connects: 0,
    reconnects: 0,
    sent: 0,
    resent: 0,
    acked: 0,
    rejected: 0,
    droppedByWelcome: 0,
    policiesAccepted: 0,
    policiesIgnored: 0,
    badChecksums: 0,
    livenessTimeouts: 0,
    sendTimeouts: 0,
  };
  private readonly random: () => number;

  constructor(private readonly opts: LearnerClientOptions) {
    if (!/^wss?:\/\//.test(opts.url)) throw badInput(`learner URL must start with ws:// or wss://, got '${opts.url}'`);
    this.incarnation = opts.incarnation ?? randomBytes(9).toString('base64url');
    this.nextSeq = opts.outbox.maxSeq(this.incarnation) + 1;
    this.policy = opts.policy ?? { learnerEpoch: -1, policyVersion: -1 };
    this.random = opts.random ?? Math.random;
  }

  /** Current connection state. */
  get connectionState(): ClientState {
    return this.state;
  }

  /** The policy (epoch, version) this client last accepted. */
  get currentPolicy(): { learnerEpoch: number; policyVersion: number } {
    return { ...this.policy };
  }

  /** Starts connecting (and reconnecting) in the background. */
  start(): void {
    if (this.state !== 'idle') return;
    this.connect();
  }

  /** Resolves at the next welcome (immediately if connected); rejects if the client stops for good. */
  ready(): Promise<Welcome> {
    if (this.state === 'ready' && this.welcome) return Promise.resolve(this.welcome);
    if (this.state === 'fatal' || this.state === 'closed')
      return Promise.reject(new LamerError('RL_ERR_PROTOCOL', `learner client is ${this.state}`));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /**
   * Numbers the trial, encodes it, and stores it in the outbox (waiting while the outbox is full: backpressure).
   * Resolves once the record is held (durably, in durable mode); the receipt's `acked` resolves on its ack.
   */
  async enqueueTrial(body: TrialBody): Promise<TrialReceipt> {
    if (this.state === 'fatal' || this.state === 'closed')
      throw new LamerError('RL_ERR_PROTOCOL', `learner client is ${this.state}`);
    const key: TrialKey = {
      runId: this.opts.runId,
      actorId: this.opts.actorId,
      incarnation: this.incarnation,
      seq: this.nextSeq++,
    };
    const bytes = encode({ type: 'trial', key, ...body });
    const id = trialKeyString(key);
    const acked = this.waiterFor(id).promise;
    try {
      await this.opts.outbox.push(key, bytes);
    } catch (e) {
      this.waiters.delete(id); // never held, so never acked
      throw e;
    }
    this.queue.push(id);
    this.pump();
    return { key, acked };
  }

  /** {@link enqueueTrial} and wait for the ack. */
  async sendTrial(body: TrialBody): Promise<Ack> {
    return (await this.enqueueTrial(body)).acked;
  }

  /** Asks the learner for `want` more leases; false if not connected. */
  requestLeases(want: number): boolean {
    return this.sendMessage({ type: 'leaseRequest', want });
  }

  /** Sends bye, closes the connection and stops reconnecting. Outbox contents stay (durable mode: on disk). */
  async close(reason = 'actor shutting down'): Promise<void> {
    if (this.state === 'closed') return;
    const ws = this.ws;
    this.stop('closed', new LamerError('RL_ERR_PROTOCOL', 'learner client closed'));
    if (ws && ws.readyState === WebSocket.OPEN) {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      try {
        ws.send(encode({ type: 'bye', reason }));
      } catch {
        /* closing anyway */
      }
      ws.close(CloseCode.NORMAL, 'bye');
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
      ws.terminate();
    } else {
      ws?.terminate();
    }
  }

  stats(): ClientStats {
    return { state: this.state, ...this.counters, inFlight: this.inflight.size, outbox: this.opts.outbox.size };
  }

  // -------------------------------------------------------------------------------------------------------------

  private waiterFor(id: string): Waiter {
    let w = this.waiters.get(id);
    if (!w) {
      let resolve!: (a: Ack) => void, reject!: (e: Error) => void;
      const promise = new Promise<Ack>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => undefined); // callers that never await the receipt must not crash the process
      w = { promise, resolve, reject };
      this.waiters.set(id, w);
    }
    return w;
  }

  private sendMessage(msg: ActorMessage): boolean {
    if (this.state !== 'ready' || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(encode(msg), this.sends.track());
    return true;
  }

  private connect(): void {
    this.state = 'connecting';
    this.counters.connects++;
    const headers = { authorization: `Bearer ${this.opts.actorId}.${this.opts.token}` };
    const ws = new WebSocket(this.opts.url, {
      headers,
      perMessageDeflate: false,
      maxPayload: this.opts.maxPayload ?? 256 << 20,
      handshakeTimeout: this.opts.handshakeTimeoutMs ?? 10_000,
      ...(this.opts.tls ? { ca: this.opts.tls.ca } : {}),
    });
    this.ws = ws;
    const sends = new SendClock();
    this.sends = sends;
    this.lastSeen = performance.now();
    const touch = () => {
      this.lastSeen = performance.now();
    };
    ws.on('error', (err) => this.opts.logger?.debug({ err: err.message }, 'learner connection error'));
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      if (status === 401 || status === 403) {
        this.fatal(
          new LamerError('RL_ERR_PROTOCOL', `learner refused the upgrade with HTTP ${status}: check the actor token`),
        );
      }
      ws.terminate();
    });
    ws.on('open', () => {
      (ws as unknown as { _socket?: Socket })._socket?.on('data', touch);
      ws.send(
        encode({
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          runId: this.opts.runId,
          actorId: this.opts.actorId,
          incarnation: this.incarnation,
          lastPolicyVersion: this.policy.policyVersion,
          lastLearnerEpoch: this.policy.learnerEpoch,
          ...(this.opts.capabilities ? { capabilities: this.opts.capabilities } : {}),
        }),
        sends.track(),
      );
    });
    ws.on('ping', touch);
    ws.on('pong', touch);
    ws.on('message', (data, isBinary) => {
      touch();
      if (ws !== this.ws) return;
      this.onFrame(data as Buffer, isBinary);
    });
    ws.on('close', (code, reason) => {
      if (ws !== this.ws) return;
      this.onClose(code, reason.toString());
    });
    this.armLiveness(this.opts.handshakeTimeoutMs ?? 10_000);
  }

  /**
   * Terminates the socket when nothing arrived for `limitMs` (before welcome: the handshake budget), and closes it
   * with 4005 when a send has been pending longer than `sendTimeoutMs`.
   */
  private armLiveness(limitMs: number): void {
    if (this.liveness) clearInterval(this.liveness);
    const sendLimitMs = this.opts.sendTimeoutMs ?? 60_000;
    this.liveness = setInterval(
      () => {
        const ws = this.ws;
        if (!ws) return;
        if (performance.now() - this.lastSeen > limitMs) {
          this.counters.livenessTimeouts++;
          this.opts.logger?.warn({ limitMs }, 'learner silent: terminating the connection');
          ws.terminate();
          return;
        }
        const late = sendLimitMs > 0 && ws.readyState === WebSocket.OPEN ? this.sends.oldestMs() : 0;
        if (late > sendLimitMs) this.sendTimedOut(ws, late, sendLimitMs);
      },
      Math.max(10, Math.floor(Math.min(limitMs, sendLimitMs > 0 ? sendLimitMs : limitMs) / 6)),
    );
    this.liveness.unref();
  }

  /**
   * A send missed its deadline: the learner stopped taking our bytes. Close with 4005 (the close frame may never get
   * through: terminated after a grace) and reconnect as after any close; unacked records stay in the outbox.
   */
  private sendTimedOut(ws: WebSocket, waitedMs: number, limitMs: number): void {
    this.counters.sendTimeouts++;
    this.opts.logger?.warn(
      { url: this.opts.url, waitedMs: Math.round(waitedMs), limitMs, pendingSends: this.sends.pending },
      'a send to the learner did not complete in time (it stopped reading?): reconnecting',
    );
    ws.close(CloseCode.SEND_TIMEOUT, `a send did not complete within ${limitMs} ms`);
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (!isBinary) return this.protocolFailure('learner sent a text frame');
    const r = decode(data);
    if (!r.ok) return this.protocolFailure(`learner sent an invalid frame (${r.kind}: ${r.reason})`);
    const msg = r.msg;
    if (!LEARNER_MESSAGE_TYPES.has(msg.type)) return this.protocolFailure(`learner sent '${msg.type}'`);
    if (msg.type !== 'welcome' && !this.welcome)
      return this.protocolFailure(`learner sent '${msg.type}' before welcome`);
    switch (msg.type) {
      case 'welcome':
        return this.onWelcome(msg);
      case 'ack':
        return this.onAck(msg);
      case 'lease':
        return this.opts.onLease?.(msg);
      case 'policy':
        return this.onPolicy(msg);
      case 'credit':
        this.window = Math.min(msg.n, this.welcome!.creditWindow);
        return this.pump();
      case 'heartbeat':
        return;
      case 'error':
        this.opts.logger?.warn({ code: msg.code, message: msg.message }, 'learner reported an error');
        return;
      case 'bye':
        this.opts.logger?.info({ reason: msg.reason }, 'learner said bye');
        this.opts.onBye?.(msg.reason);
        return;
    }
  }

  private protocolFailure(reason: string): void {
    this.opts.logger?.error({ reason }, 'protocol failure: reconnecting');
    this.ws?.close(CloseCode.POLICY_VIOLATION, reason.slice(0, 120));
  }

  private onWelcome(w: Welcome): void {
    if (this.welcome) return this.protocolFailure('second welcome');
    this.welcome = w;
    this.window = w.creditWindow;
    this.state = 'ready';
    if (this.counters.connects > 1) this.counters.reconnects++;
    this.attempt = 0;
    this.armLiveness(3 * w.heartbeatMs);
    // Drop what the ledger already holds; resend everything else, byte-identical, in outbox order.
    const marks = new Map(w.committed.map((c) => [c.incarnation, c]));
    for (const e of this.opts.outbox.entries()) {
      if (e.key.runId !== this.opts.runId || e.key.actorId !== this.opts.actorId) continue;
      const mark = marks.get(e.key.incarnation);
      if (mark && (e.key.seq <= mark.upTo || mark.seqs.includes(e.key.seq))) {
        this.counters.droppedByWelcome++;
        this.settle({ type: 'ack', key: e.key, status: 'duplicate' });
      }
    }
    this.inflight.clear();
    this.queue = this.opts.outbox.entries().map((e) => e.id);
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const rw of waiters) rw.resolve(w);
    this.opts.onWelcome?.(w);
    this.pump();
  }

  private pump(): void {
    const ws = this.ws;
    if (this.state !== 'ready' || !ws || ws.readyState !== WebSocket.OPEN) return;
    while (this.inflight.size < this.window && this.queue.length > 0) {
      const id = this.queue.shift()!;
      const e = this.opts.outbox.get(id);
      if (!e || this.inflight.has(id)) continue;
      this.inflight.add(id);
      if (this.everSent.has(id)) this.counters.resent++;
      else this.everSent.add(id);
      this.counters.sent++;
      ws.send(e.bytes, this.sends.track());
    }
  }

  private onAck(a: Ack): void {
    const id = trialKeyString(a.key);
    this.inflight.delete(id);
    this.settle(a);
    this.pump();
  }

  /** Final outcome of one record: drop it from the outbox and resolve its receipt. */
  private settle(a: Ack): void {
    const id = trialKeyString(a.key);
    this.counters.acked++;
    if (a.status === 'rejected') {
      this.counters.rejected++;
      this.opts.logger?.warn({ key: id, reason: a.reason }, 'learner rejected a trial record');
    }
    void this.opts.outbox.remove(id);
    this.everSent.delete(id);
    const w = this.waiterFor(id);
    this.waiters.delete(id);
    w.resolve(a);
    this.opts.onAck?.(a);
  }

  private onPolicy(p: Policy): void {
    if (sha256Hex(p.weights.data) !== p.sha256) {
      this.counters.badChecksums++;
      this.opts.logger?.error({ policyVersion: p.policyVersion }, 'policy weights checksum mismatch: ignored');
      return;
    }
    const newEpoch = p.learnerEpoch !== this.policy.learnerEpoch;
    if (!newEpoch && p.policyVersion <= this.policy.policyVersion) {
      this.counters.policiesIgnored++;
      return;
    }
    this.policy = { learnerEpoch: p.learnerEpoch, policyVersion: p.policyVersion };
    this.counters.policiesAccepted++;
    try {
      const r = this.opts.onPolicy?.(p);
      if (r instanceof Promise) r.catch((e: Error) => this.opts.logger?.error({ err: e.message }, 'onPolicy failed'));
    } catch (e) {
      this.opts.logger?.error({ err: (e as Error).message }, 'onPolicy failed');
    }
  }

  private onClose(code: number, reason: string): void {
    this.ws = null;
    this.welcome = null;
    this.inflight.clear();
    if (this.liveness) clearInterval(this.liveness);
    this.liveness = null;
    if (this.state === 'closed' || this.state === 'fatal') return;
    const fatal = FATAL_CLOSE_CODES.get(code);
    if (fatal) {
      return this.fatal(
        new LamerError(
          'RL_ERR_PROTOCOL',
          `learner closed the connection with ${code}: ${fatal}${reason ? ` (${reason})` : ''}`,
        ),
      );
    }
    this.opts.logger?.info({ code, reason }, 'learner connection closed: reconnecting');
    const initial = this.opts.backoff?.initialMs ?? 200;
    const max = this.opts.backoff?.maxMs ?? 10_000;
    const delay = this.random() * Math.min(max, initial * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    this.state = 'backoff';
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.state === 'backoff') this.connect();
    }, delay);
  }

  private fatal(err: LamerError): void {
    if (this.state === 'fatal' || this.state === 'closed') return;
    this.opts.logger?.error({ err: err.message }, 'learner client stopped');
    this.stop('fatal', err);
    this.ws?.terminate();
    this.opts.onFatal?.(err);
  }

  private stop(state: 'closed' | 'fatal', err: Error): void {
    this.state = state;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.liveness) clearInterval(this.liveness);
    this.retryTimer = this.liveness = null;
    for (const rw of this.readyWaiters) rw.reject(err);
    this.readyWaiters = [];
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
  }
}
