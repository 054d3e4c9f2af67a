/**
 * What the chaos fault injector watches and touches on disk: the checkpoint directory (newest step, a partial
 * checkpoint being written, flipping a byte of the newest one, the optimizer step of the first checkpoint after a
 * restart), the learner's log and the actors' trial logs and outboxes.
 */
import {
  existsSync,
  type FSWatcher,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { CheckpointStore } from '../../learner/checkpoint-store.js';
import { parseModel } from '../../shared/model/checkpoint-files.js';
import { readLearnerLog } from './checker.js';
import { type Proc, readMem, signal, sleep } from './procs.js';
import type { RestartRecord } from './schedule.js';

/** Step of the newest complete checkpoint directory (`ckpt-<12 digits>`), or -1. */
export function newestStep(ckptDir: string): number {
  if (!existsSync(ckptDir)) return -1;
  const steps = readdirSync(ckptDir)
    .map((n) => /^ckpt-(\d{12})$/.exec(n))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]));
  return steps.length ? Math.max(...steps) : -1;
}

/** The last policy version the learner logged as trained (0 before the first update). */
export function lastTrainedVersion(runDir: string): number {
  const t = readLearnerLog(join(runDir, 'logs', 'learner.log')).trained;
  return t.length ? t[t.length - 1].policyVersion : 0;
}

/** Resolves true as soon as a new `done` line is appended to the trial log (polled every 5 ms). */
export async function waitForDoneLine(file: string, ms: number): Promise<boolean> {
  const size0 = existsSync(file) ? statSync(file).size : 0;
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    await sleep(5);
    const size = existsSync(file) ? statSync(file).size : 0;
    if (size > size0) {
      const fresh = readFileSync(file, 'utf8').slice(size0);
      if (fresh.includes('"t":"done"')) return true;
    }
  }
  return false;
}

/** Resolves true when a new completed record appears in the outbox directory (inotify). */
export function waitForOutboxFile(dir: string, ms: number): Promise<boolean> {
  mkdirSync(dir, { recursive: true });
  return new Promise((resolve) => {
    let w: FSWatcher | null = null;
    const done = (v: boolean) => {
      w?.close();
      clearTimeout(t);
      resolve(v);
    };
    const t = setTimeout(() => done(false), ms);
    w = watch(dir, (_ev, name) => {
      if (name && /\.msgpack$/.test(name) && existsSync(join(dir, name))) done(true);
    });
  });
}

/**
 * SIGKILLs the learner the moment a partial checkpoint directory appears (inotify), i.e. while the files are being
 * written and fsynced. Falls back to a plain kill after `ms`. Returns whether the partial directory was seen.
 */
export function killOnPartialCheckpoint(dir: string, p: Proc, ms: number, afterMs: number): Promise<boolean> {
  mkdirSync(dir, { recursive: true });
  return new Promise((resolve) => {
    let w: FSWatcher | null = null;
    let fired = false;
    const fire = (seen: boolean) => {
      if (fired) return;
      fired = true;
      w?.close();
      clearTimeout(t);
      // `afterMs` moves the kill to a random point among the files being written.
      setTimeout(
        () => {
          const m = readMem(p.pid);
          signal(p, 'SIGKILL');
          resolve(seen && m !== null);
        },
        seen ? afterMs : 0,
      );
    };
    const t = setTimeout(() => fire(false), ms);
    // Only a partial directory that exists now: the event of its rename into place comes too late.
    w = watch(dir, (_ev, name) => {
      if (name?.includes('.partial-') && existsSync(join(dir, name))) fire(true);
    });
  });
}

/** Flips one byte in the middle of the largest file of the newest valid checkpoint; returns its directory. */
export async function corruptNewest(ckptDir: string): Promise<string | null> {
  const latest = await new CheckpointStore(ckptDir).loadLatest();
  if (!latest) return null;
  const [name] = [...latest.files].sort((a, b) => b[1].byteLength - a[1].byteLength)[0];
  const file = join(latest.dir, name);
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(file, bytes);
  return latest.dir;
}

/** Policy version and optimizer step of the newest valid checkpoint (what a restarted learner must resume from). */
export async function newestValidCheckpoint(
  ckptDir: string,
): Promise<{ version: number | null; optimizerStep: number | null }> {
  const expected = await new CheckpointStore(ckptDir).loadLatest();
  return {
    version: expected ? Number(expected.meta.policyVersion) : null,
    optimizerStep: expected ? (parseModel(expected.files).optimizer?.step ?? null) : null,
  };
}

/**
 * After a restart: waits for the first checkpoint the new epoch writes and checks that its optimizer step went
 * past the resumed one (a learner that silently started a fresh optimizer would count from 0 again).
 */
export async function watchOptimizerAdvance(runDir: string, rec: RestartRecord, stop: () => boolean): Promise<void> {
  const store = new CheckpointStore(join(runDir, 'checkpoints'));
  for (;;) {
    const last = stop(); // one more look after the process exited: it may have checkpointed just before
    // The process's epoch, once it has logged its resume.
    const epoch = readLearnerLog(join(runDir, 'logs', 'learner.log')).resumes.find(
      (x) => x.pid === rec.pid,
    )?.learnerEpoch;
    for (const step of epoch === undefined ? [] : (await store.steps()).reverse()) {
      const v = await store.verify(step).catch(() => null);
      if (!v?.ok || Number(v.manifest.meta.learnerEpoch) !== epoch) continue;
      if (rec.expectedVersion !== null && step <= rec.expectedVersion) continue;
      const s = parseModel(v.files).optimizer?.step ?? null;
      rec.optimizerAdvanced = s !== null && rec.expectedOptimizerStep !== null && s > rec.expectedOptimizerStep;
      return;
    }
    if (last) return;
    await sleep(1000);
  }
}
