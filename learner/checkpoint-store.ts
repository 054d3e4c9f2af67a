/**
 * Crash-safe checkpoints (docs/design.md §8.3): one directory per checkpoint, `ckpt-<step:012d>/`, holding the
 * files the learner hands over (model engine's serialized tensors, optimizer state, state.json, ...) and a
 * `MANIFEST.json` with the sha256 and size of each file. A checkpoint without a valid manifest does not exist.
 *
 * Save: files are written and fsynced into `ckpt-<step>.partial-<pid>/`, MANIFEST.json is written last, the
 * directory is fsynced and renamed into place, and the parent is fsynced; only then are checkpoints beyond the
 * newest `keep` (and any numbered above the new one) removed. A crash at any point leaves the previous
 * checkpoints intact.
 *
 * Load: the newest checkpoint whose every file matches its manifest wins; corrupt ones are skipped with the
 * reason reported. No checkpoint directory at all -> null (fresh start). Checkpoint directories exist but none
 * is valid -> throw: never start from scratch silently (only an explicit `--fresh` may do that).
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LamerError, badInput } from '../shared/errors.js';
import { atomicWrite, fsyncDir } from '../shared/fsutil.js';

export const MANIFEST = 'MANIFEST.json';
const FORMAT_VERSION = 1;
const CKPT_RE = /^ckpt-(\d{12})$/;
const PARTIAL_RE = /^ckpt-\d{12}\.(partial|old)-\d+$/;
const FILE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const MAX_WRITE = 1 << 30;
/**
 * Test hook (`lamer chaos`): pause this many ms after each file of a save, so a crash can be injected mid-write
 * reliably (tiny checkpoints are otherwise written in well under a millisecond). Unset in normal runs.
 */
const DEBUG_DELAY_ENV = 'LAMER_DEBUG_CHECKPOINT_DELAY_MS';

export interface CheckpointManifest {
  formatVersion: number;
  step: number;
  createdAt: string;
  files: Record<string, { bytes: number; sha256: string }>;
  /** Learner state the caller wants next to the files (policyVersion, learnerEpoch, ledgerOffset, ...). */
  meta: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  step: number;
  dir: string;
  files: Map<string, Uint8Array>;
  meta: Record<string, unknown>;
  /** Newer checkpoints that were passed over, newest first, with the reason. */
  skipped: Array<{ dir: string; reason: string }>;
}

export interface CheckpointStoreOptions {
  /** Checkpoints kept after a successful save (default 3, minimum 1). */
  keep?: number;
}

function ckptName(step: number): string {
  return `ckpt-${String(step).padStart(12, '0')}`;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function writeDurable(path: string, data: Uint8Array): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    for (let off = 0; off < data.byteLength; ) {
      off += (await fh.write(data, off, Math.min(MAX_WRITE, data.byteLength - off))).bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** See the module comment. */
export class CheckpointStore {
  readonly keep: number;

  constructor(
    readonly dir: string,
    opts: CheckpointStoreOptions = {},
  ) {
    const keep = opts.keep ?? 3;
    if (!Number.isInteger(keep) || keep < 1) throw badInput(`checkpoint keep must be an integer >= 1, got ${keep}`);
    this.keep = keep;
  }

  /** Steps of the checkpoint directories present (valid or not), ascending. */
  async steps(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names
      .map((n) => CKPT_RE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  /**
   * Writes checkpoint `step` durably (see the module comment) and prunes older ones beyond `keep`.
   * Re-saving an existing step replaces it atomically. Returns the checkpoint directory.
   */
  async save(step: number, files: Map<string, Uint8Array>, meta: Record<string, unknown> = {}): Promise<string> {
    if (!Number.isSafeInteger(step) || step < 0 || step >= 1e12)
      throw badInput(`checkpoint step must be an integer in 0..1e12, got ${step}`);
    for (const name of files.keys()) {
      if (!FILE_RE.test(name) || name === MANIFEST) throw badInput(`invalid checkpoint file name '${name}'`);
    }
    await mkdir(this.dir, { recursive: true });
    await this.removeLeftovers();
    const final = join(this.dir, ckptName(step));
    const partial = `${final}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial);
    const manifest: CheckpointManifest = {
      formatVersion: FORMAT_VERSION,
      step,
      createdAt: new Date().toISOString(),
      files: {},
      meta,
    };
    const debugDelayMs = Number(process.env[DEBUG_DELAY_ENV] ?? 0);
    const pause = () => (debugDelayMs > 0 ? new Promise((r) => setTimeout(r, debugDelayMs)) : undefined);
    try {
      for (const [name, data] of files) {
        await writeDurable(join(partial, name), data);
        manifest.files[name] = { bytes: data.byteLength, sha256: sha256(data) };
        await pause();
      }
      await atomicWrite(join(partial, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
      await fsyncDir(partial);
      await pause();
      let displaced: string | null = null;
      if (await exists(final)) {
        displaced = `${final}.old-${process.pid}`;
        await rename(final, displaced);
      }
      await rename(partial, final);
      await fsyncDir(this.dir);
      if (displaced) await rm(displaced, { recursive: true, force: true });
    } catch (e) {
      await rm(partial, { recursive: true, force: true }).catch(() => undefined);
      throw new LamerError(
        'RL_ERR_CHECKPOINT',
        `checkpoint ${step} could not be saved in ${this.dir}: ${(e as Error).message}`,
      );
    }
    await this.prune(step);
    return final;
  }

  /**
   * Keeps the newest `keep` checkpoints up to `saved`. Directories numbered above `saved` belong to an abandoned
   * timeline (the learner resumed from an older checkpoint because they were corrupt) and are removed too, so a
   * later restart cannot pick them up.
   */
  private async prune(saved: number): Promise<void> {
    const steps = await this.steps();
    const older = steps.filter((s) => s <= saved);
    const doomed = [...older.slice(0, Math.max(0, older.length - this.keep)), ...steps.filter((s) => s > saved)];
    for (const s of doomed) await rm(join(this.dir, ckptName(s)), { recursive: true, force: true });
    if (doomed.length > 0) await fsyncDir(this.dir);
  }

  /** Removes every checkpoint (what `--fresh` does before the first save). */
  async clear(): Promise<void> {
    for (const s of await this.steps()) await rm(join(this.dir, ckptName(s)), { recursive: true, force: true });
    if (await exists(this.dir)) {
      await this.removeLeftovers();
      await fsyncDir(this.dir);
    }
  }

  /** Partial/displaced directories from a crash mid-save are never valid; clear them. */
  private async removeLeftovers(): Promise<void> {
    for (const n of await readdir(this.dir)) {
      if (PARTIAL_RE.test(n)) await rm(join(this.dir, n), { recursive: true, force: true });
    }
  }

  /**
   * The `meta` of every checkpoint's manifest (unverified: a cheap read of small files, for the ledger's
   * retention horizon); a checkpoint whose manifest is unreadable yields `null` meta.
   */
  async metas(): Promise<Array<{ step: number; meta: Record<string, unknown> | null }>> {
    const out: Array<{ step: number; meta: Record<string, unknown> | null }> = [];
    for (const step of await this.steps()) {
      try {
        const m = JSON.parse(await readFile(join(this.dir, ckptName(step), MANIFEST), 'utf8')) as CheckpointManifest;
        out.push({ step, meta: typeof m?.meta === 'object' && m.meta !== null ? m.meta : null });
      } catch {
        out.push({ step, meta: null });
      }
    }
    return out;
  }

  /** Verifies one checkpoint directory; returns its contents or the reason it is invalid. */
  async verify(
    step: number,
  ): Promise<
    { ok: true; files: Map<string, Uint8Array>; manifest: CheckpointManifest } | { ok: false; reason: string }
  > {
    const dir = join(this.dir, ckptName(step));
    let manifest: CheckpointManifest;
    try {
      manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as CheckpointManifest;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return {
        ok: false,
        reason: code === 'ENOENT' ? `${MANIFEST} missing` : `${MANIFEST} unreadable: ${code ?? (e as Error).message}`,
      };
    }
    if (typeof manifest !== 'object' || manifest === null || manifest.formatVersion !== FORMAT_VERSION) {
      return { ok: false, reason: `${MANIFEST} has an unsupported format version` };
    }
    if (manifest.step !== step) return { ok: false, reason: `${MANIFEST} is for step ${manifest.step}, not ${step}` };
    if (typeof manifest.files !== 'object' || manifest.files === null)
      return { ok: false, reason: `${MANIFEST} lists no files` };
    const files = new Map<string, Uint8Array>();
    for (const [name, want] of Object.entries(manifest.files)) {
      if (!FILE_RE.test(name)) return { ok: false, reason: `${MANIFEST} names an invalid file '${name}'` };
      let data: Buffer;
      try {
        data = await readFile(join(dir, name));
      } catch (e) {
        return { ok: false, reason: `file ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
      }
      if (data.byteLength !== want.bytes)
        return { ok: false, reason: `file ${name}: ${data.byteLength} bytes, manifest says ${want.bytes}` };
      if (sha256(data) !== want.sha256) return { ok: false, reason: `file ${name}: sha256 mismatch` };
      files.set(name, data);
    }
    return { ok: true, files, manifest };
  }

  /**
   * Loads the newest valid checkpoint (see the module comment). Returns null only if no checkpoint directory
   * exists; throws RL_ERR_CHECKPOINT listing every reason if directories exist but none is valid.
   */
  async loadLatest(): Promise<LoadedCheckpoint | null> {
    const steps = (await this.steps()).reverse();
    if (steps.length === 0) return null;
    const skipped: Array<{ dir: string; reason: string }> = [];
    for (const step of steps) {
      const v = await this.verify(step);
      const dir = join(this.dir, ckptName(step));
      if (v.ok) return { step, dir, files: v.files, meta: v.manifest.meta ?? {}, skipped };
      skipped.push({ dir, reason: v.reason });
    }
    throw new LamerError(
      'RL_ERR_CHECKPOINT',
      `no valid checkpoint in ${this.dir} ` +
        `(${skipped.map((s) => `${s.dir}: ${s.reason}`).join('; ')}); use --fresh to start over`,
      { skipped },
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
