/**
 * Durable file primitives. A rename is atomic on POSIX but only durable once the parent directory is fsynced,
 * so every helper here that renames also fsyncs the directory (docs/design.md §8.3).
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Node refuses single writes above 2^31-1 bytes; stay well under it. */
const MAX_WRITE = 1 << 30;

export type FileData = string | Uint8Array | Iterable<Uint8Array>;

export interface AtomicWriteOptions {
  /** fsync the file and its directory (default true). Off only for data whose loss is harmless. */
  fsync?: boolean;
}

function* chunksOf(data: FileData): Iterable<Uint8Array> {
  const parts: Iterable<Uint8Array> =
    typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  for (const part of parts) {
    for (let off = 0; off < part.byteLength; off += MAX_WRITE) {
      yield part.subarray(off, Math.min(part.byteLength, off + MAX_WRITE));
    }
  }
}

/** Temp names live next to the target (same filesystem, so rename is atomic) and are recognisable for cleanup. */
export function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** True for names produced by {@link tempPathFor} (leftovers of a crash mid-write). */
export function isTempName(name: string): boolean {
  return /^\..+\.tmp-\d+-[0-9a-f]{8}$/.test(name);
}

/** fsync a directory so renames/creations/unlinks inside it survive a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Synchronous {@link fsyncDir}. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` to `file` so that a crash at any moment leaves either the old content or the new one, never a
 * torn file: write a temp file, fsync it, rename over the target, fsync the directory.
 */
export async function atomicWrite(file: string, data: FileData, opts: AtomicWriteOptions = {}): Promise<void> {
  const durable = opts.fsync ?? true;
  const tmp = tempPathFor(file);
  const fh = await open(tmp, 'wx');
  try {
    try {
      for (const chunk of chunksOf(data)) {
        let off = 0;
        while (off < chunk.byteLength) off += (await fh.write(chunk, off, chunk.byteLength - off)).bytesWritten;
      }
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  if (durable) await fsyncDir(dirname(file));
}

/** Synchronous {@link atomicWrite}. */
export function atomicWriteSync(file: string, data: FileData, opts: AtomicWriteOptions = {}): void {
  const durable = opts.fsync ?? true;
  const tmp = tempPathFor(file);
  const fd = openSync(tmp, 'wx');
  try {
    try {
      for (const chunk of chunksOf(data)) {
        let off = 0;
        while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off);
      }
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  if (durable) fsyncDirSync(dirname(file));
}
