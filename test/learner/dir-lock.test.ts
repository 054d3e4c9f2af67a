/** The directory lock of the ledger: who holds it, across processes, pid namespaces (containers) and hosts. */
import { existsSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirLock, LOCK, type LockOwner, lockHolder, ownerState, parseOwner } from '../../learner/dir-lock.js';

const self: LockOwner = { pid: 1, pidns: 'pid:[100]', host: 'node-a', token: 'me' };
const alive = (pid: number) => pid === 1 || pid === 42;

describe('lock owner state', () => {
  it('is self for this process, by token', () => {
    expect(ownerState({ ...self }, 60_000, 15_000, self, alive)).toBe('self');
  });

  it('judges an owner in this pid namespace by its pid', () => {
    const here = { pid: 42, pidns: self.pidns, host: self.host, token: 'other' };
    expect(ownerState(here, 60_000, 15_000, self, alive)).toBe('alive');
    expect(ownerState({ ...here, pid: 7 }, 0, 15_000, self, alive)).toBe('dead');
    // A container restarted on the same volume: the dead predecessor was pid 1 too.
    expect(ownerState({ ...here, pid: 1 }, 0, 15_000, self, alive)).toBe('dead');
  });

  it('judges an owner in another pid namespace or host by the age of its heartbeat', () => {
    const there = { pid: 1, pidns: 'pid:[200]', host: 'node-a', token: 'other' };
    expect(ownerState(there, 3000, 15_000, self, alive)).toBe('alive');
    expect(ownerState(there, 16_000, 15_000, self, alive)).toBe('dead');
    expect(ownerState({ ...there, pidns: self.pidns, host: 'node-b' }, 3000, 15_000, self, alive)).toBe('alive');
    expect(ownerState(null, 3000, 15_000, self, alive)).toBe('alive');
    expect(ownerState(null, 20_000, 15_000, self, alive)).toBe('dead');
  });

  it('reads the earlier bare-pid format as an owner in this namespace', () => {
    const o = parseOwner('4242\n')!;
    expect(o.pid).toBe(4242);
    expect(o.token).toBe('');
    expect(parseOwner('{"pid":3,"pidns":"x","host":"h","token":"t"}')).toEqual({
      pid: 3,
      pidns: 'x',
      host: 'h',
      token: 't',
    });
    expect(parseOwner('{"pid":')).toBeNull();
  });
});

describe('DirLock', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'lamer-lock-'));
  const foreign = (d: string, ageMs: number) => {
    const p = join(d, LOCK);
    writeFileSync(p, JSON.stringify({ pid: 1, pidns: 'pid:[1]', host: 'elsewhere', token: 'x' }));
    const t = new Date(Date.now() - ageMs);
    utimesSync(p, t, t);
  };

  it('refuses a second open in this process and releases on release', async () => {
    const d = dir();
    const lock = await DirLock.acquire(d, { name: 'ledger' });
    await expect(DirLock.acquire(d, { name: 'ledger' })).rejects.toThrow(/ledger .* is already open in this process/);
    expect(lockHolder(d)).toBe(process.pid);
    lock.release();
    expect(existsSync(join(d, LOCK))).toBe(false);
    expect(lockHolder(d)).toBeNull();
  });

  it('refuses a live owner in this namespace and takes over a dead one', async () => {
    const d = dir();
    writeFileSync(join(d, LOCK), String(process.ppid));
    await expect(DirLock.acquire(d, { waitMs: 0 })).rejects.toThrow(`locked by running process ${process.ppid}`);
    writeFileSync(join(d, LOCK), JSON.stringify({ ...parseOwner(String(process.pid)), token: 'a-dead-predecessor' }));
    (await DirLock.acquire(d, { waitMs: 0 })).release();
  });

  it('takes over a foreign lock whose heartbeat stopped, after waiting for it to go stale', async () => {
    const d = dir();
    foreign(d, 0);
    await expect(DirLock.acquire(d, { waitMs: 0 })).rejects.toThrow(/locked by process 1 on elsewhere/);
    foreign(d, 20_000);
    (await DirLock.acquire(d, { waitMs: 0 })).release();
    foreign(d, 0);
    const t0 = Date.now();
    const waits: string[] = [];
    const onWait = (holder: string) => waits.push(holder);
    const lock = await DirLock.acquire(d, { staleMs: 400, heartbeatMs: 50, waitMs: 5000, onWait });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(waits).toEqual(['process 1 on elsewhere (another pid namespace)']);
    expect(parseOwner(readFileSync(join(d, LOCK), 'utf8'))?.host).toBe(hostname());
    lock.release();
  });

  it('keeps its own lock fresh while held', async () => {
    const d = dir();
    const lock = await DirLock.acquire(d, { heartbeatMs: 50 });
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(d, LOCK), old, old);
    await new Promise((r) => setTimeout(r, 300));
    expect(Date.now() - statSync(join(d, LOCK)).mtimeMs).toBeLessThan(250);
    lock.release();
  });
});
