/**
 * Deadlines for awaits that cross a process or thread boundary (a worker call, an fsync, a socket send): a
 * stuck peer must surface as an error naming what was late, never as a silent hang. The late operation itself
 * cannot be cancelled here; the caller decides what to replace (a worker) or to stop.
 */
import { performance } from 'node:perf_hooks';
import { LamerError } from './errors.js';

export class DeadlineError extends LamerError {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super('RL_ERR_TIMEOUT', `${what} did not finish within ${ms} ms`, { what, ms });
    this.name = 'DeadlineError';
  }
}

/**
 * Resolves or rejects like `p`, or rejects with a {@link DeadlineError} after `ms` (then calls `onExpire` once,
 * e.g. to log the reason). `ms` <= 0 or non-finite: no deadline.
 */
export function withDeadline<T>(
  p: Promise<T>,
  ms: number,
  what: string,
  onExpire?: (e: DeadlineError) => void,
): Promise<T> {
  if (!(ms > 0) || !Number.isFinite(ms)) return p;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const e = new DeadlineError(what, ms);
      onExpire?.(e);
      reject(e);
    }, ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export function isDeadlineError(e: unknown): e is DeadlineError {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'RL_ERR_TIMEOUT';
}

/**
 * The deadline of a socket's sends, which are callbacks, not promises: every send's callback is wrapped, and the
 * age of the oldest send whose callback has not fired yet says whether the peer still takes our bytes. A send
 * completes once its bytes are handed to the kernel, so a small send to a peer that stopped reading completes
 * (into the kernel's buffers, a few MiB on loopback) and only the sends past that stay pending; that is the hang
 * this detects. The owner checks {@link oldestMs} on a timer it already has and closes the socket when it is
 * past the limit.
 */
export class SendClock {
  /** Start times of the pending sends, oldest first (a Map keeps insertion order). */
  private readonly started = new Map<number, number>();
  private nextId = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Records a send starting now; pass the returned callback to the socket's send. */
  track(cb?: (err?: Error) => void): (err?: Error) => void {
    const id = this.nextId++;
    this.started.set(id, this.now());
    return (err) => {
      this.started.delete(id);
      cb?.(err);
    };
  }

  /** Sends whose callback has not fired. */
  get pending(): number {
    return this.started.size;
  }

  /** How long the oldest pending send has been waiting, in ms (0 when none is pending). */
  oldestMs(): number {
    for (const t of this.started.values()) return this.now() - t;
    return 0;
  }
}
