/**
 * One connection's inbound door: every frame is checked before it costs more than a header scan. Binary frames
 * only; a per-connection decode budget (token bucket of decode+validation CPU ms per second, burst one second's
 * worth, every frame charged, the hello too) so msgpack amplification from one actor cannot starve the others;
 * the frame's type and size are known (proto/frame.ts, via `decode`'s `admit`) before it is unpacked, and types an
 * actor may not send, or not yet, are refused unread; then strict schema validation. The verdict names the close
 * code (proto/wire.ts) and bumps its counter; the connection acts on it.
 */
import { performance } from 'node:perf_hooks';
import type { RawData } from 'ws';
import { decode } from '../../proto/codec.js';
import { ACTOR_MESSAGE_TYPES, LIMITS, type Message, type MessageType } from '../../proto/messages.js';
import { CloseCode } from '../../proto/wire.js';
import type { ServerMetrics } from './metrics.js';

export type FrameVerdict =
  | { ok: true; msg: Message; bytes: Uint8Array }
  /** `explain`: a handshaken peer gets an `error` message with the whole reason before the close. */
  | { ok: false; code: number; reason: string; explain: boolean };

export interface FrameGateOptions {
  /** Decode+validation ms per second this connection may spend. */
  decodeBudgetMs: number;
  metrics: ServerMetrics;
  now?: () => number;
}

/**
 * Refuses, by type and size alone, frames an actor may not send now: learner-only types, anything but hello before
 * the handshake, and large frames of any type but trial (none of them needs more than a few KiB).
 */
export function admitFrame(phase: 'hello' | 'ready', type: string | undefined, size: number): string | null {
  if (type === undefined) return null; // the schema names the problem
  if (!ACTOR_MESSAGE_TYPES.has(type as MessageType)) return `actors may not send '${type.slice(0, 64)}'`;
  if (phase === 'hello' && type !== 'hello') return `expected hello, got '${type}'`;
  if (phase !== 'hello' && type === 'hello') return 'duplicate hello';
  if (type !== 'trial' && size > LIMITS.smallFrameBytes)
    return `a '${type}' frame of ${size} bytes (at most ${LIMITS.smallFrameBytes})`;
  return null;
}

export class FrameGate {
  private readonly now: () => number;
  /** Remaining decode budget (ms) and when it was last refilled. */
  private credit: number;
  private refillAt: number;

  constructor(private readonly o: FrameGateOptions) {
    this.now = o.now ?? (() => performance.now());
    this.credit = o.decodeBudgetMs;
    this.refillAt = this.now();
  }

  /** Checks and decodes one frame received in `phase`. Never throws on peer input. */
  check(data: RawData, isBinary: boolean, phase: 'hello' | 'ready'): FrameVerdict {
    const m = this.o.metrics;
    if (!isBinary) {
      m.textFrames++;
      return { ok: false, code: CloseCode.UNSUPPORTED_DATA, reason: 'binary frames only', explain: false };
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    m.bytesIn += bytes.byteLength;
    const budget = this.o.decodeBudgetMs;
    const t0 = this.now();
    this.credit = Math.min(budget, this.credit + ((t0 - this.refillAt) / 1000) * budget);
    this.refillAt = t0;
    if (this.credit <= 0) {
      m.decodeBudgetExceeded++;
      return refused(CloseCode.POLICY_VIOLATION, 'decode budget exceeded');
    }
    const r = decode(bytes, {
      admit: (type, size) => admitFrame(phase, type, size),
      maxValues: LIMITS.frameValues,
    });
    this.credit -= this.now() - t0;
    if (r.ok) return { ok: true, msg: r.msg, bytes };
    if (r.kind === 'undecodable') {
      m.decodeErr++;
      return refused(CloseCode.INVALID_PAYLOAD, `undecodable frame: ${r.reason}`);
    }
    if (r.kind === 'refused') {
      m.protocolErr++;
      return refused(CloseCode.POLICY_VIOLATION, r.reason);
    }
    m.schemaErr++;
    return refused(CloseCode.POLICY_VIOLATION, `schema: ${r.reason}`);
  }
}

function refused(code: number, reason: string): FrameVerdict {
  return { ok: false, code, reason, explain: true };
}
