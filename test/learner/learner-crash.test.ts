import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LearnerClient } from '../../actor/learner-client.js';
import { Outbox } from '../../actor/outbox.js';
import { Ledger } from '../../learner/ledger.js';
import { trialKeyString, type Ack } from '../../proto/messages.js';
import { sampleTrialBody } from '../proto/samples.js';
import { MASTER, RUN, token, until } from './harness.js';

const children: ChildProcess[] = [];
let dir = '';
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.length = 0;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function startLearner(port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'learner-process.ts'), dir, String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LAMER_MASTER_KEY: MASTER },
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /ready (\d+)/.exec(d.toString());
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`learner exited with ${code} before it was ready`)));
  });
}

describe('learner SIGKILL during ingest', () => {
  it('loses no acked trial, commits each once, and the actors resume by themselves', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lamer-lcrash-'));
    let learner = await startLearner(0);
    const port = learner.port;
    const acks: Ack[] = [];
    const clients = await Promise.all(
      ['actor-a', 'actor-b'].map(async (actorId) => {
        const c = new LearnerClient({
          url: `ws://127.0.0.1:${port}`,
          actorId,
          token: token(actorId),
          runId: RUN,
          outbox: await Outbox.open({ maxEntries: 32 }),
          backoff: { initialMs: 20, maxMs: 200 },
          onAck: (a) => acks.push(a),
        });
        c.start();
        return c;
      }),
    );
    const total = 240;
    // Each actor keeps up to its outbox bound (32) of trials in flight; enqueueTrial waits while it is full.
    const receipts = Promise.all(
      clients.map(async (c, i) => {
        const acked: Array<Promise<Ack>> = [];
        for (let n = 0; n < total / 2; n++) acked.push((await c.enqueueTrial(sampleTrialBody(n + 1 + i * 1000))).acked);
        return Promise.all(acked);
      }),
    );
    // Kill the learner twice mid-stream, restarting it on the same port each time.
    for (const killAt of [60, 150]) {
      await until(() => acks.length >= killAt, 20_000);
      learner.child.kill('SIGKILL');
      await new Promise((r) => learner.child.once('exit', r));
      learner = await startLearner(port);
    }
    const all = (await receipts).flat();
    expect(all).toHaveLength(total);
    expect(all.every((a) => a.status === 'committed' || a.status === 'duplicate')).toBe(true);
    // A client whose trials were all acked before the last kill reconnects after its backoff, maybe after the last ack.
    await until(() => clients.every((c) => c.stats().reconnects >= 2), 10_000);
    learner.child.kill('SIGTERM');
    await new Promise((r) => learner.child.once('exit', r));
    for (const c of clients) await c.close();
    const ledger = await Ledger.open(join(dir, 'ledger'));
    const keys: string[] = [];
    for await (const r of ledger.iterate(0)) keys.push(trialKeyString(r.key));
    await ledger.close();
    expect(new Set(keys).size).toBe(keys.length); // nothing committed twice
    for (const a of all) expect(keys).toContain(trialKeyString(a.key)); // every ack is backed by the ledger
    expect(keys).toHaveLength(total);
    expect(clients.every((c) => c.stats().reconnects >= 2)).toBe(true);
  }, 60_000);
});
