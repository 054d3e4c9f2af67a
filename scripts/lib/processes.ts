/** Small helpers for driving child processes from scripts and tests. */
import type { ChildProcess } from 'node:child_process';

/** Resolves with the exit code once `p` has exited (at once if it already has). */
export const exited = (p: ChildProcess): Promise<number | null> =>
  new Promise((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c))));

/** Polls `f` every 100 ms until it returns a truthy value; throws naming `what` after `ms`. */
export async function until<T>(what: string, f: () => T | undefined | false, ms = 120_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
