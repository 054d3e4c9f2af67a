/**
 * One accepted WebSocket, from upgrade to close: its phase (hello, ready, closing, closed), liveness (any inbound
 * byte counts, a large frame still arriving too), the hello deadline, its inbound door (frame-gate.ts), its
 * outgoing side (outgoing.ts: buffer cap, send deadline), and closing with a documented code (proto/wire.ts),
 * terminated if the peer does not finish the close handshake in time. What a valid message means is the
 * server's business (`onMessage`); what learner code sees of a handshaken connection is its {@link ActorConnection}.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { WebSocket } from 'ws';
import { encode } from '../../proto/codec.js';
import { LIMITS, type Hello, type LearnerMessage, type Message, type TrialKey } from '../../proto/messages.js';
import { CloseCode, ErrorCode } from '../../proto/wire.js';
import type { Logger } from '../../shared/logger.js';
import { FrameGate } from './frame-gate.js';
import type { ServerMetrics } from './metrics.js';
import { Outgoing } from './outgoing.js';

/** A handshaken actor connection, as seen by learner code (also a publisher `PolicyPeer`). */
export interface ActorConnection {
  /** Unique per connection within this server. */
  readonly id: number;
  readonly actorId: string;
  readonly incarnation: string;
  readonly hello: Hello;
  readonly remoteAddress: string;
  /** Bytes queued by `send` and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  readonly isOpen: boolean;
  /** The policy the actor said it holds in its hello. */
  readonly initialPolicy: { learnerEpoch: number; policyVersion: number };
  /** Trials received on this connection and not yet acked. */
  readonly trialsInFlight: number;
  send(msg: LearnerMessage): boolean;
  /** Sends pre-encoded bytes (encode once, fan out). */
  sendBytes(bytes: Uint8Array, cb?: (err?: Error) => void): void;
  close(code: number, reason: string): void;
}

export interface CommitInfo {
  key: TrialKey;
  offset: number;
  /** The exact bytes stored in the ledger (the encoded trial frame). */
  bytes: Uint8Array;
  conn: ActorConnection;
}

/** A peer that does not finish the close handshake is cut off after this long. */
export const CLOSE_GRACE_MS = 2000;

export interface ConnectionOptions {
  id: number;
  /** The actor its token names. */
  actorId: string;
  remoteAddress: string;
  heartbeatMs: number;
  helloTimeoutMs: number;
  decodeBudgetMs: number;
  maxBufferedBytes: number;
  metrics: ServerMetrics;
  logger?: Logger;
  /** A frame passed the gate. Throwing closes the connection 1011. */
  onMessage(c: Connection, msg: Message, bytes: Uint8Array): void;
  /** The socket closed (whatever the reason); called once. */
  onClosed(c: Connection, code: number, reason: string): void;
}

export class Connection {
  readonly id: number;
  readonly actorId: string;
  readonly remoteAddress: string;
  private phase: 'hello' | 'ready' | 'closing' | 'closed' = 'hello';
  hello: Hello | null = null;
  lastSeen: number;
  nextPingAt: number;
  trialsInFlight = 0;
  private helloTimer: NodeJS.Timeout | null;
  private readonly gate: FrameGate;
  private readonly out: Outgoing;
  private actorView: ActorConnection | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly o: ConnectionOptions,
  ) {
    const m = o.metrics;
    const now = performance.now();
    this.id = o.id;
    this.actorId = o.actorId;
    this.remoteAddress = o.remoteAddress;
    this.lastSeen = now;
    // Stagger pings across the interval so thousands of sockets do not ping in one tick.
    this.nextPingAt = now + Math.random() * o.heartbeatMs;
    this.gate = new FrameGate({ decodeBudgetMs: o.decodeBudgetMs, metrics: m });
    this.out = new Outgoing(ws, { maxBufferedBytes: o.maxBufferedBytes, metrics: m });
    ws.on('error', (err) => {
      m.wsErrors++;
      o.logger?.debug(
        { actorId: o.actorId, err: err.message, code: (err as { code?: string }).code },
        'websocket error',
      );
    });
    const touch = () => {
      this.lastSeen = performance.now();
    };
    // Any inbound byte is liveness, including a large frame still arriving (pongs queue behind it).
    (ws as unknown as { _socket?: Socket })._socket?.on('data', touch);
    ws.on('pong', touch);
    ws.on('ping', touch);
    ws.on('message', (data, isBinary) => {
      try {
        this.onFrame(data, isBinary);
      } catch (e) {
        // No input may take the learner down: whatever escaped is a learner bug, answered like one.
        m.internalErr++;
        o.logger?.error({ actorId: o.actorId, err: (e as Error)?.message }, 'learner failed handling a frame');
        this.close(CloseCode.INTERNAL_ERROR, 'internal error');
      }
    });
    ws.on('close', (code, reason) => this.onSocketClosed(code, reason.toString()));
    this.helloTimer = setTimeout(() => {
      if (this.phase !== 'hello') return;
      m.helloTimeouts++;
      this.close(CloseCode.POLICY_VIOLATION, 'no hello in time');
    }, o.helloTimeoutMs);
  }

  get isReady(): boolean {
    return this.phase === 'ready';
  }

  get closing(): boolean {
    return this.phase === 'closing' || this.phase === 'closed';
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  /** The learner's view (only after {@link becomeReady}). */
  get view(): ActorConnection {
    if (!this.actorView) throw new Error(`connection ${this.id} has not completed its handshake`);
    return this.actorView;
  }

  get hasView(): boolean {
    return this.actorView !== null;
  }

  /** Bytes queued and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  get canPing(): boolean {
    return this.ws.readyState === this.ws.OPEN && this.out.hasRoom;
  }

  get pendingSends(): number {
    return this.out.pendingSends;
  }

  oldestSendMs(): number {
    return this.out.oldestSendMs();
  }

  /** A hello arrived: the hello deadline no longer applies, whatever the hello says. */
  helloArrived(): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
  }

  /** The handshake succeeded: from now on learner code may see and use this connection. */
  becomeReady(hello: Hello): ActorConnection {
    this.hello = hello;
    this.phase = 'ready';
    this.actorView = new View(this, hello);
    return this.actorView;
  }

  /** Encodes and sends a message (also before the handshake completes: the welcome); false once closing. */
  sendMessage(msg: LearnerMessage): boolean {
    if (this.closing) return false;
    this.sendRaw(encode(msg));
    return true;
  }

  /** Sends a pre-encoded weights message (bounded by the publisher, not by the control-frame cap). */
  sendBulk(bytes: Uint8Array, cb?: (err?: Error) => void): void {
    this.sendRaw(bytes, cb, true);
  }

  ping(): void {
    this.ws.ping();
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** Calls `fn` once the socket has closed. */
  onceClosed(fn: () => void): void {
    this.ws.once('close', () => fn());
  }

  /** Closes with `code` (idempotent); terminates the socket if the peer has not closed within the grace. */
  close(code: number, reason: string): void {
    if (this.closing) return;
    this.phase = 'closing';
    this.helloArrived();
    try {
      this.ws.close(code, reason.slice(0, 120));
    } catch {
      this.ws.terminate();
    }
    setTimeout(() => {
      if (this.phase !== 'closed') this.ws.terminate();
    }, CLOSE_GRACE_MS).unref();
  }

  /**
   * Closes a connection for a protocol problem, a handshaken one with an `error` message first: the close reason is
   * cut at 123 bytes, the message carries the whole reason.
   */
  refuse(code: number, reason: string): void {
    if (this.phase === 'ready') {
      try {
        this.sendRaw(encode({ type: 'error', code: ErrorCode.PROTOCOL, message: reason.slice(0, LIMITS.textChars) }));
      } catch {
        /* the close below says enough */
      }
    }
    this.close(code, reason);
  }

  private onFrame(data: Parameters<FrameGate['check']>[0], isBinary: boolean): void {
    this.lastSeen = performance.now();
    if (this.phase === 'closing' || this.phase === 'closed') return;
    const v = this.gate.check(data, isBinary, this.phase);
    if (!v.ok) return v.explain ? this.refuse(v.code, v.reason) : this.close(v.code, v.reason);
    try {
      this.o.onMessage(this, v.msg, v.bytes);
    } catch (e) {
      this.o.metrics.internalErr++;
      this.o.logger?.error({ actorId: this.actorId, err: (e as Error)?.message }, 'learner failed handling a message');
      this.close(CloseCode.INTERNAL_ERROR, 'internal error');
    }
  }

  private onSocketClosed(code: number, reason: string): void {
    this.phase = 'closed';
    this.helloArrived();
    this.o.onClosed(this, code, reason);
  }

  /** Queues one frame; a control frame that finds the buffer over its cap closes the connection 4004. */
  private sendRaw(bytes: Uint8Array, cb?: (err?: Error) => void, bulk = false): void {
    if (this.closing) {
      cb?.(new Error('connection is not open'));
      return;
    }
    if (this.out.send(bytes, cb, bulk) !== 'slow-reader') return;
    this.o.logger?.warn({ actorId: this.actorId, buffered: this.ws.bufferedAmount }, 'peer is not reading: closing');
    this.close(CloseCode.SLOW_READER, 'outgoing buffer full: the peer is not reading');
  }
}

/** The learner's view of a handshaken {@link Connection}. */
class View implements ActorConnection {
  readonly id: number;
  readonly actorId: string;
  readonly incarnation: string;
  readonly remoteAddress: string;
  readonly initialPolicy: { learnerEpoch: number; policyVersion: number };

  constructor(
    private readonly c: Connection,
    readonly hello: Hello,
  ) {
    this.id = c.id;
    this.actorId = c.actorId;
    this.incarnation = hello.incarnation;
    this.remoteAddress = c.remoteAddress;
    this.initialPolicy = { learnerEpoch: hello.lastLearnerEpoch, policyVersion: hello.lastPolicyVersion };
  }

  get bufferedAmount(): number {
    return this.c.bufferedAmount;
  }

  get isOpen(): boolean {
    return this.c.isReady;
  }

  get trialsInFlight(): number {
    return this.c.trialsInFlight;
  }

  send(msg: LearnerMessage): boolean {
    return this.c.isReady && this.c.sendMessage(msg);
  }

  sendBytes(bytes: Uint8Array, cb?: (err?: Error) => void): void {
    this.c.sendBulk(bytes, cb);
  }

  close(code: number, reason: string): void {
    this.c.close(code, reason);
  }
}
