/**
 * Size-bounded files for processes that run for days: when the current file reaches `maxBytes` it is renamed to
 * `<file>.1` (older pieces shift to `.2` … `.<keep>`, the oldest is deleted) and a new `<file>` is started. The
 * current file keeps its name, so `tail -f` and every reader of `<file>` keep working; readers that need the
 * whole history read {@link rotatedPieces}. Disk use is bounded by (keep + 1) x maxBytes.
 */
import { existsSync, renameSync, statSync, unlinkSync } from 'node:fs';
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
