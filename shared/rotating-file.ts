/**
 * Size-bounded files for processes that run for days: when the current file reaches `maxBytes` it is renamed to
 * `<file>.1` (older pieces shift to `.2` … `.<keep>`, the oldest is deleted) and a new `<file>` is started. The
 * current file keeps its name, so `tail -f` and every reader of `<file>` keep working; readers that need the
 * whole history read {@link rotatedPieces}. Disk use is bounded by (keep + 1) x maxBytes.
 */
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { pino } from 'pino';

export interface RotationOptions {
  /** Rotate once the current file reaches this size (0 = never rotate). */
  maxBytes: number;
  /** Rotated pieces kept besides the current file. */
  keep: number;
}

/** Existing pieces of a rotated file, oldest first (`<file>.<keep>` … `<file>.1`, `<file>`). */
export function rotatedPieces(file: string): string[] {
  const out: string[] = [];
  for (let i = 1; existsSync(`${file}.${i}`); i++) out.unshift(`${file}.${i}`);
  if (existsSync(file)) out.push(file);
  return out;
}

/**
 * Copies rotated pieces of `file` not yet copied into `dir` as `<name>.<seq>` (seq counts up, oldest first), so a
 * harness that must read a process's whole log (the soak's checker) can let the run keep only a few pieces.
 * A rotated piece never changes, so (inode, size, mtime) names it; `seen` carries those across calls.
 * Call it more often than `keep` rotations happen.
 */
export function archiveRotatedPieces(file: string, dir: string, seen: Set<string>): number {
  mkdirSync(dir, { recursive: true });
  let copied = 0;
  for (const piece of rotatedPieces(file).filter((p) => p !== file)) {
    const st = statSync(piece);
    const id = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (seen.has(id)) continue;
    seen.add(id);
    copyFileSync(piece, join(dir, `${basename(file)}.${String(seen.size).padStart(6, '0')}`));
    copied++;
  }
  return copied;
}

/** `file`'s whole history: the pieces {@link archiveRotatedPieces} copied to `dir`, oldest first, then `file`. */
export function archivedPieces(file: string, dir: string): string[] {
  const name = basename(file);
  const archived = existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => n.startsWith(`${name}.`))
        .sort()
        .map((n) => join(dir, n))
    : [];
  return existsSync(file) ? [...archived, file] : archived;
}

/** Shifts `<file>` to `<file>.1` (and older pieces up by one), deleting what falls beyond `keep`. */
export function rotateNow(file: string, keep: number): void {
  for (let i = keep; existsSync(`${file}.${i}`); i++) unlinkSync(`${file}.${i}`);
  for (let i = keep - 1; i >= 1; i--) if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
  if (keep >= 1 && existsSync(file)) renameSync(file, `${file}.1`);
  else if (existsSync(file)) unlinkSync(file);
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * An append-only text file (metrics.csv, metrics.jsonl) rotated like the logs. Each piece starts with `header`
 * (if any), so every piece can be read on its own. Appends are synchronous: a line written survives a SIGKILL.
 */
export class RotatingAppender {
  private size: number;

  constructor(
    readonly file: string,
    private readonly o: RotationOptions,
    private readonly header = '',
  ) {
    if (!existsSync(file)) writeFileSync(file, header);
    this.size = sizeOf(file);
  }

  append(text: string): void {
    if (!text) return;
    appendFileSync(this.file, text);
    this.size += Buffer.byteLength(text);
    if (this.o.maxBytes > 0 && this.size >= this.o.maxBytes) {
      rotateNow(this.file, this.o.keep);
      writeFileSync(this.file, this.header);
      this.size = Buffer.byteLength(this.header);
    }
  }
}

/**
 * A pino destination writing synchronously (lines survive a SIGKILL, which the chaos checker relies on) to a
 * size-rotated file.
 */
export class RotatingLogStream {
  private readonly boom: ReturnType<typeof pino.destination>;
  private size: number;

  constructor(
    readonly file: string,
    private readonly o: RotationOptions,
  ) {
    this.size = sizeOf(file);
    this.boom = pino.destination({ dest: file, sync: true, append: true, mkdir: true });
  }

  write(chunk: string): boolean {
    const ok = this.boom.write(chunk);
    this.size += Buffer.byteLength(chunk);
    if (this.o.maxBytes > 0 && this.size >= this.o.maxBytes) {
      rotateNow(this.file, this.o.keep);
      this.boom.reopen();
      this.size = 0;
    }
    return ok;
  }

  flushSync(): void {
    this.boom.flushSync();
  }

  end(): void {
    this.boom.end();
  }
}
