/**
 * A learner whose start fails (here: its ledger is held by another live process) closes what it had opened: its
 * HTTP side listens before the resume, and left open it kept a failed process alive, answering /healthz — in a
 * container that is a learner that neither runs nor gets restarted.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/chaos/procs.js';
import { resolveConfig } from '../../shared/config.js';
import { startRuntime } from './runtime-fixture.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('learner start', () => {
  it('closes its HTTP side when the start fails', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lamer-start-'));
    mkdirSync(join(dir, 'ledger'));
    writeFileSync(join(dir, 'ledger', 'LOCK'), String(process.ppid)); // a live process of this namespace
    const port = await freePort();
    const config = resolveConfig({
      model: { dModel: 16, nLayer: 1, nHead: 2, nCtx: 160, init: 'random' },
      learner: { port: 0 },
      observe: { listen: `127.0.0.1:${port}` },
    });
    await expect(startRuntime(config, dir)).rejects.toThrow(/ledger .* is locked by running process/);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, 60_000);
});
