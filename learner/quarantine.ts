/**
 * Ledgered records the trainer cannot use, moved aside: the ledger is append-only and stays as it is, so a record is
 * quarantined by its offset. `<dir>/index.jsonl` holds one fsynced JSON line per record (offset, key, slot, reason,
 * time) and `<dir>/<offset>.msgpack` a copy of its bytes for inspection. A restart reads the index and skips those
 * offsets, so an unusable record is met once, not at every start.
 *
 * Ingest rejects such records at the door (proto/messages.ts `validateTrial` with the model shape); this is the
 * second line, for records committed by an older learner or a check that missed something.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TrialKey } from '../proto/messages.js';
import { atomicWrite, fsyncDirSync } from '../shared/fsutil.js';

export interface QuarantineEntry {
  offset: number;
  key: TrialKey | null;
  groupId: string | null;
  trialIndex: number | null;
  reason: string;
  at: string;
}

export class Quarantine {
  private readonly offsets = new Set<number>();

  private constructor(readonly dir: string) {}

  /** Opens (creating) the quarantine in `dir` and reads its index; lines that do not parse are ignored. */
  static open(dir: string): Quarantine {
    const q = new Quarantine(dir);
    const index = join(dir, 'index.jsonl');
    if (existsSync(index)) {
      for (const line of readFileSync(index, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const offset = (JSON.parse(line) as { offset?: unknown }).offset;
          if (typeof offset === 'number' && Number.isSafeInteger(offset)) q.offsets.add(offset);
        } catch {
          /* a torn last line (crash mid-append): that record is quarantined again when met */
        }
      }
    }
    return q;
  }

  /** Records quarantined so far (this process and earlier ones). */
  get size(): number {
    return this.offsets.size;
  }

  has(offset: number): boolean {
    return this.offsets.has(offset);
  }

  /** Moves the record at `offset` aside with its reason; durable before it returns. Idempotent per offset. */
  async add(e: Omit<QuarantineEntry, 'at'>, bytes: Uint8Array | null): Promise<void> {
    if (this.offsets.has(e.offset)) return;
    mkdirSync(this.dir, { recursive: true });
    if (bytes) await atomicWrite(join(this.dir, `${e.offset}.msgpack`), bytes);
    const line = JSON.stringify({ ...e, reason: e.reason.slice(0, 1000), at: new Date().toISOString() }) + '\n';
    const fd = openSync(join(this.dir, 'index.jsonl'), 'a');
    try {
      writeSync(fd, line);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    fsyncDirSync(this.dir);
    this.offsets.add(e.offset);
  }
}
