/**
 * One owner process per directory (the ledger), also when processes run in containers. A pid alone cannot say
 * whether the owner lives: every container's first process is pid 1, so a learner restarted in a new container
 * finds its dead predecessor's pid equal to its own, and a pid from another pid namespace or host means nothing
 * here. So `LOCK` holds the owner's pid, pid namespace, host and a random token, and the owner refreshes the file's
 * mtime every `heartbeatMs` while it holds the lock. A lock is live when it is this process's (same token), or
 * when its owner shares this pid namespace and host and its pid is alive and not ours, or, for any other owner,
 * when its mtime is younger than `staleMs`. A dead or stale lock is taken over; a live foreign one is waited for
 * up to `waitMs` (a replacement container starts while its killed predecessor's heartbeat is still fresh), a live
 * local one refused at once.
 * A lock file holding only a pid (the earlier format) is read as an owner in this namespace.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, readlinkSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LamerError } from '../shared/errors.js';

export const LOCK = 'LOCK';

export interface LockOwner {
  pid: number;
  /** `/proc/self/ns/pid` of the owner ('' where there is none). */
  pidns: string;
  host: string;
  token: string;
}

export interface DirLockOptions {
  /** How often the owner refreshes the lock's mtime (default 2000 ms). */
  heartbeatMs?: number;
  /** A foreign owner's lock older than this is stale (default 15000 ms). */
  staleMs?: number;
  /** How long to wait for a live foreign lock to go stale (default staleMs + 5000 ms; 0 = fail at once). */
  waitMs?: number;
  /** What the directory is, for messages (default 'directory'). */
  name?: string;
  /** Told once when the lock is waited for: who holds it, and in how many ms its heartbeat is stale. */
  onWait?: (holder: string, staleInMs: number) => void;
}

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
}

/** This process as a lock owner (the token is new for every process). */
const SELF: LockOwner = { pid: process.pid, pidns: pidNamespace(), host: hostname(), token: '' };
SELF.token = randomBytes(12).toString('hex');

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The owner recorded in a lock file; a bare pid (earlier format) is an owner in this namespace. */
export function parseOwner(text: string): LockOwner | null {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { pid: Number(t), pidns: SELF.pidns, host: SELF.host, token: '' };
  try {
    const o = JSON.parse(t) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.token === 'string')
      return { pid: o.pid, pidns: String(o.pidns ?? ''), host: String(o.host ?? ''), token: o.token };
  } catch {
    /* torn or foreign content: judged by its age */
  }
  return null;
}

export type OwnerState = 'self' | 'alive' | 'dead';

/** Whether the recorded owner still holds the lock (see the file header). */
export function ownerState(
  owner: LockOwner | null,
  ageMs: number,
  staleMs: number,
  self: LockOwner = SELF,
  alive: (pid: number) => boolean = pidAlive,
): OwnerState {
  if (owner && owner.token !== '' && owner.token === self.token) return 'self';
  if (owner && owner.pidns === self.pidns && owner.host === self.host && self.pidns !== '')
    return owner.pid !== self.pid && alive(owner.pid) ? 'alive' : 'dead';
  return ageMs < staleMs ? 'alive' : 'dead';
}

function local(owner: LockOwner | null): boolean {
  return !!owner && owner.pidns === SELF.pidns && owner.host === SELF.host && SELF.pidns !== '';
}

function describe(owner: LockOwner | null): string {
  if (!owner) return 'an unknown process';
  return local(owner)
    ? `running process ${owner.pid}`
    : `process ${owner.pid} on ${owner.host} (another pid namespace)`;
}

function readLock(path: string): { owner: LockOwner | null; ageMs: number } | null {
  try {
    const ageMs = Date.now() - statSync(path).mtimeMs;
    return { owner: parseOwner(readFileSync(path, 'utf8')), ageMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

export class DirLock {
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    readonly dir: string,
    private readonly path: string,
  ) {}

  /** Takes the lock of `dir` (see the file header), waiting for a live foreign owner's heartbeat to go stale. */
  static async acquire(dir: string, o: DirLockOptions = {}): Promise<DirLock> {
    const heartbeatMs = o.heartbeatMs ?? 2000;
    const staleMs = o.staleMs ?? 15_000;
    const waitMs = o.waitMs ?? staleMs + 5000;
    const path = join(dir, LOCK);
    const t0 = Date.now();
    let waited = false;
    for (;;) {
      try {
        const fd = openSync(path, 'wx');
        try {
          writeSync(fd, JSON.stringify(SELF));
        } finally {
          closeSync(fd);
        }
        const lock = new DirLock(dir, path);
        lock.timer = setInterval(() => lock.beat(), heartbeatMs);
        lock.timer.unref();
        return lock;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const seen = readLock(path);
      if (!seen) continue; // released between our open and our read
      const state = ownerState(seen.owner, seen.ageMs, staleMs);
      const what = `${o.name ?? 'directory'} ${dir}`;
      if (state === 'self') throw new LamerError('RL_ERR_INTERNAL', `${what} is already open in this process`);
      if (state === 'dead') {
        try {
          unlinkSync(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
        continue;
      }
      // A live process of this namespace will not go away by itself; a foreign heartbeat may just be going stale.
      if (local(seen.owner) || Date.now() - t0 >= waitMs)
        throw new LamerError('RL_ERR_INTERNAL', `${what} is locked by ${describe(seen.owner)}`);
      if (!waited) o.onWait?.(describe(seen.owner), Math.max(0, staleMs - seen.ageMs));
      waited = true;
      await new Promise((r) => setTimeout(r, Math.min(500, heartbeatMs)));
    }
  }

  /** Refreshes the mtime while the file is still ours (a taken-over lock is left to its new owner). */
  private beat(): void {
    try {
      if (parseOwner(readFileSync(this.path, 'utf8'))?.token !== SELF.token) return;
      const now = new Date();
      utimesSync(this.path, now, now);
    } catch {
      /* best effort: a missed beat only lets the lock age */
    }
  }

  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      if (parseOwner(readFileSync(this.path, 'utf8'))?.token === SELF.token) unlinkSync(this.path);
    } catch {
      /* best effort */
    }
  }
}

/** The pid of a live holder of `dir`'s lock (this process included), or null. */
export function lockHolder(dir: string, staleMs = 15_000): number | null {
  const seen = readLock(join(dir, LOCK));
  if (!seen) return null;
  return ownerState(seen.owner, seen.ageMs, staleMs) === 'dead' ? null : (seen.owner?.pid ?? -1);
}
