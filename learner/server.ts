/**
 * The learner's WebSocket endpoint: wires its components together and exposes what learner code uses of it.
 * Everything above transport (leases, group assembly, training, weights) plugs in through the callbacks in
 * {@link LearnerServerOptions}. Each job is its own component under learner/server/ (docs/reliability.md §5–§6):
 *
 * - admission.ts: TCP connections counted against `maxConnections` from accept on, upgrade deadline, the token
 *   checked in the HTTP `upgrade` handler before any WebSocket exists (401/403/503/426);
 * - connection.ts: one WebSocket's phase, liveness, hello deadline and closing, with frame-gate.ts (binary only,
 *   decode budget, type and size known before decoding, strict schema) and outgoing.ts (buffer cap: 4004; send
 *   deadline);
 * - sessions.ts: the hello checks and one session per actor (supersede 4003, fencing);
 * - trial-door.ts: credit window and exactly-once ingest with ack-after-commit;
 * - heartbeat.ts: pings, silent peers terminated after 3 intervals, overdue sends closed 4005;
 * - metrics.ts: the counters.
 *
 * `ws` + bufferutil in `noServer` mode, no permessage-deflate, explicit `maxPayload`. Every rejection closes with a
 * documented code ({@link CloseCode}, proto/wire.ts) and bumps a counter; no exception from peer input escapes a
 * handler. Weights are fanned out by learner/publisher.ts through {@link ActorConnection.sendBytes}.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { ActorMessage, Hello, LearnerMessage, Message, Trial } from '../proto/messages.js';
import { CloseCode } from '../proto/wire.js';
import { badInput } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Authenticator } from './auth.js';
import type { Ledger } from './ledger.js';
import { Admission } from './server/admission.js';
import { CLOSE_GRACE_MS, Connection, type ActorConnection, type CommitInfo } from './server/connection.js';
import { Heartbeat } from './server/heartbeat.js';
import { zeroMetrics, type ServerMetrics } from './server/metrics.js';
import { Sessions } from './server/sessions.js';
import { TrialDoor } from './server/trial-door.js';

export type { ActorConnection, CommitInfo } from './server/connection.js';
export type { ServerMetrics } from './server/metrics.js';

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
   * A send whose bytes the socket has not taken within this closes the connection with 4005 and logs the peer and
   * the delay (docs/long-runs.md §3; 0 = no deadline; default 60,000).
   */
  sendTimeoutMs?: number;
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
  metrics(): ServerMetrics;
  /** Closes every connection with 1001 and stops listening. The ledger stays open (the caller owns it). */
  close(): Promise<void>;
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
  sendTimeoutMs: 60_000,
};

/** Options with their defaults, checked. */
function resolveOptions(options: LearnerServerOptions): LearnerServerOptions & typeof DEFAULTS {
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
  if (!(o.sendTimeoutMs >= 0) || !Number.isFinite(o.sendTimeoutMs))
    throw badInput(`learner server option sendTimeoutMs must be >= 0 (0 = none), got ${o.sendTimeoutMs}`);
  return o;
}

/** Starts the learner endpoint. Resolves once it listens. */
export async function createLearnerServer(options: LearnerServerOptions): Promise<LearnerServer> {
  const o = resolveOptions(options);
  const log = o.logger;
  const m = zeroMetrics();
  const all = new Set<Connection>();
  const sessions = new Sessions<Connection>({ runId: o.runId, metrics: m });
  const door = new TrialDoor({
    runId: o.runId,
    ledger: o.ledger,
    creditWindow: o.creditWindow,
    policyState: o.policyState,
    modelShape: o.modelShape,
    checkTrial: o.checkTrial,
    onTrialRejected: o.onTrialRejected,
    onTrialCommitted: o.onTrialCommitted,
    metrics: m,
    logger: log,
  });
  let closing = false;
  let nextId = 1;

  const http: HttpServer = o.tls
    ? createHttpsServer({ key: o.tls.key, cert: o.tls.cert, minVersion: 'TLSv1.3' })
    : createHttpServer();
  // Slowloris: half-sent headers are dropped.
  http.headersTimeout = 10_000;
  http.requestTimeout = 15_000;
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: o.maxPayload,
    ...({ closeTimeout: CLOSE_GRACE_MS } as object),
  });
  const admission = new Admission(http, {
    auth: o.auth,
    maxConnections: o.maxConnections,
    upgradeTimeoutMs: o.upgradeTimeoutMs,
    tls: o.tls !== undefined,
    live: () => all.size,
    metrics: m,
    accept: (req, socket, head, actorId) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        admission.upgraded(socket);
        const c = new Connection(ws, {
          id: nextId++,
          actorId,
          remoteAddress: (socket as Socket).remoteAddress ?? '',
          heartbeatMs: o.heartbeatMs,
          helloTimeoutMs: o.helloTimeoutMs,
          decodeBudgetMs: o.decodeBudgetMs,
          maxBufferedBytes: o.maxBufferedBytes,
          metrics: m,
          logger: log,
          onMessage,
          onClosed,
        });
        all.add(c);
        m.connectionsOpened++;
        m.connectionsLive = all.size;
      }),
  });

  function onMessage(c: Connection, msg: Message, bytes: Uint8Array): void {
    switch (msg.type) {
      case 'hello':
        return onHello(c, msg);
      case 'trial':
        return door.receive(c, msg, bytes);
      case 'heartbeat':
        c.sendMessage(msg);
        return;
      case 'leaseRequest':
      case 'error':
      case 'bye':
        o.onMessage?.(msg, c.view);
        if (msg.type === 'bye') c.close(CloseCode.NORMAL, 'bye');
        return;
      default:
        // The gate let through only actor types; a schema-valid learner type here would be a bug in it.
        m.protocolErr++;
        return c.refuse(CloseCode.POLICY_VIOLATION, `actors may not send '${msg.type}'`);
    }
  }

  function onHello(c: Connection, hello: Hello): void {
    c.helloArrived();
    const refusal = sessions.admit(c, hello);
    if (refusal) return c.close(refusal.code, refusal.reason);
    const view = c.becomeReady(hello);
    const state = o.policyState();
    c.sendMessage({
      type: 'welcome',
      learnerEpoch: state.learnerEpoch,
      policyVersion: state.policyVersion,
      heartbeatMs: o.heartbeatMs,
      maxPayload: o.maxPayload,
      creditWindow: o.creditWindow,
      committed: o.ledger.committedMarks(o.runId, c.actorId),
    });
    o.onReady?.(view);
  }

  function onClosed(c: Connection, code: number, reason: string): void {
    all.delete(c);
    sessions.remove(c);
    m.connectionsClosed++;
    m.connectionsLive = all.size;
    if (!c.hasView) return;
    try {
      o.onClose?.(c.view, code, reason);
    } catch (e) {
      m.internalErr++;
      log?.error({ err: (e as Error).message }, 'onClose handler failed');
    }
  }

  const heartbeat = new Heartbeat({
    heartbeatMs: o.heartbeatMs,
    sendTimeoutMs: o.sendTimeoutMs,
    connections: () => all,
    metrics: m,
    logger: log,
  }).start();

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

  const ready = (c: Connection | undefined) => (c?.isReady ? c : undefined);
  return {
    port,
    url,
    connections: () => [...sessions.values()].filter((c) => c.isReady).map((c) => c.view),
    connection: (actorId) => ready(sessions.get(actorId))?.view,
    send: (actorId, msg) => ready(sessions.get(actorId))?.sendMessage(msg) ?? false,
    metrics: () => ({ ...m }),
    async close() {
      if (closing) return;
      closing = true;
      heartbeat.stop();
      admission.close();
      const closed = [...all].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.closed) return resolve();
            c.onceClosed(resolve);
            c.close(CloseCode.GOING_AWAY, 'learner shutting down');
          }),
      );
      await Promise.all(closed);
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections(); // idle or half-open HTTP sockets would otherwise hold close() open
      await stopped;
      wss.close();
    },
  };
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
