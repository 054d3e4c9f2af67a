/**
 * The learner's WebSocket endpoint: authentication, handshake, liveness, and exactly-once trial ingest with
 * ack-after-commit. Everything above transport (leases, group assembly, training, weights) plugs in through
 * the callbacks in {@link LearnerServerOptions}.
 *
 * Hardening (docs/reliability.md §5–§6): `ws` + bufferutil, `noServer` with the token checked in the HTTP `upgrade`
 * handler before `handleUpgrade` (401 and no WebSocket on failure); every TCP connection counts against
 * `maxConnections` from its first byte and is destroyed if it has not upgraded within `upgradeTimeoutMs`; no
 * permessage-deflate, explicit `maxPayload`, an `error` listener on every socket, binary frames only; each frame's
 * type and shape are known before it is decoded (types an actor may not send, or not yet, are refused unread),
 * strict schema validation, and trial content checked against the run's model shape before it is ledgered;
 * outgoing buffers capped per connection; heartbeats that count any inbound byte as liveness and terminate after
 * 3 silent intervals. Every rejection closes with a documented code ({@link CloseCode}, proto/wire.ts) and bumps a
 * counter; no exception from peer input escapes a handler.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { decode, encode, verifyTrialDigest } from '../proto/codec.js';
import {
  ACTOR_MESSAGE_TYPES,
  LIMITS,
  validateTrial,
  type Ack,
  type ActorMessage,
  type Hello,
  type LearnerMessage,
  type MessageType,
  type Trial,
  type TrialKey,
} from '../proto/messages.js';
import { PROTOCOL_VERSION } from '../proto/version.js';
import { CloseCode, ErrorCode } from '../proto/wire.js';
import { badInput } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Authenticator } from './auth.js';
import type { Ledger } from './ledger.js';

/** Counters, monotonically increasing except `connectionsLive`. */
export interface ServerMetrics {
  connectionsOpened: number;
  connectionsClosed: number;
  connectionsLive: number;
  authFailures: number;
  originRejected: number;
  overLimit: number;
  /** TCP connections destroyed for not completing the WebSocket upgrade within `upgradeTimeoutMs`. */
  upgradeTimeouts: number;
  /** Connections closed with 4004 because their outgoing buffer passed `maxBufferedBytes` (the peer stopped reading). */
  slowReaders: number;
  helloTimeouts: number;
  wrongRun: number;
  protocolMismatch: number;
  superseded: number;
  fencedHellos: number;
  textFrames: number;
  decodeErr: number;
  schemaErr: number;
  decodeBudgetExceeded: number;
  protocolErr: number;
  wsErrors: number;
  creditViolations: number;
  heartbeatTimeouts: number;
  pingsSent: number;
  internalErr: number;
  trialsReceived: number;
  trialsCommitted: number;
  dupSuppressed: number;
  conflicts: number;
  rejected: number;
  bytesIn: number;
  bytesOut: number;
}

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

export interface LearnerServerOptions {
  /** Listen host (default 127.0.0.1). */
  host?: string;
  /** Listen port; 0 picks a free one (default 0). */
  port?: number;
  runId: string;
  auth: Authenticator;
  /** Serve wss:// with this key pair (TLS 1.3 only). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Largest accepted frame in bytes (default 8 MiB). ws closes bigger ones with 1009. */
  maxPayload?: number;
  /** Ping interval; a connection silent for 3 intervals is terminated (default 2000). */
  heartbeatMs?: number;
  /** Time allowed between upgrade and hello (default 5000). */
  helloTimeoutMs?: number;
  /**
   * TCP connections (upgraded or not: counted from accept) beyond which new ones get 503 and are closed
   * (default 4096).
   */
  maxConnections?: number;
  /** A TCP connection that has not completed its WebSocket upgrade within this is destroyed (default 10,000). */
  upgradeTimeoutMs?: number;
  /**
   * Bytes the learner may have queued for one peer, not counting up to two weights messages (the publisher bounds
   * those itself): beyond it the peer is not reading and is closed with 4004 (default 4 MiB).
   */
  maxBufferedBytes?: number;
  /**
   * The trainer's model shape: trial rows are checked against it at the door (token ids below `vocabSize`,
   * trained rows within `contextLength`), so a record the trainer cannot use is rejected, never ledgered.
   */
  modelShape?: () => { vocabSize: number; contextLength: number };
  /** Unacked trials allowed per connection (default 32). */
  creditWindow?: number;
  /**
   * Decode+validation CPU time one connection may use, in ms per second (token bucket, burst = one second's
   * worth; default 250). Beyond it the connection is closed with 1008 before decoding more: msgpack
   * amplification (1 MiB of empty arrays ~ 200 ms) from one actor cannot starve the others.
   */
  decodeBudgetMs?: number;
  /** Where trials are committed; acks are sent only after the ledger made the record durable. */
  ledger: Ledger;
  /** The learner's current epoch and policy version (for welcome and the future-version check). */
  policyState: () => { learnerEpoch: number; policyVersion: number };
  /** Extra admission check for a valid, new trial: return a reason to ack it `rejected`, or null. */
  checkTrial?: (trial: Trial, conn: ActorConnection) => string | null;
  /**
   * A trial of this run from its authenticated actor was acked `rejected` (invalid content, a failed check, a
   * ledger refusal): the actor drops it, so whatever it was leased for must be handed out again.
   */
  onTrialRejected?: (trial: Trial, reason: string, conn: ActorConnection) => void;
  /** A trial became durable (called before its ack is sent). Not called for duplicates. */
  onTrialCommitted?: (trial: Trial, info: CommitInfo) => void;
  /** Handshake done, welcome sent. */
  onReady?: (conn: ActorConnection) => void;
  /** leaseRequest, error and bye messages from a ready connection. */
  onMessage?: (msg: Exclude<ActorMessage, { type: 'hello' | 'trial' | 'heartbeat' }>, conn: ActorConnection) => void;
  /** A handshaken connection closed. */
  onClose?: (conn: ActorConnection, code: number, reason: string) => void;
  logger?: Logger;
}

export interface LearnerServer {
  /** Actual listening port. */
  readonly port: number;
  /** ws:// or wss:// URL of this server. */
  readonly url: string;
  /** Handshaken connections. */
  connections(): ActorConnection[];
  /** The ready connection of one actor, if any. */
  connection(actorId: string): ActorConnection | undefined;
  /** Encodes and sends to one actor; false if it is not connected. */
  send(actorId: string, msg: LearnerMessage): boolean;
  /** Encodes once and sends to every ready connection; returns how many got it. */
  broadcast(msg: LearnerMessage): number;
  /** Sends `credit {n}` (clamped to the welcome's window) to one actor. */
  setCredit(actorId: string, n: number): boolean;
  metrics(): ServerMetrics;
  /** Closes every connection with 1001 and stops listening. The ledger stays open (the caller owns it). */
  close(): Promise<void>;
}

interface ConnState {
  ws: WebSocket;
  id: number;
  actorId: string;
  remoteAddress: string;
  phase: 'hello' | 'ready' | 'closing' | 'closed';
  hello: Hello | null;
  lastSeen: number;
  nextPingAt: number;
  helloTimer: NodeJS.Timeout | null;
  trialsInFlight: number;
  view: ActorConnection | null;
  /** Remaining decode budget (ms) and when it was last refilled. */
  decodeCredit: number;
  decodeRefillAt: number;
  /** Largest weights message sent through `sendBytes` (allowed on top of `maxBufferedBytes`, twice). */
  bulkBytes: number;
}

const DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  maxPayload: 8 << 20,
  heartbeatMs: 2000,
  helloTimeoutMs: 5000,
  maxConnections: 4096,
  creditWindow: 32,
  decodeBudgetMs: 250,
  upgradeTimeoutMs: 10_000,
  maxBufferedBytes: 4 << 20,
};
const MISSED_INTERVALS = 3;
/** Fenced incarnations remembered per actor (a zombie that keeps reconnecting stays out). */
const FENCE_MEMORY = 16;
/** A peer that does not finish the close handshake is cut off after this long. */
const CLOSE_GRACE_MS = 2000;

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** A TCP connection's identity while it lives (the raw socket and, with TLS, the TLS socket over it share it). */
function peerKey(s: { remoteAddress?: string; remotePort?: number }): string {
  return `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`;
}

/** Starts the learner endpoint. Resolves once it listens. */
export async function createLearnerServer(options: LearnerServerOptions): Promise<LearnerServer> {
  const o = { ...DEFAULTS, ...stripUndefined(options) };
  for (const k of [
    'maxPayload',
    'heartbeatMs',
    'helloTimeoutMs',
    'maxConnections',
    'creditWindow',
    'decodeBudgetMs',
    'upgradeTimeoutMs',
    'maxBufferedBytes',
  ] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1)
      throw badInput(`learner server option ${k} must be a positive integer, got ${o[k]}`);
  }
  const log = o.logger;
  const m: ServerMetrics = {
    connectionsOpened: 0,
    connectionsClosed: 0,
    connectionsLive: 0,
    authFailures: 0,
    originRejected: 0,
    overLimit: 0,
    upgradeTimeouts: 0,
    slowReaders: 0,
    helloTimeouts: 0,
    wrongRun: 0,
    protocolMismatch: 0,
    superseded: 0,
    fencedHellos: 0,
    textFrames: 0,
    decodeErr: 0,
    decodeBudgetExceeded: 0,
    schemaErr: 0,
    protocolErr: 0,
    wsErrors: 0,
    creditViolations: 0,
    heartbeatTimeouts: 0,
    pingsSent: 0,
    internalErr: 0,
    trialsReceived: 0,
    trialsCommitted: 0,
    dupSuppressed: 0,
    conflicts: 0,
    rejected: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
  const all = new Set<ConnState>();
  const byActor = new Map<string, ConnState>();
  const fenced = new Map<string, string[]>();
  /** TCP connections accepted and not yet upgraded (or refused), with their upgrade deadline. */
  const unupgraded = new Map<string, { socket: Socket; timer: NodeJS.Timeout }>();
  /** Sockets answered 503 at accept: whatever request they still send is ignored. */
  const refused = new WeakSet<object>();
  let closing = false;
  let nextId = 1;

  const http: HttpServer = o.tls
    ? createHttpsServer({ key: o.tls.key, cert: o.tls.cert, minVersion: 'TLSv1.3' })
    : createHttpServer();
  // Slowloris: half-sent headers are dropped.
  http.headersTimeout = 10_000;
  http.requestTimeout = 15_000;
  http.on('request', (req, res) => {
    if (refused.has(req.socket)) return void req.socket.destroy();
    res
      .writeHead(426, { 'content-type': 'text/plain', connection: 'close' })
      .end('lamer learner: WebSocket upgrade required\n');
  });
  http.on('clientError', (_err, socket) => socket.destroy());
  // Every TCP connection counts against maxConnections from accept on, and must upgrade in time: raw sockets that
  // never send a request (or a TLS handshake) would otherwise hold memory outside every limit.
  http.on('connection', (socket: Socket) => {
    socket.on('error', () => socket.destroy());
    if (closing || all.size + unupgraded.size >= o.maxConnections) {
      m.overLimit++;
      refused.add(socket);
      // A plain-HTTP peer reads the 503; a TLS peer cannot (no handshake yet) and just sees the close.
      if (o.tls) socket.destroy();
      else socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const key = peerKey(socket);
    const timer = setTimeout(() => {
      m.upgradeTimeouts++;
      unupgraded.delete(key);
      socket.destroy();
    }, o.upgradeTimeoutMs);
    timer.unref();
    unupgraded.set(key, { socket, timer });
    socket.once('close', () => {
      clearTimeout(timer);
      if (unupgraded.get(key)?.socket === socket) unupgraded.delete(key);
    });
  });
  const upgraded = (socket: Duplex) => {
    const key = peerKey(socket as Socket);
    const u = unupgraded.get(key);
    if (u) {
      clearTimeout(u.timer);
      unupgraded.delete(key);
    }
  };

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: o.maxPayload,
    ...({ closeTimeout: CLOSE_GRACE_MS } as object),
  });

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (refused.has(socket)) return void socket.destroy();
    if (closing) return rejectUpgrade(socket, 503, 'Service Unavailable');
    const actorId = o.auth.verify(req.headers.authorization);
    if (!actorId) {
      m.authFailures++;
      return rejectUpgrade(socket, 401, 'Unauthorized');
    }
    // Browsers always send Origin; Node actors never do. Refuse cross-site WebSocket hijacking outright.
    if (req.headers.origin !== undefined) {
      m.originRejected++;
      return rejectUpgrade(socket, 403, 'Forbidden');
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      upgraded(socket);
      accept(ws, actorId, (socket as Socket).remoteAddress ?? '');
    });
  });

  function accept(ws: WebSocket, actorId: string, remoteAddress: string): void {
    const now = performance.now();
    const c: ConnState = {
      ws,
      id: nextId++,
      actorId,
      remoteAddress,
      phase: 'hello',
      hello: null,
      lastSeen: now,
      // Stagger pings across the interval so thousands of sockets do not ping in one tick.
      nextPingAt: now + Math.random() * o.heartbeatMs,
      helloTimer: null,
      trialsInFlight: 0,
      view: null,
      decodeCredit: o.decodeBudgetMs,
      decodeRefillAt: now,
      bulkBytes: 0,
    };
    all.add(c);
    m.connectionsOpened++;
    m.connectionsLive = all.size;
    ws.on('error', (err) => {
      m.wsErrors++;
      log?.debug({ actorId, err: err.message, code: (err as { code?: string }).code }, 'websocket error');
    });
    // Any inbound byte is liveness, including a large frame still arriving (pongs queue behind it).
    const raw = (ws as unknown as { _socket?: Socket })._socket;
    raw?.on('data', () => {
      c.lastSeen = performance.now();
    });
    ws.on('pong', () => {
      c.lastSeen = performance.now();
    });
    ws.on('ping', () => {
      c.lastSeen = performance.now();
    });
    ws.on('message', (data, isBinary) => {
      try {
        onFrame(c, data, isBinary);
      } catch (e) {
        // No input may take the learner down: whatever escaped is a learner bug, answered like one.
        m.internalErr++;
        log?.error({ actorId, err: (e as Error)?.message }, 'learner failed handling a frame');
        closeConn(c, CloseCode.INTERNAL_ERROR, 'internal error');
      }
    });
    ws.on('close', (code, reason) => onClosed(c, code, reason.toString()));
    c.helloTimer = setTimeout(() => {
      if (c.phase !== 'hello') return;
      m.helloTimeouts++;
      closeConn(c, CloseCode.POLICY_VIOLATION, 'no hello in time');
    }, o.helloTimeoutMs);
  }

  function closeConn(c: ConnState, code: number, reason: string): void {
    if (c.phase === 'closing' || c.phase === 'closed') return;
    c.phase = 'closing';
    if (c.helloTimer) clearTimeout(c.helloTimer);
    try {
      c.ws.close(code, reason.slice(0, 120));
    } catch {
      c.ws.terminate();
    }
    setTimeout(() => {
      if (c.phase !== 'closed') c.ws.terminate();
    }, CLOSE_GRACE_MS).unref();
  }

  function onClosed(c: ConnState, code: number, reason: string): void {
    const wasReady = c.view !== null && c.hello !== null;
    c.phase = 'closed';
    if (c.helloTimer) clearTimeout(c.helloTimer);
    all.delete(c);
    if (byActor.get(c.actorId) === c) byActor.delete(c.actorId);
    m.connectionsClosed++;
    m.connectionsLive = all.size;
    if (wasReady) {
      try {
        o.onClose?.(c.view!, code, reason);
      } catch (e) {
        m.internalErr++;
        log?.error({ err: (e as Error).message }, 'onClose handler failed');
      }
    }
  }

  /**
   * Queues one frame. Control frames (acks, heartbeat echoes, leases, credit) are queued only while less than
   * `maxBufferedBytes` beyond two weights messages waits: a peer that stops reading but keeps writing would
   * otherwise grow our memory with every echo. `bulk` frames (weights) are bounded by the publisher, which checks `bufferedAmount` itself.
   */
  function sendRaw(c: ConnState, bytes: Uint8Array, cb?: (err?: Error) => void, bulk = false): void {
    if (c.ws.readyState !== c.ws.OPEN || c.phase === 'closing' || c.phase === 'closed') {
      cb?.(new Error('connection is not open'));
      return;
    }
    if (bulk) c.bulkBytes = Math.max(c.bulkBytes, bytes.byteLength);
    else if (c.ws.bufferedAmount > o.maxBufferedBytes + 2 * c.bulkBytes) {
      // What is already queued decides: one frame always fits (a welcome listing many committed seqs is large).
      m.slowReaders++;
      log?.warn({ actorId: c.actorId, buffered: c.ws.bufferedAmount }, 'peer is not reading: closing');
      cb?.(new Error('peer is not reading'));
      closeConn(c, CloseCode.SLOW_READER, 'outgoing buffer full: the peer is not reading');
      return;
    }
    m.bytesOut += bytes.byteLength;
    c.ws.send(bytes, { binary: true }, cb);
  }

  /**
   * Closes a handshaken connection for a protocol problem, with an `error` message first: the close reason is cut
   * at 123 bytes, the message carries the whole reason.
   */
  function refuse(c: ConnState, code: number, reason: string): void {
    if (c.phase === 'ready') {
      try {
        sendRaw(c, encode({ type: 'error', code: ErrorCode.PROTOCOL, message: reason.slice(0, LIMITS.textChars) }));
      } catch {
        /* the close below says enough */
      }
    }
    closeConn(c, code, reason);
  }

  /**
   * Refuses, by type and size alone, frames an actor may not send now: learner-only types, anything but hello before
   * the handshake, and large frames of any type but trial (none of them needs more than a few KiB).
   */
  function admit(c: ConnState, type: string | undefined, size: number): string | null {
    if (type === undefined) return null; // the schema names the problem
    if (!ACTOR_MESSAGE_TYPES.has(type as MessageType)) return `actors may not send '${type.slice(0, 64)}'`;
    if (c.phase === 'hello' && type !== 'hello') return `expected hello, got '${type}'`;
    if (c.phase !== 'hello' && type === 'hello') return 'duplicate hello';
    if (type !== 'trial' && size > LIMITS.smallFrameBytes)
      return `a '${type}' frame of ${size} bytes (at most ${LIMITS.smallFrameBytes})`;
    return null;
  }

  function onFrame(c: ConnState, data: RawData, isBinary: boolean): void {
    c.lastSeen = performance.now();
    if (c.phase === 'closing' || c.phase === 'closed') return;
    if (!isBinary) {
      m.textFrames++;
      return closeConn(c, CloseCode.UNSUPPORTED_DATA, 'binary frames only');
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    m.bytesIn += bytes.byteLength;
    // Every frame is charged, the hello included: per-frame work is bounded by the scan limits and `admit`.
    const t0 = performance.now();
    c.decodeCredit = Math.min(o.decodeBudgetMs, c.decodeCredit + ((t0 - c.decodeRefillAt) / 1000) * o.decodeBudgetMs);
    c.decodeRefillAt = t0;
    if (c.decodeCredit <= 0) {
      m.decodeBudgetExceeded++;
      return refuse(c, CloseCode.POLICY_VIOLATION, 'decode budget exceeded');
    }
    const r = decode(bytes, { admit: (type, size) => admit(c, type, size), maxValues: LIMITS.frameValues });
    c.decodeCredit -= performance.now() - t0;
    if (!r.ok) {
      if (r.kind === 'undecodable') {
        m.decodeErr++;
        return refuse(c, CloseCode.INVALID_PAYLOAD, `undecodable frame: ${r.reason}`);
      }
      if (r.kind === 'refused') {
        m.protocolErr++;
        return refuse(c, CloseCode.POLICY_VIOLATION, r.reason);
      }
      m.schemaErr++;
      return refuse(c, CloseCode.POLICY_VIOLATION, `schema: ${r.reason}`);
    }
    const msg = r.msg;
    try {
      switch (msg.type) {
        case 'hello':
          return onHello(c, msg);
        case 'trial':
          return onTrial(c, msg, bytes);
        case 'heartbeat':
          return sendRaw(c, encode(msg));
        case 'leaseRequest':
        case 'error':
        case 'bye':
          o.onMessage?.(msg, c.view!);
          if (msg.type === 'bye') closeConn(c, CloseCode.NORMAL, 'bye');
          return;
        default:
          // `admit` let through only actor types; a schema-valid learner type here would be a bug in it.
          m.protocolErr++;
          return refuse(c, CloseCode.POLICY_VIOLATION, `actors may not send '${msg.type}'`);
      }
    } catch (e) {
      m.internalErr++;
      log?.error({ actorId: c.actorId, err: (e as Error)?.message }, 'learner failed handling a message');
      closeConn(c, CloseCode.INTERNAL_ERROR, 'internal error');
    }
  }

  function onHello(c: ConnState, hello: Hello): void {
    if (c.helloTimer) clearTimeout(c.helloTimer);
    if (hello.protocol !== PROTOCOL_VERSION) {
      m.protocolMismatch++;
      return closeConn(c, CloseCode.PROTOCOL_MISMATCH, `protocol ${hello.protocol} != ${PROTOCOL_VERSION}`);
    }
    if (hello.runId !== o.runId) {
      m.wrongRun++;
      return closeConn(c, CloseCode.WRONG_RUN, `this learner serves run '${o.runId}'`);
    }
    if (hello.actorId !== c.actorId) {
      m.protocolErr++;
      return closeConn(c, CloseCode.POLICY_VIOLATION, 'hello.actorId does not match the token');
    }
    if (fenced.get(c.actorId)?.includes(hello.incarnation)) {
      m.fencedHellos++;
      return closeConn(c, CloseCode.SUPERSEDED, 'incarnation fenced by a newer one');
    }
    const old = byActor.get(c.actorId);
    if (old) {
      m.superseded++;
      if (old.hello && old.hello.incarnation !== hello.incarnation) {
        const list = fenced.get(c.actorId) ?? [];
        list.push(old.hello.incarnation);
        if (list.length > FENCE_MEMORY) list.shift();
        fenced.set(c.actorId, list);
      }
      byActor.delete(c.actorId);
      closeConn(old, CloseCode.SUPERSEDED, 'superseded by a newer connection of this actor');
    }
    c.hello = hello;
    c.phase = 'ready';
    c.view = makeView(c);
    byActor.set(c.actorId, c);
    const state = o.policyState();
    sendRaw(
      c,
      encode({
        type: 'welcome',
        learnerEpoch: state.learnerEpoch,
        policyVersion: state.policyVersion,
        heartbeatMs: o.heartbeatMs,
        maxPayload: o.maxPayload,
        creditWindow: o.creditWindow,
        committed: o.ledger.committedMarks(o.runId, c.actorId),
      }),
    );
    o.onReady?.(c.view);
  }

  function sendAck(c: ConnState, key: TrialKey, status: Ack['status'], reason?: string): void {
    c.trialsInFlight--;
    if (c.phase !== 'ready') return; // the actor resends after reconnecting and gets 'duplicate'
    sendRaw(
      c,
      encode(
        reason === undefined
          ? { type: 'ack', key, status }
          : { type: 'ack', key, status, reason: reason.slice(0, LIMITS.textChars) },
      ),
    );
  }

  function onTrial(c: ConnState, trial: Trial, bytes: Uint8Array): void {
    m.trialsReceived++;
    if (c.trialsInFlight >= o.creditWindow) {
      m.creditViolations++;
      return closeConn(c, CloseCode.POLICY_VIOLATION, `more than ${o.creditWindow} unacked trials`);
    }
    c.trialsInFlight++;
    const reject = (reason: string, ours = true) => {
      m.rejected++;
      log?.warn({ actorId: c.actorId, seq: trial.key.seq, reason }, 'trial rejected');
      sendAck(c, trial.key, 'rejected', reason);
      if (!ours) return;
      try {
        o.onTrialRejected?.(trial, reason, c.view!);
      } catch (e) {
        m.internalErr++;
        log?.error({ actorId: c.actorId, seq: trial.key.seq, err: (e as Error).message }, 'onTrialRejected failed');
      }
    };
    // Content problems are acked 'rejected' (the actor drops the record) rather than closing the connection:
    // a record the actor keeps resending must not turn into a reconnect loop. A record of another run or actor
    // names no lease of ours, so it is not reported.
    if (trial.key.runId !== o.runId) return reject(`key.runId '${trial.key.runId}' is not this run`, false);
    if (trial.key.actorId !== c.actorId) return reject('key.actorId does not match the authenticated actor', false);
    // A key already in the ledger is answered from the ledger (duplicate/conflict) without re-validation:
    // it was valid when committed, even if, say, the learner has since rolled back to an older version.
    if (o.ledger.status(trial.key) === 'absent') {
      let problem: string | null;
      try {
        problem =
          validateTrial(trial, { learnerPolicyVersion: o.policyState().policyVersion, ...o.modelShape?.() }) ??
          (verifyTrialDigest(trial) ? null : 'sha256 does not match the record') ??
          o.checkTrial?.(trial, c.view!) ??
          null;
      } catch (e) {
        // A check that throws on a record must not take the connection (or the learner) with it: the record is refused.
        m.internalErr++;
        log?.error({ actorId: c.actorId, seq: trial.key.seq, err: (e as Error)?.message }, 'trial check failed');
        problem = 'the learner could not check this record';
      }
      if (problem) return reject(problem);
    }
    o.ledger.append(trial.key, bytes).then(
      (res) => {
        switch (res.status) {
          case 'committed':
            m.trialsCommitted++;
            try {
              o.onTrialCommitted?.(trial, { key: trial.key, offset: res.offset, bytes, conn: c.view! });
            } catch (e) {
              m.internalErr++;
              log?.error(
                { actorId: c.actorId, seq: trial.key.seq, err: (e as Error).message },
                'onTrialCommitted failed',
              );
            }
            return sendAck(c, trial.key, 'committed');
          case 'duplicate':
            m.dupSuppressed++;
            return sendAck(c, trial.key, 'duplicate');
          case 'conflict':
            m.conflicts++;
            log?.error({ actorId: c.actorId, key: trial.key }, 'conflicting duplicate: same key, different content');
            return sendAck(
              c,
              trial.key,
              'rejected',
              'conflict: a different record is already committed under this key',
            );
          case 'rejected':
            return reject(res.reason);
        }
      },
      (e: Error) => {
        // Never ack without durability: the actor keeps the record and resends it to a healthy learner.
        m.internalErr++;
        c.trialsInFlight--;
        log?.error({ actorId: c.actorId, err: e.message }, 'ledger append failed');
        closeConn(c, CloseCode.INTERNAL_ERROR, 'ledger failure');
      },
    );
  }

  function makeView(c: ConnState): ActorConnection {
    const hello = c.hello!;
    return {
      id: c.id,
      actorId: c.actorId,
      incarnation: hello.incarnation,
      hello,
      remoteAddress: c.remoteAddress,
      get bufferedAmount() {
        return c.ws.bufferedAmount;
      },
      get isOpen() {
        return c.phase === 'ready';
      },
      initialPolicy: { learnerEpoch: hello.lastLearnerEpoch, policyVersion: hello.lastPolicyVersion },
      get trialsInFlight() {
        return c.trialsInFlight;
      },
      send: (msg) => {
        if (c.phase !== 'ready') return false;
        sendRaw(c, encode(msg));
        return true;
      },
      sendBytes: (bytes, cb) => sendRaw(c, bytes, cb, true),
      close: (code, reason) => closeConn(c, code, reason),
    };
  }

  const tickMs = Math.max(10, Math.floor(o.heartbeatMs / 4));
  const heartbeat = setInterval(() => {
    const now = performance.now();
    for (const c of all) {
      if (c.phase === 'closed') continue;
      if (now - c.lastSeen > MISSED_INTERVALS * o.heartbeatMs) {
        m.heartbeatTimeouts++;
        c.ws.terminate();
        continue;
      }
      if (now >= c.nextPingAt && c.ws.readyState === c.ws.OPEN) {
        c.nextPingAt = now + o.heartbeatMs;
        // A peer that does not read gets no more pings queued: the buffer cap closes it at the next frame anyway.
        if (c.ws.bufferedAmount > o.maxBufferedBytes + 2 * c.bulkBytes) continue;
        try {
          c.ws.ping();
          m.pingsSent++;
        } catch {
          c.ws.terminate();
        }
      }
    }
  }, tickMs);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(o.port, o.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const url = `${o.tls ? 'wss' : 'ws'}://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  log?.info({ url, maxPayload: o.maxPayload, heartbeatMs: o.heartbeatMs }, 'learner server listening');

  const server: LearnerServer = {
    port,
    url,
    connections: () => [...byActor.values()].filter((c) => c.phase === 'ready').map((c) => c.view!),
    connection: (actorId) => {
      const c = byActor.get(actorId);
      return c && c.phase === 'ready' ? c.view! : undefined;
    },
    send(actorId, msg) {
      const c = byActor.get(actorId);
      if (c?.phase !== 'ready') return false;
      sendRaw(c, encode(msg));
      return true;
    },
    broadcast(msg) {
      const bytes = encode(msg);
      let n = 0;
      for (const c of byActor.values()) {
        if (c.phase === 'ready') {
          sendRaw(c, bytes);
          n++;
        }
      }
      return n;
    },
    setCredit(actorId, n) {
      if (!Number.isInteger(n) || n < 0) throw badInput(`credit must be a non-negative integer, got ${n}`);
      return server.send(actorId, { type: 'credit', n: Math.min(n, o.creditWindow) });
    },
    metrics: () => ({ ...m }),
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(heartbeat);
      for (const { socket, timer } of unupgraded.values()) {
        clearTimeout(timer);
        socket.destroy();
      }
      unupgraded.clear();
      const closed = [...all].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.phase === 'closed') return resolve();
            c.ws.once('close', () => resolve());
            closeConn(c, CloseCode.GOING_AWAY, 'learner shutting down');
          }),
      );
      await Promise.all(closed);
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections(); // idle or half-open HTTP sockets would otherwise hold close() open
      await stopped;
      wss.close();
    },
  };
  return server;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
