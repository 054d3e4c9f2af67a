/**
 * Liveness and send deadlines of every connection, on one timer: a connection silent (no inbound byte) for
 * 3 heartbeat intervals is terminated; one whose oldest send has not completed within `sendTimeoutMs` is closed
 * 4005 with the peer and the delay logged (docs/long-runs.md §3); the others are pinged once per interval, with
 * pings staggered across it by each connection's `nextPingAt` and not queued for a peer whose buffer is full.
 */
import { performance } from 'node:perf_hooks';
import { CloseCode } from '../../proto/wire.js';
import type { Logger } from '../../shared/logger.js';
import type { ServerMetrics } from './metrics.js';

export const MISSED_INTERVALS = 3;

/** What the heartbeat needs of a connection. */
export interface Beating {
  readonly actorId: string;
  readonly remoteAddress: string;
  /** When the last inbound byte arrived (performance.now()). */
  readonly lastSeen: number;
  /** When the next ping is due; the heartbeat moves it on. */
  nextPingAt: number;
  /** Closed, or closing (a close frame went out; it is terminated if the peer does not answer). */
  readonly closing: boolean;
  readonly closed: boolean;
  /** Open, and its outgoing buffer has room for a ping. */
  readonly canPing: boolean;
  readonly pendingSends: number;
  /** Age of its oldest send not yet taken by the socket, ms (0: none). */
  oldestSendMs(): number;
  ping(): void;
  terminate(): void;
  close(code: number, reason: string): void;
}

export interface HeartbeatOptions {
  heartbeatMs: number;
  /** A send pending longer than this closes its connection (0: no deadline). */
  sendTimeoutMs: number;
  connections: () => Iterable<Beating>;
  metrics: ServerMetrics;
  logger?: Logger;
}

export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: HeartbeatOptions) {}

  /** Sweeps every quarter interval (at least every 10 ms); the timer never keeps the process alive. */
  start(): this {
    const tickMs = Math.max(10, Math.floor(this.o.heartbeatMs / 4));
    this.timer = setInterval(() => this.sweep(), tickMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass over every connection. */
  sweep(now = performance.now()): void {
    const { heartbeatMs, sendTimeoutMs, metrics: m } = this.o;
    for (const c of this.o.connections()) {
      if (c.closed) continue;
      if (now - c.lastSeen > MISSED_INTERVALS * heartbeatMs) {
        m.heartbeatTimeouts++;
        c.terminate();
        continue;
      }
      if (c.closing) continue;
      const late = sendTimeoutMs > 0 ? c.oldestSendMs() : 0;
      if (late > sendTimeoutMs) {
        m.sendTimeouts++;
        this.o.logger?.warn(
          {
            actorId: c.actorId,
            remoteAddress: c.remoteAddress,
            waitedMs: Math.round(late),
            limitMs: sendTimeoutMs,
            pendingSends: c.pendingSends,
          },
          'a send to this actor did not complete in time (it stopped reading?): closing the connection',
        );
        c.close(CloseCode.SEND_TIMEOUT, `a send did not complete within ${sendTimeoutMs} ms`);
        continue;
      }
      if (now >= c.nextPingAt) {
        c.nextPingAt = now + heartbeatMs;
        // A peer that does not read gets no more pings queued: the buffer cap closes it at the next frame anyway.
        if (!c.canPing) continue;
        try {
          c.ping();
          m.pingsSent++;
        } catch {
          c.terminate();
        }
      }
    }
  }
}
