/**
 * The native guard: a worker inside a native section is never terminated (that aborts the process when the
 * native call returns); it is retired at the section's end instead, and one outside native code is terminated
 * at once.
 */
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { isDeadlineError } from '../../shared/deadline.js';
import { inNative, NativeGuard } from '../../shared/native-guard.js';
import { RpcClient, spawnTsWorker } from '../../shared/worker-rpc.js';

const ECHO = new URL('../fixtures/echo.worker.ts', import.meta.url);
const exitOf = (w: Worker) => new Promise<number>((r) => w.once('exit', r));

describe('NativeGuard', () => {
  it('claim succeeds only with no native section running, and holds once taken', () => {
    const g = new NativeGuard();
    const a = new Int32Array(g.buffer);
    a[0] = 1; // one section running
    expect(g.claim()).toBe(false);
    a[0] = 0;
    expect(g.claim()).toBe(true);
    expect(a[0]).toBe(-1);
    expect(g.claim()).toBe(true);
  });

  it('inNative without a guard honours only its own cancel flag', async () => {
    expect(await inNative(async () => 3)).toBe(3);
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    cancel[0] = 1;
    await expect(inNative(async () => 3, cancel)).rejects.toMatchObject({ code: 'RL_ERR_TIMEOUT' });
  });
});

describe('retiring an RPC worker', () => {
  it('a call stuck in a native section rejects at its deadline; the thread ends only after the section', async () => {
    const worker = spawnTsWorker(ECHO);
    const exited = exitOf(worker);
    const rpc = new RpcClient(worker, { timeoutMs: (m) => (m === 'native' ? 200 : 20_000) });
    expect(await rpc.call('add', 1)).toBe(1);
    const done = new SharedArrayBuffer(4);
    const err = await rpc.call('native', { ms: 1500, done }).catch((e: unknown) => e);
    expect(isDeadlineError(err)).toBe(true);
    // At the deadline the section is still running: the thread must still be alive.
    expect(Atomics.load(new Int32Array(done), 0)).toBe(0);
    await exited;
    // It ended on its own at the section's boundary, after the section finished.
    expect(Atomics.load(new Int32Array(done), 0)).toBe(1);
    expect(rpc.failed).toBe(true);
  });

  it('an idle worker is terminated at once by close()', async () => {
    const worker = spawnTsWorker(ECHO);
    const exited = exitOf(worker);
    const rpc = new RpcClient(worker);
    expect(await rpc.call('add', 2)).toBe(2);
    await rpc.close();
    expect(await exited).toBe(1); // terminate() gives exit code 1
  });
});
