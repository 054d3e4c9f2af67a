/**
 * The actor's outbox: encoded trial records that were completed but not yet acked by the learner. Bounded by
 * entry count and bytes; `push` waits while it is full, which is the backpressure that slows the trial scheduler
 * down when the learner is slow or unreachable.
 *
 * Durable mode (`dir` set): each record is written atomically to `<dir>/<incarnation>-<seq>.msgpack` before
 * it can be sent and deleted after its ack, so an actor that is SIGKILLed and restarted resends its
 * completed-but-unacked trials under their ORIGINAL keys (the learner then commits each exactly once).
 */
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeTrial } from '../proto/codec.js';
import { trialKeyString, type TrialKey } from '../proto/messages.js';
import { badInput } from '../shared/errors.js';
import { atomicWrite, isTempName } from '../shared/fsutil.js';

export interface OutboxOptions {
  /** Directory for durable mode; omit for an in-memory outbox. */
  dir?: string;
  /** Max records held (default 256). */
  maxEntries?: number;
  /** Max bytes held (default 64 MiB). A single record larger than this is refused. */
  maxBytes?: number;
  /** fsync each record file (default true in durable mode). */
  fsync?: boolean;
}

export interface OutboxEntry {
  key: TrialKey;
  /** `trialKeyString(key)`. */
  id: string;
  /** The encoded trial message, sent as-is (resends are byte-identical, so the ledger sees a duplicate). */
  bytes: Uint8Array;
}

/** Files that could not be recovered at open (they are renamed to `*.corrupt`, never resent). */
export interface OutboxRecovery {
  loaded: number;
  corrupt: Array<{ file: string; reason: string }>;
}

const FILE_RE = /^([A-Za-z0-9_-]{1,64})-(\d{16})\.msgpack$/;

function fileName(key: TrialKey): string {
  return `${key.incarnation}-${String(key.seq).padStart(16, '0')}.msgpack`;
}

/** See the module comment. Create with {@link Outbox.open}. */
export class Outbox {
  private readonly items = new Map<string, OutboxEntry>();
  private bytesHeld = 0;
  private waiters: Array<() => void> = [];
  readonly maxEntries: number;
  readonly maxBytes: number;
  private readonly durableWrites: boolean;

  private constructor(
    readonly dir: string | undefined,
    opts: OutboxOptions,
    readonly recovery: OutboxRecovery,
  ) {
    this.maxEntries = opts.maxEntries ?? 256;
    this.maxBytes = opts.maxBytes ?? 64 << 20;
    this.durableWrites = opts.fsync ?? true;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1)
      throw badInput(`outbox maxEntries must be an integer >= 1, got ${this.maxEntries}`);
    if (!Number.isInteger(this.maxBytes) || this.maxBytes < 1)
      throw badInput(`outbox maxBytes must be an integer >= 1, got ${this.maxBytes}`);
  }

  /** Opens an outbox; in durable mode, reloads every record left by a previous process (oldest file name first). */
  static async open(opts: OutboxOptions = {}): Promise<Outbox> {
    const recovery: OutboxRecovery = { loaded: 0, corrupt: [] };
    const box = new Outbox(opts.dir, opts, recovery);
    if (!opts.dir) return box;
    await mkdir(opts.dir, { recursive: true });
    const names = (await readdir(opts.dir)).sort();
    for (const name of names) {
      const path = join(opts.dir, name);
      if (isTempName(name)) {
        await unlink(path).catch(() => undefined); // a write that never completed: the trial was never pushed
        continue;
      }
      if (!FILE_RE.test(name)) continue;
      const bytes = await readFile(path);
      const r = decodeTrial(bytes);
      const reason = !r.ok
        ? r.reason
        : fileName(r.trial.key) !== name
          ? 'file name does not match the record key'
          : null;
      if (reason !== null || !r.ok) {
        recovery.corrupt.push({ file: name, reason: reason ?? 'invalid' });
        await rename(path, `${path}.corrupt`).catch(() => undefined);
        continue;
      }
      box.add({ key: r.trial.key, id: trialKeyString(r.trial.key), bytes });
      recovery.loaded++;
    }
    return box;
  }

  private add(e: OutboxEntry): void {
    this.items.set(e.id, e);
    this.bytesHeld += e.bytes.byteLength;
  }

  /** Records held. */
  get size(): number {
    return this.items.size;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.bytesHeld;
  }

  /** Whether another record of `n` bytes fits now. */
  hasRoom(n: number): boolean {
    return this.items.size < this.maxEntries && (this.bytesHeld + n <= this.maxBytes || this.items.size === 0);
  }

  has(id: string): boolean {
    return this.items.has(id);
  }

  get(id: string): OutboxEntry | undefined {
    return this.items.get(id);
  }

  /** Held records in insertion order. */
  entries(): OutboxEntry[] {
    return [...this.items.values()];
  }

  /** Highest seq held for `incarnation`, or -1 (so a reused incarnation never reuses a key). */
  maxSeq(incarnation: string): number {
    let max = -1;
    for (const e of this.items.values()) if (e.key.incarnation === incarnation && e.key.seq > max) max = e.key.seq;
    return max;
  }

  /**
   * Adds a record, waiting while the outbox is full. In durable mode the record is on disk (fsynced) when this
   * resolves, so it may be sent.
   */
  async push(key: TrialKey, bytes: Uint8Array): Promise<OutboxEntry> {
    if (bytes.byteLength > this.maxBytes)
      throw badInput(`trial record of ${bytes.byteLength} bytes exceeds the outbox limit of ${this.maxBytes}`);
    const id = trialKeyString(key);
    if (this.items.has(id)) throw badInput(`outbox already holds ${id}`);
    while (!this.hasRoom(bytes.byteLength)) await new Promise<void>((resolve) => this.waiters.push(resolve));
    const entry: OutboxEntry = { key, id, bytes };
    // Reserve the room before the (async) write so concurrent pushes cannot overshoot the bounds.
    this.add(entry);
    if (this.dir) {
      try {
        await atomicWrite(join(this.dir, fileName(key)), bytes, { fsync: this.durableWrites });
      } catch (e) {
        this.drop(id);
        throw e;
      }
    }
    return entry;
  }

  private drop(id: string): OutboxEntry | undefined {
    const e = this.items.get(id);
    if (!e) return undefined;
    this.items.delete(id);
    this.bytesHeld -= e.bytes.byteLength;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    return e;
  }

  /**
   * Removes an acked record (and its file). The unlink is not fsynced: if it is lost in a crash, the record is
   * resent and the learner answers `duplicate`.
   */
  async remove(id: string): Promise<boolean> {
    const e = this.drop(id);
    if (!e) return false;
    if (this.dir) await unlink(join(this.dir, fileName(e.key))).catch(() => undefined);
    return true;
  }
}
