/** The on-disk probes of the chaos fault injector, on temp directories (no processes). */
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../../learner/checkpoint-store.js';
import {
  corruptNewest,
  killOnPartialCheckpoint,
  lastTrainedVersion,
  newestStep,
  newestValidCheckpoint,
  waitForDoneLine,
  waitForOutboxFile,
  watchOptimizerAdvance,
} from '../../../scripts/chaos/probes.js';
import type { RestartRecord } from '../../../scripts/chaos/schedule.js';
import { serializeModel } from '../../../shared/model/checkpoint-files.js';
import { TOY_CONFIG } from '../../../shared/model/config.js';
import { buildManifest, initParams } from '../../../shared/model/manifest.js';
import { fakeProc } from './fake-proc.js';

let root = '';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'lamer-probes-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const params = initParams(buildManifest(TOY_CONFIG), 1);
const modelFiles = (optimizerStep: number) =>
  serializeModel({
    config: TOY_CONFIG,
    params,
    optimizer: { step: optimizerStep, m: new Float32Array(params.length), v: new Float32Array(params.length) },
  });

const logLine = (o: Record<string, unknown>) => `${JSON.stringify({ time: 1, ...o })}\n`;

const record = (o: Partial<RestartRecord>): RestartRecord => ({
  kind: 'plain',
  pid: 77,
  epoch: null,
  versionBeforeKill: 0,
  expectedVersion: null,
  expectedOptimizerStep: null,
  resumedVersion: null,
  resumedOptimizerStep: null,
  optimizerAdvanced: null,
  ...o,
});

describe('chaos probes', () => {
  it('newestStep reads complete checkpoint directories only', () => {
    const dir = join(root, 'ckpt');
    expect(newestStep(dir)).toBe(-1);
    mkdirSync(join(dir, 'ckpt-000000000003'), { recursive: true });
    mkdirSync(join(dir, 'ckpt-000000000012'));
    mkdirSync(join(dir, 'ckpt-000000000099.partial-1'));
    expect(newestStep(dir)).toBe(12);
  });

  it('lastTrainedVersion is the last trained line of the learner log, 0 before any', () => {
    mkdirSync(join(root, 'logs'));
    expect(lastTrainedVersion(root)).toBe(0);
    const log = join(root, 'logs', 'learner.log');
    writeFileSync(log, logLine({ msg: 'trained', learnerEpoch: 1, policyVersion: 4, offsets: [] }));
    appendFileSync(log, logLine({ msg: 'trained', learnerEpoch: 1, policyVersion: 5, offsets: [] }));
    expect(lastTrainedVersion(root)).toBe(5);
  });

  it('waitForDoneLine fires on a new done line only', async () => {
    const f = join(root, 'a0.jsonl');
    writeFileSync(f, '{"t":"done"}\n'); // already there: not new
    expect(await waitForDoneLine(f, 60)).toBe(false);
    setTimeout(() => appendFileSync(f, '{"t":"start"}\n'), 10);
    setTimeout(() => appendFileSync(f, '{"t":"done"}\n'), 30);
    expect(await waitForDoneLine(f, 2000)).toBe(true);
  });

  it('waitForOutboxFile fires on a completed record, not on a temp file', async () => {
    const dir = join(root, 'outbox');
    const p = waitForOutboxFile(dir, 150);
    writeFileSync(join(dir, 'x.tmp'), 'x');
    expect(await p).toBe(false);
    const q = waitForOutboxFile(dir, 2000);
    setTimeout(() => writeFileSync(join(dir, 'r1.msgpack'), 'x'), 10);
    expect(await q).toBe(true);
  });

  it('killOnPartialCheckpoint kills when a partial directory appears, or plainly after the timeout', async () => {
    const dir = join(root, 'ckpt');
    // A live pid (ours) so the memory read before the kill succeeds; the fake only records the signal.
    const p = fakeProc({ role: 'learner', args: [], stderrFile: '' }, process.pid);
    const seen = killOnPartialCheckpoint(dir, p, 2000, 5);
    setTimeout(() => mkdirSync(join(dir, 'ckpt-000000000004.partial-9')), 10);
    expect(await seen).toBe(true);
    expect(p.signals).toEqual(['SIGKILL']);
    const q = fakeProc({ role: 'learner', args: [], stderrFile: '' }, process.pid);
    expect(await killOnPartialCheckpoint(join(root, 'other'), q, 30, 5)).toBe(false);
    expect(q.signals).toEqual(['SIGKILL']);
  });

  it('corruptNewest breaks the newest checkpoint; newestValidCheckpoint falls back to the previous one', async () => {
    const dir = join(root, 'ckpt');
    const store = new CheckpointStore(dir);
    await store.save(3, modelFiles(30), { policyVersion: 3 });
    await store.save(4, modelFiles(40), { policyVersion: 4 });
    expect(await newestValidCheckpoint(dir)).toEqual({ version: 4, optimizerStep: 40 });
    expect(await corruptNewest(dir)).toBe(join(dir, 'ckpt-000000000004'));
    expect(await newestValidCheckpoint(dir)).toEqual({ version: 3, optimizerStep: 30 });
    expect(readdirSync(dir).sort()).toEqual(['ckpt-000000000003', 'ckpt-000000000004']);
    expect(await newestValidCheckpoint(join(root, 'none'))).toEqual({ version: null, optimizerStep: null });
  });

  it('watchOptimizerAdvance judges the first checkpoint of the restarted epoch', async () => {
    mkdirSync(join(root, 'logs'));
    writeFileSync(
      join(root, 'logs', 'learner.log'),
      logLine({ msg: 'resumed from checkpoint', pid: 77, learnerEpoch: 2, policyVersion: 3, optimizerStep: 30 }),
    );
    const store = new CheckpointStore(join(root, 'checkpoints'));
    await store.save(3, modelFiles(30), { policyVersion: 3, learnerEpoch: 1 });
    await store.save(4, modelFiles(31), { policyVersion: 4, learnerEpoch: 2 });
    const advanced = record({ expectedVersion: 3, expectedOptimizerStep: 30 });
    await watchOptimizerAdvance(root, advanced, () => true);
    expect(advanced.optimizerAdvanced).toBe(true);

    const reset = record({ expectedVersion: 3, expectedOptimizerStep: 31 }); // the new checkpoint did not count on
    await watchOptimizerAdvance(root, reset, () => true);
    expect(reset.optimizerAdvanced).toBe(false);

    const other = record({ pid: 78, expectedVersion: 3, expectedOptimizerStep: 30 }); // never resumed
    await watchOptimizerAdvance(root, other, () => true);
    expect(other.optimizerAdvanced).toBeNull();
  });
});
