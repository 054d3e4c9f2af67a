/**
 * A learner whose start fails (here: its ledger is held by another live process) closes what it had opened: its
 * HTTP side listens before the resume, and left open it kept a failed process alive, answering /healthz — in a
 * container that is a learner that neither runs nor gets restarted.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compactVocabulary } from '../../actor/envs/prompt.js';
import { createAuthenticator } from '../../learner/auth.js';
import { LearnerRuntime } from '../../learner/runtime.js';
import { freePort } from '../../scripts/chaos/procs.js';
import { resolveConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { RunDir } from '../../shared/run-dir.js';
import { MASTER } from './harness.js';

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
    await expect(
      LearnerRuntime.start({
        config,
        runDir: new RunDir(dir),
        logger: createLogger({ level: 'silent' }),
        auth: createAuthenticator(MASTER),
        vocabulary: compactVocabulary(config.env.id),
      }),
    ).rejects.toThrow(/ledger .* is locked by running process/);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, 60_000);
});
