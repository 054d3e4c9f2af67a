/**
 * One connection's outgoing side: how much may wait for a peer, and for how long a send may stay unfinished.
 *
 * Control frames (acks, heartbeat echoes, leases, credit, welcome) are queued only while less than
 * `maxBufferedBytes` beyond two weights messages waits: a peer that stops reading but keeps writing would
 * otherwise grow our memory with every echo. Bulk frames (weights) are bounded by the publisher
 * (learner/publisher.ts), which checks `bufferedAmount` itself; the largest one sent raises this cap by two of it.
 * Every send is timed (`SendClock`, shared/deadline.ts): the owner closes the connection when the oldest one is
 * past the send deadline.
 */
import { SendClock } from '../../shared/deadline.js';
import type { ServerMetrics } from './metrics.js';

/** What this needs of a WebSocket (`ws` fits). */
export interface SendSocket {
  readonly readyState: number;
  readonly OPEN: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array, opts: { binary: boolean }, cb?: (err?: Error) => void): void;
}

export type SendOutcome = 'queued' | 'not-open' | 'slow-reader';

export interface OutgoingOptions {
  maxBufferedBytes: number;
  metrics: ServerMetrics;
  /** Clock of the send deadline (default performance.now). */
  now?: () => number;
}

export class Outgoing {
  private readonly clock: SendClock;
  /** Largest weights message sent (allowed on top of `maxBufferedBytes`, twice). */
  private bulkBytes = 0;

  constructor(
    private readonly ws: SendSocket,
    private readonly o: OutgoingOptions,
  ) {
    this.clock = new SendClock(o.now);
  }

  /** The control-frame cap for this connection now. */
  get capBytes(): number {
    return this.o.maxBufferedBytes + 2 * this.bulkBytes;
  }

  /** Whether a small frame (a ping) may still be queued: a peer that does not read gets no more. */
  get hasRoom(): boolean {
    return this.ws.bufferedAmount <= this.capBytes;
  }

  /** Sends whose callback has not fired yet. */
  get pendingSends(): number {
    return this.clock.pending;
  }

  /** Age of the oldest send not yet taken by the socket, ms (0: none). */
  oldestSendMs(): number {
    return this.clock.oldestMs();
  }

  /**
   * Queues one frame. 'not-open': nothing sent (`cb` gets an error). 'slow-reader': a control frame found more than
   * the cap already queued; nothing sent, and the caller closes the connection with 4004.
   */
  send(bytes: Uint8Array, cb?: (err?: Error) => void, bulk = false): SendOutcome {
    if (this.ws.readyState !== this.ws.OPEN) {
      cb?.(new Error('connection is not open'));
      return 'not-open';
    }
    if (bulk) this.bulkBytes = Math.max(this.bulkBytes, bytes.byteLength);
    else if (this.ws.bufferedAmount > this.capBytes) {
      // What is already queued decides: one frame always fits (a welcome listing many committed seqs is large).
      this.o.metrics.slowReaders++;
      cb?.(new Error('peer is not reading'));
      return 'slow-reader';
    }
    this.o.metrics.bytesOut += bytes.byteLength;
    this.ws.send(bytes, { binary: true }, this.clock.track(cb));
    return 'queued';
  }
}
