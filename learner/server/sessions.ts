/**
 * The handshake and who holds each actor's session: a hello is checked (protocol version, run, actorId against
 * the token, fenced incarnation), and the connection that passes becomes its actor's one session. An older
 * session of the same actor is closed 4003 and, if its incarnation differs, that incarnation is fenced: a zombie
 * process that keeps reconnecting stays out (docs/reliability.md §5).
 */
import type { Hello } from '../../proto/messages.js';
import { PROTOCOL_VERSION } from '../../proto/version.js';
import { CloseCode } from '../../proto/wire.js';
import type { ServerMetrics } from './metrics.js';

/** Fenced incarnations remembered per actor (a zombie that keeps reconnecting stays out). */
export const FENCE_MEMORY = 16;

/** What a session needs of a connection. */
export interface SessionPeer {
  /** The actor its token names. */
  readonly actorId: string;
  /** Its hello once accepted. */
  readonly hello: Hello | null;
  close(code: number, reason: string): void;
}

export interface SessionsOptions {
  runId: string;
  metrics: ServerMetrics;
}

export class Sessions<C extends SessionPeer> {
  private readonly byActor = new Map<string, C>();
  private readonly fenced = new Map<string, string[]>();

  constructor(private readonly o: SessionsOptions) {}

  /**
   * Checks `hello` from `conn`. On success `conn` is its actor's session from now on (an older one was closed 4003)
   * and null is returned; otherwise the close code and reason for `conn`.
   */
  admit(conn: C, hello: Hello): { code: number; reason: string } | null {
    const m = this.o.metrics;
    if (hello.protocol !== PROTOCOL_VERSION) {
      m.protocolMismatch++;
      return { code: CloseCode.PROTOCOL_MISMATCH, reason: `protocol ${hello.protocol} != ${PROTOCOL_VERSION}` };
    }
    if (hello.runId !== this.o.runId) {
      m.wrongRun++;
      return { code: CloseCode.WRONG_RUN, reason: `this learner serves run '${this.o.runId}'` };
    }
    if (hello.actorId !== conn.actorId) {
      m.protocolErr++;
      return { code: CloseCode.POLICY_VIOLATION, reason: 'hello.actorId does not match the token' };
    }
    if (this.fenced.get(conn.actorId)?.includes(hello.incarnation)) {
      m.fencedHellos++;
      return { code: CloseCode.SUPERSEDED, reason: 'incarnation fenced by a newer one' };
    }
    const old = this.byActor.get(conn.actorId);
    if (old) {
      m.superseded++;
      if (old.hello && old.hello.incarnation !== hello.incarnation) {
        const list = this.fenced.get(conn.actorId) ?? [];
        list.push(old.hello.incarnation);
        if (list.length > FENCE_MEMORY) list.shift();
        this.fenced.set(conn.actorId, list);
      }
      this.byActor.delete(conn.actorId);
      old.close(CloseCode.SUPERSEDED, 'superseded by a newer connection of this actor');
    }
    this.byActor.set(conn.actorId, conn);
    return null;
  }

  /** The session of `actorId`, if any. */
  get(actorId: string): C | undefined {
    return this.byActor.get(actorId);
  }

  /** Every session. */
  values(): IterableIterator<C> {
    return this.byActor.values();
  }

  /** `conn` closed: it is no longer its actor's session (a newer one stays). */
  remove(conn: C): void {
    if (this.byActor.get(conn.actorId) === conn) this.byActor.delete(conn.actorId);
  }
}
