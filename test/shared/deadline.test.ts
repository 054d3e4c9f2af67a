import { describe, expect, it, vi } from 'vitest';
import { isDeadlineError, withDeadline } from '../../shared/deadline.js';
import { RpcClient, spawnTsWorker } from '../../shared/worker-rpc.js';

describe('withDeadline', () => {
  it('passes a result that arrives in time and rejects with RL_ERR_TIMEOUT naming the operation after it', async () => {
    expect(await withDeadline(Promise.resolve(7), 1000, 'fast')).toBe(7);
    const expired = vi.fn();
    const never = new Promise<number>(() => undefined);
    await expect(withDeadline(never, 30, 'socket send to a0', expired)).rejects.toMatchObject({
      code: 'RL_ERR_TIMEOUT',
      message: 'socket send to a0 did not finish within 30 ms',
    });
    expect(expired).toHaveBeenCalledTimes(1);
    await expect(withDeadline(Promise.reject(new Error('boom')), 1000, 'x')).rejects.toThrow('boom');
  });

  it('0 means no deadline', async () => {
    const slow = new Promise<number>((r) => setTimeout(() => r(1), 50));
    expect(await withDeadline(slow, 0, 'x')).toBe(1);
  });
});

describe('worker RPC deadlines', () => {
  it(
    'a call past its deadline rejects with the method ' + 'named, reports it, and the stuck worker is terminated',
    async () => {
      const reported: string[] = [];
      const rpc = new RpcClient(spawnTsWorker(new URL('../fixtures/echo.worker.ts', import.meta.url)), {
        timeoutMs: (m) => (m === 'spin' ? 300 : 10_000),
        onTimeout: (e) => reported.push(e.message),
      });
      try {
        expect(await rpc.call('add', 1)).toBe(1);
        const queued = rpc.call('add', 1); // sent before the stuck call: answered
        const stuck = rpc.call('spin', 60_000);
        const behind = rpc.call('add', 1); // queued behind the stuck call: fails with it
        expect(await queued).toBe(2);
        const err = await stuck.catch((e: unknown) => e);
        expect(isDeadlineError(err)).toBe(true);
        expect((err as Error).message).toBe("worker call 'spin' did not finish within 300 ms");
        await expect(behind).rejects.toMatchObject({ code: 'RL_ERR_TIMEOUT' });
        expect(reported).toEqual(["worker call 'spin' did not finish within 300 ms"]);
        expect(rpc.failed).toBe(true);
        await expect(rpc.call('add', 1)).rejects.toMatchObject({ code: 'RL_ERR_TIMEOUT' });
      } finally {
        await rpc.close();
      }
    },
  );
});
