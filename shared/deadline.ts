/**
 * Deadlines for awaits that cross a process or thread boundary (a worker call, an fsync, a socket send): a
 * stuck peer must surface as an error naming what was late, never as a silent hang. The late operation itself
 * cannot be cancelled here; the caller decides what to replace (a worker) or to stop.
 */
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
