/**
 * Who gets a WebSocket (docs/reliability.md §5): every TCP connection counts against `maxConnections` from accept
 * on (upgraded or not) and is destroyed if it has not upgraded within `upgradeTimeoutMs`; the upgrade request is
 * authenticated (401) and browser Origins refused (403) before any WebSocket exists; plain HTTP gets 426; over the
 * limit or while shutting down, 503. Attaches to an HTTP(S) server; the caller completes accepted upgrades.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Authenticator } from '../auth.js';
import type { ServerMetrics } from './metrics.js';

export interface AdmissionOptions {
  auth: Authenticator;
  maxConnections: number;
  upgradeTimeoutMs: number;
  /** Over TLS a refused connection is just closed: the peer cannot read a 503 before the TLS handshake. */
  tls: boolean;
  /** Upgraded connections currently open (they count against `maxConnections` too). */
  live: () => number;
  metrics: ServerMetrics;
  /**
   * An authenticated upgrade request: complete it (`wss.handleUpgrade`) and call {@link Admission.upgraded} once the
   * WebSocket exists.
   */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, actorId: string): void;
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** A TCP connection's identity while it lives (the raw socket and, with TLS, the TLS socket over it share it). */
function peerKey(s: { remoteAddress?: string; remotePort?: number }): string {
  return `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`;
}

export class Admission {
  /** TCP connections accepted and not yet upgraded (or refused), with their upgrade deadline. */
  private readonly unupgraded = new Map<string, { socket: Socket; timer: NodeJS.Timeout }>();
  /** Sockets answered 503 at accept: whatever request they still send is ignored. */
  private readonly refused = new WeakSet<object>();
  private closing = false;

  constructor(
    http: HttpServer,
    private readonly o: AdmissionOptions,
  ) {
    http.on('request', (req, res) => {
      if (this.refused.has(req.socket)) return void req.socket.destroy();
      res
        .writeHead(426, { 'content-type': 'text/plain', connection: 'close' })
        .end('lamer learner: WebSocket upgrade required\n');
    });
    http.on('clientError', (_err, socket) => socket.destroy());
    http.on('connection', (socket: Socket) => this.onConnection(socket));
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  /** TCP connections accepted and not upgraded yet. */
  get pending(): number {
    return this.unupgraded.size;
  }

  /** `socket` completed its WebSocket upgrade: its upgrade deadline no longer applies. */
  upgraded(socket: Duplex): void {
    const key = peerKey(socket as Socket);
    const u = this.unupgraded.get(key);
    if (u) {
      clearTimeout(u.timer);
      this.unupgraded.delete(key);
    }
  }

  /** Refuses every connection and upgrade from now on; destroys the connections that have not upgraded. */
  close(): void {
    this.closing = true;
    for (const { socket, timer } of this.unupgraded.values()) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.unupgraded.clear();
  }

  // Every TCP connection counts against maxConnections from accept on, and must upgrade in time: raw sockets that
  // never send a request (or a TLS handshake) would otherwise hold memory outside every limit.
  private onConnection(socket: Socket): void {
    const { o } = this;
    socket.on('error', () => socket.destroy());
    if (this.closing || o.live() + this.unupgraded.size >= o.maxConnections) {
      o.metrics.overLimit++;
      this.refused.add(socket);
      // A plain-HTTP peer reads the 503; a TLS peer cannot (no handshake yet) and just sees the close.
      if (o.tls) socket.destroy();
      else {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        // The HTTP server keeps sockets half-open: one whose peer never closes would hold its descriptor forever.
        socket.setTimeout(o.upgradeTimeoutMs, () => socket.destroy());
      }
      return;
    }
    const key = peerKey(socket);
    const timer = setTimeout(() => {
      o.metrics.upgradeTimeouts++;
      this.unupgraded.delete(key);
      socket.destroy();
    }, o.upgradeTimeoutMs);
    timer.unref();
    this.unupgraded.set(key, { socket, timer });
    socket.once('close', () => {
      clearTimeout(timer);
      if (this.unupgraded.get(key)?.socket === socket) this.unupgraded.delete(key);
    });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { o } = this;
    socket.on('error', () => socket.destroy());
    if (this.refused.has(socket)) return void socket.destroy();
    if (this.closing) return rejectUpgrade(socket, 503, 'Service Unavailable');
    const actorId = o.auth.verify(req.headers.authorization);
    if (!actorId) {
      o.metrics.authFailures++;
      return rejectUpgrade(socket, 401, 'Unauthorized');
    }
    // Browsers always send Origin; Node actors never do. Refuse cross-site WebSocket hijacking outright.
    if (req.headers.origin !== undefined) {
      o.metrics.originRejected++;
      return rejectUpgrade(socket, 403, 'Forbidden');
    }
    o.accept(req, socket, head, actorId);
  }
}
