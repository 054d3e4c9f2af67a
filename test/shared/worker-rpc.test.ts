import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RpcClient, spawnTsWorker } from '../../shared/worker-rpc.js';

describe('worker RPC', () => {
  it('runs a TypeScript worker, keeps state, transfers typed arrays and carries error codes', async () => {
    const rpc = new RpcClient(spawnTsWorker(new URL('../fixtures/echo.worker.ts', import.meta.url)));
    try {
      expect(await rpc.call('add', 2)).toBe(2);
      expect(await rpc.call('add', 3)).toBe(5);
      const xs = Float32Array.from([1, 2, 3.5]);
      expect(await rpc.call('sum', xs, [xs.buffer])).toBe(6.5);
      expect(xs.length).toBe(0); // transferred, not copied
      await expect(rpc.call('fail')).rejects.toMatchObject({ code: 'RL_ERR_BAD_INPUT', message: 'no such task' });
      await expect(rpc.call('nope')).rejects.toThrow(/unknown worker method/);
    } finally {
      await rpc.close();
    }
  });

  it('starts the worker from any current directory (a container runs lamer from its run volume)', async () => {
    const script = fileURLToPath(new URL('../fixtures/worker-elsewhere.mjs', import.meta.url));
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [script], { cwd: tmpdir(), encoding: 'utf8' }, (err, stdout, stderr) =>
        err ? reject(new Error(stderr || err.message)) : resolve(stdout),
      ),
    );
    expect(out.trim()).toBe('41');
  });
});
