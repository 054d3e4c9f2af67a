/**
 * Durable, append-only ledger of committed trial records: the learner's exactly-once memory.
 *
 * - **Group commit.** Appends made while a write+fdatasync is in flight join the next batch; one fdatasync covers
 *   the whole batch, and every `append` promise resolves only after the fdatasync that covers it. Ack after that.
 * - **Exactly-once.** Records are keyed by (runId, actorId, incarnation, seq). Re-appending a committed key with
 *   the same bytes returns `duplicate` (not stored twice); with different bytes, `conflict` (first copy kept).
 *   A duplicate of a record still in flight waits for that record's commit, so `duplicate` also means durable.
 * - **Restart.** Dedup state is rebuilt on open from the compaction index (ledger-index.ts) plus a scan of the
 *   segments it does not cover. Every entry carries its length and a CRC-32 trailer; a torn tail (crash
 *   mid-append) in the last segment is detected and truncated, and damage in an older segment is an error (never
 *   silently accepted or dropped).
 * - **Retention.** `compact(horizon)` covers the full segments before `horizon` (records every kept checkpoint
 *   has trained or holds) with the index, so start-up no longer reads them, and deletes covered segments beyond
 *   the newest `keepCovered` (`ledger.retention`: 'all' keeps every segment for replay and audit).
 *
 * Entry layout (little-endian): magic u32 | entryLen u32 | keyLen u16 | 0 u16 | sha256(payload) [32] |
 * key (JSON [runId, actorId, incarnation, seq]) | payload | crc32(all preceding bytes of the entry) u32.
 * Offsets are logical byte positions across segments; segment files are named by their first offset.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { copyFile, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { basename, join } from 'node:path';
import { LIMITS, TrialKeySchema, type CommittedMark, type TrialKey } from '../proto/messages.js';
import { withDeadline } from '../shared/deadline.js';
import { LamerError, badInput } from '../shared/errors.js';
import { atomicWrite, fsyncDir, fsyncDirSync, isTempName } from '../shared/fsutil.js';
import {
  type CoveredStream,
  INDEX_FILE,
  type LedgerIndexState,
  coverKey,
  covers,
  readIndex,
  serializeIndex,
  streamId,
} from './ledger-index.js';
import { DirLock, type DirLockOptions, lockHolder } from './dir-lock.js';

const MAGIC = 0x314c4d4c; // 'LML1'
const HEADER = 44;
const TRAILER = 4;
const SEGMENT_RE = /^seg-(\d{20})\.log$/;

export interface LedgerOptions {
  /** Roll to a new segment file once the current one reaches this size (default 256 MiB). */
  segmentBytes?: number;
  /** Reject keys whose seq is more than this far above the stream's contiguous watermark (default 65,536). */
  maxSeqAhead?: number;
  /** Extra wait before writing a batch, to gather more appends per fdatasync (default 0: natural batching). */
  groupCommitMs?: number;
  /**
   * Deadline of one fdatasync in ms (default 0: none). Past it the ledger fails (every pending and later append
   * rejects with the reason): a stuck disk must not hold acks forever.
   */
  syncTimeoutMs?: number;
  /** Skip fdatasync (tests of non-durability concerns only; the contract assumes it is on). */
  fsync?: boolean;
  /** Called once when a torn tail was truncated on open. */
  onRecovery?: (info: RecoveryReport) => void;
  /**
   * Move covered segments beyond retention here instead of deleting them (an archive outside the run directory:
   * the run's disk stays bounded and every record stays readable, e.g. by `lamer soak`'s checker).
   */
  archiveDir?: string;
  /** Test hook: called after each durable step of a compaction (a crash test exits the process here). */
  onCompactionStep?: (step: 'index-written' | 'segment-deleted') => void;
  /** The directory lock's timings (learner/dir-lock.ts; tests shorten them). */
  lock?: DirLockOptions;
}

export interface CompactionResult {
  /** Segments newly covered by the index. */
  covered: number;
  /** Covered segment files deleted. */
  deleted: number;
  /** Logical offset up to which the index now covers. */
  coveredTo: number;
}

export interface RecoveryReport {
  segment: string;
  /** Logical offset where the valid data ends. */
  offset: number;
  truncatedBytes: number;
  reason: string;
}

export type AppendResult =
  | { status: 'committed'; offset: number }
  | { status: 'duplicate' }
  | { status: 'conflict' }
  | { status: 'rejected'; reason: string };

export interface LedgerRecord {
  offset: number;
  nextOffset: number;
  key: TrialKey;
  /** sha256 of `bytes`, hex. */
  sha256: string;
  /** The payload exactly as appended (for trials: the encoded wire message). */
  bytes: Uint8Array;
}

export interface LedgerStats {
  entries: number;
  offset: number;
  segments: number;
  batches: number;
  fsyncs: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  maxBatch: number;
  /** Total wall time spent in batch writes and in fdatasync (ms). */
  writeMs: number;
  syncMs: number;
  /** Records before this offset are covered by the compaction index (not read at start-up). */
  coveredTo: number;
  /** Segment files that the index covers and that are still on disk. */
  coveredSegments: number;
  /** Bytes of all segment files on disk. */
  bytes: number;
}

/** A committed key whose hash is no longer kept (covered by the index): a re-send is a `duplicate`. */
const KNOWN: [number, number] = [0, 1];

/**
 * Committed seqs of one (runId, actorId, incarnation): 8-byte hash prefixes indexed by seq - base (0 = absent).
 * Seqs the index covers (below `base`, or in `covered`) are committed without a hash.
 */
class Stream {
  hashes = new Uint32Array(32);
  /** hashes[0] is seq `base`; every seq below it is covered. */
  base = 0;
  covered: CoveredStream | undefined;
  /** Every seq < contiguous is committed. */
  contiguous = 0;
  maxSeq = -1;
  lastUse = 0;
  constructor(
    readonly runId: string,
    readonly actorId: string,
    readonly incarnation: string,
  ) {}

  get(seq: number): [number, number] | null {
    if (seq < this.base || (this.covered && covers(this.covered, seq))) return KNOWN;
    if (seq > this.maxSeq) return null;
    const i = 2 * (seq - this.base);
    const hi = this.hashes[i],
      lo = this.hashes[i + 1];
    return hi === 0 && lo === 0 ? null : [hi, lo];
  }

  set(seq: number, h: [number, number]): void {
    if (seq < this.base) return;
    const i = 2 * (seq - this.base);
    if (i + 1 >= this.hashes.length) {
      let n = this.hashes.length;
      while (i + 1 >= n) n *= 2;
      const grown = new Uint32Array(n);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[i] = h[0];
    this.hashes[i + 1] = h[1];
    if (seq > this.maxSeq) this.maxSeq = seq;
    this.advance();
  }

  /** Attaches the index's view of this stream and drops the hashes it makes unnecessary (bounded memory). */
  cover(c: CoveredStream): void {
    this.covered = c;
    for (const s of c.extra) if (s > this.maxSeq) this.maxSeq = s;
    if (c.below - 1 > this.maxSeq) this.maxSeq = c.below - 1;
    if (c.below > this.base) {
      const drop = Math.min(2 * (c.below - this.base), this.hashes.length);
      this.hashes = this.hashes.slice(drop);
      if (this.hashes.length < 32) {
        const grown = new Uint32Array(32);
        grown.set(this.hashes);
        this.hashes = grown;
      }
      this.base = c.below;
    }
    this.advance();
  }

  private advance(): void {
    if (this.contiguous < this.base) this.contiguous = this.base;
    while (this.get(this.contiguous) !== null) this.contiguous++;
  }

  /** The welcome's view of this stream; seqs beyond the wire cap are left out (the actor resends them: duplicate). */
  mark(): CommittedMark {
    const seqs: number[] = [];
    for (let s = this.contiguous + 1; s <= this.maxSeq && seqs.length < LIMITS.committedSeqs; s++)
      if (this.get(s)) seqs.push(s);
    return { incarnation: this.incarnation, upTo: this.contiguous - 1, seqs };
  }
}

/** First 8 bytes of a sha256 as two non-zero-tagged words (0,0 means "absent" in a Stream). */
function prefix(hash: Uint8Array): [number, number] {
  const hi = ((hash[0] << 24) | (hash[1] << 16) | (hash[2] << 8) | hash[3]) >>> 0;
  const lo = ((hash[4] << 24) | (hash[5] << 16) | (hash[6] << 8) | hash[7]) >>> 0;
  return [(hi | 0x80000000) >>> 0, lo]; // top bit forced on: never (0,0); same transform on both sides
}

interface Pending {
  key: TrialKey;
  stream: Stream;
  hash: [number, number];
  parts: Uint8Array[];
  size: number;
  offset: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function segmentName(start: number): string {
  return `seg-${String(start).padStart(20, '0')}.log`;
}

/**
 * The entry as [header, payload, trailer] parts, so the payload is written straight from the caller's buffer
 * (no copy of 50 KB records); the CRC runs over header then payload.
 */
function encodeEntry(key: TrialKey, payload: Uint8Array, hash: Buffer): Uint8Array[] {
  const keyBytes = Buffer.from(JSON.stringify([key.runId, key.actorId, key.incarnation, key.seq]), 'utf8');
  const len = HEADER + keyBytes.byteLength + payload.byteLength + TRAILER;
  const head = Buffer.allocUnsafe(HEADER + keyBytes.byteLength);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(len, 4);
  head.writeUInt16LE(keyBytes.byteLength, 8);
  head.writeUInt16LE(0, 10);
  hash.copy(head, 12);
  keyBytes.copy(head, HEADER);
  const trailer = Buffer.allocUnsafe(TRAILER);
  trailer.writeUInt32LE(crc32(payload, crc32(head)), 0);
  return [head, payload, trailer];
}

type Parsed =
  | { ok: true; len: number; key: TrialKey; hash: Buffer; payload: Buffer }
  | { ok: false; reason: string; needBytes?: number };

/** Parses one entry at `pos` of `buf` (`avail` bytes valid from there on). */
function parseEntry(buf: Buffer, pos: number, avail: number): Parsed {
  if (avail < HEADER) return { ok: false, reason: 'truncated header', needBytes: HEADER };
  if (buf.readUInt32LE(pos) !== MAGIC) return { ok: false, reason: 'bad magic' };
  const len = buf.readUInt32LE(pos + 4);
  const keyLen = buf.readUInt16LE(pos + 8);
  if (len < HEADER + keyLen + TRAILER) return { ok: false, reason: 'bad entry length' };
  if (avail < len) return { ok: false, reason: 'truncated entry', needBytes: len };
  const entry = buf.subarray(pos, pos + len);
  if (crc32(entry.subarray(0, len - TRAILER)) !== entry.readUInt32LE(len - TRAILER))
    return { ok: false, reason: 'crc mismatch' };
  let key: TrialKey;
  try {
    const [runId, actorId, incarnation, seq] = JSON.parse(entry.toString('utf8', HEADER, HEADER + keyLen)) as unknown[];
    key = TrialKeySchema.parse({ runId, actorId, incarnation, seq });
  } catch {
    return { ok: false, reason: 'bad key' };
  }
  return { ok: true, len, key, hash: entry.subarray(12, 44), payload: entry.subarray(HEADER + keyLen, len - TRAILER) };
}

/** Sequential reader of one segment file through a growing window. */
class SegmentReader {
  private buf = Buffer.allocUnsafe(1 << 22);
  private bufStart = 0;
  private bufLen = 0;
  constructor(
    private readonly fd: number,
    private readonly end: number,
  ) {}

  /** Ensures bytes [pos, pos+n) are in the window (or as many as exist before `end`); returns the available count. */
  window(pos: number, n: number): { buf: Buffer; at: number; avail: number } {
    const want = Math.min(n, this.end - pos);
    if (pos < this.bufStart || pos + want > this.bufStart + this.bufLen) {
      const size = Math.max(want, 1 << 22);
      if (this.buf.byteLength < size) this.buf = Buffer.allocUnsafe(size);
      const toRead = Math.min(this.buf.byteLength, this.end - pos);
      let got = 0;
      while (got < toRead) {
        const r = readSync(this.fd, this.buf, got, toRead - got, pos + got);
        if (r === 0) break;
        got += r;
      }
      this.bufStart = pos;
      this.bufLen = got;
    }
    return { buf: this.buf, at: pos - this.bufStart, avail: this.bufStart + this.bufLen - pos };
  }
}

/** Scans entries of one segment from `from` to `end`; stops at the first invalid entry. */
function* scanSegment(fd: number, end: number, from = 0): Generator<{ pos: number; entry: Parsed }> {
  const reader = new SegmentReader(fd, end);
  let pos = from;
  while (pos < end) {
    let w = reader.window(pos, HEADER);
    let p = parseEntry(w.buf, w.at, w.avail);
    if (!p.ok && p.needBytes && p.needBytes <= end - pos && p.needBytes > w.avail) {
      w = reader.window(pos, p.needBytes);
      p = parseEntry(w.buf, w.at, w.avail);
    }
    yield { pos, entry: p };
    if (!p.ok) return;
    pos += p.len;
  }
}

interface Segment {
  start: number;
  name: string;
  size: number;
  /** Keys stored in this segment (until the index covers it): what compaction folds into the index. */
  keys: Array<[Stream, number]>;
}

/** See the module comment. Create with {@link Ledger.open}. */
export class Ledger {
  private readonly streams = new Map<string, Stream>();
  private readonly actorStreams = new Map<string, Set<Stream>>();
  private readonly pending = new Map<string, Pending>();
  private batch: Pending[] = [];
  private flushing = false;
  private failed: Error | null = null;
  private closed = false;
  private useCounter = 0;
  private writeHandle: FileHandle | null = null;
  private entries = 0;
  /** Logical end of durable data. */
  private durableEnd: number;
  /** Logical end including appended-but-not-yet-durable entries. */
  private tail: number;
  private readonly counters = {
    batches: 0,
    fsyncs: 0,
    duplicates: 0,
    conflicts: 0,
    rejected: 0,
    maxBatch: 0,
    writeMs: 0,
    syncMs: 0,
  };
  private readonly segmentBytes: number;
  private readonly maxSeqAhead: number;
  private readonly groupCommitMs: number;
  private readonly durable: boolean;
  private idle: Promise<void> = Promise.resolve();
  private idleResolve: (() => void) | null = null;
  /** segments[firstLive..] are not covered by the index (scanned on open); earlier ones are covered. */
  private firstLive = 0;
  private compacting: Promise<CompactionResult> | null = null;
  private readonly onCompactionStep: LedgerOptions['onCompactionStep'];
  private readonly archiveDir: string | undefined;
  private readonly syncTimeoutMs: number;
  private lock: DirLock | null = null;

  private constructor(
    readonly dir: string,
    private readonly segments: Segment[],
    private readonly index: LedgerIndexState,
    opts: LedgerOptions,
  ) {
    this.segmentBytes = opts.segmentBytes ?? 256 << 20;
    this.maxSeqAhead = opts.maxSeqAhead ?? 65_536;
    this.groupCommitMs = opts.groupCommitMs ?? 0;
    this.durable = opts.fsync ?? true;
    this.onCompactionStep = opts.onCompactionStep;
    this.archiveDir = opts.archiveDir;
    this.syncTimeoutMs = opts.syncTimeoutMs ?? 0;
    this.entries = index.entries;
    const last = segments[segments.length - 1];
    this.durableEnd = this.tail = last.start + last.size;
  }

  /**
   * Opens (creating if needed) the ledger in `dir`: takes the directory lock, verifies every entry, truncates a
   * torn tail of the last segment (reported via `onRecovery`), and rebuilds the dedup state.
   */
  static async open(dir: string, opts: LedgerOptions = {}): Promise<Ledger> {
    mkdirSync(dir, { recursive: true });
    const lock = await DirLock.acquire(dir, { ...opts.lock, name: 'ledger' });
    try {
      const all = readdirSync(dir);
      // A crash while the index was being replaced leaves its temp file: the old index is still the valid one.
      for (const n of all) if (isTempName(n) && n.startsWith(`.${INDEX_FILE}.`)) unlinkSync(join(dir, n));
      const names = all.filter((n) => SEGMENT_RE.test(n)).sort();
      const segments: Segment[] = names.map((name) => ({
        start: Number(SEGMENT_RE.exec(name)![1]),
        name,
        size: 0,
        keys: [],
      }));
      const index = readIndex(dir);
      if (segments.length === 0) {
        if (index.coveredTo > 0)
          throw new LamerError(
            'RL_ERR_INTERNAL',
            `ledger ${dir}: ${INDEX_FILE} covers up to ${index.coveredTo} but no segment is left`,
          );
        closeSync(openSync(join(dir, segmentName(0)), 'wx'));
        fsyncDirSync(dir);
        segments.push({ start: 0, name: segmentName(0), size: 0, keys: [] });
      }
      const ledger = new Ledger(dir, segments, index, opts);
      ledger.lock = lock;
      ledger.attachIndex();
      ledger.scanAll(opts.onRecovery);
      const last = segments[segments.length - 1];
      ledger.writeHandle = await open(join(dir, last.name), 'r+');
      ledger.durableEnd = ledger.tail = last.start + last.size;
      return ledger;
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  /** Streams of covered keys, and which segments the index covers (those are not read at start-up). */
  private attachIndex(): void {
    for (const c of this.index.streams.values())
      this.streamFor({ runId: c.runId, actorId: c.actorId, incarnation: c.incarnation, seq: 0 }).cover(c);
    if (this.index.coveredTo === 0) {
      if (this.segments[0].start !== 0)
        throw new LamerError(
          'RL_ERR_INTERNAL',
          `ledger ${this.dir}: the first segment ${this.segments[0].name} ` +
            'does not start at 0 and no index covers the records before it',
        );
      return;
    }
    const i = this.segments.findIndex((s) => s.start === this.index.coveredTo);
    if (i < 0)
      throw new LamerError(
        'RL_ERR_INTERNAL',
        `ledger ${this.dir}: ${INDEX_FILE} covers up to ${this.index.coveredTo} ` +
          `but segment ${segmentName(this.index.coveredTo)} is missing`,
      );
    this.firstLive = i;
    for (const seg of this.segments.slice(0, i)) seg.size = statSync(join(this.dir, seg.name)).size;
  }

  private scanAll(onRecovery?: (r: RecoveryReport) => void): void {
    for (let i = this.firstLive; i < this.segments.length; i++) {
      const seg = this.segments[i];
      const isLast = i === this.segments.length - 1;
      if (i > this.firstLive) {
        const prev = this.segments[i - 1];
        if (prev.start + prev.size !== seg.start) {
          throw new LamerError(
            'RL_ERR_INTERNAL',
            `ledger ${this.dir}: segment ${seg.name} does not start ` +
              `where ${prev.name} ends (${prev.start + prev.size})`,
          );
        }
      }
      const path = join(this.dir, seg.name);
      const fd = openSync(path, 'r+');
      try {
        const size = fstatSync(fd).size;
        let valid = 0;
        let bad: string | null = null;
        for (const { pos, entry } of scanSegment(fd, size)) {
          if (!entry.ok) {
            bad = entry.reason;
            valid = pos;
            break;
          }
          const stream = this.streamFor(entry.key);
          stream.set(entry.key.seq, prefix(entry.hash));
          seg.keys.push([stream, entry.key.seq]);
          this.entries++;
          valid = pos + entry.len;
        }
        if (bad !== null) {
          if (!isLast) {
            throw new LamerError(
              'RL_ERR_INTERNAL',
              `ledger ${this.dir}: segment ${seg.name} is damaged at ` +
                `byte ${valid} (${bad}); refusing to drop committed records`,
            );
          }
          // A crash mid-append leaves a partial final entry: cut it off (it was never acked).
          ftruncateSync(fd, valid);
          fsyncSync(fd);
          onRecovery?.({ segment: seg.name, offset: seg.start + valid, truncatedBytes: size - valid, reason: bad });
        }
        seg.size = valid;
      } finally {
        closeSync(fd);
      }
    }
  }

  private streamFor(key: TrialKey): Stream {
    const id = streamId(key.runId, key.actorId, key.incarnation);
    let s = this.streams.get(id);
    if (!s) {
      s = new Stream(key.runId, key.actorId, key.incarnation);
      this.streams.set(id, s);
      const actor = `${key.runId}/${key.actorId}`;
      let set = this.actorStreams.get(actor);
      if (!set) this.actorStreams.set(actor, (set = new Set()));
      set.add(s);
    }
    s.lastUse = ++this.useCounter;
    return s;
  }

  /** Logical offset of the oldest record still on disk (0 unless retention removed segments). */
  get firstOffset(): number {
    return this.segments[0].start;
  }

  /** Logical offset just past the last durable entry (what a checkpoint records as `ledgerOffset`). */
  get offset(): number {
    return this.durableEnd;
  }

  /** Number of durable entries. */
  get size(): number {
    return this.entries;
  }

  /** Whether `key` is durable ('committed'), being written ('pending'), or unknown ('absent'). */
  status(key: TrialKey): 'committed' | 'pending' | 'absent' {
    const id = `${key.runId}/${key.actorId}/${key.incarnation}/${key.seq}`;
    if (this.pending.has(id)) return 'pending';
    const s = this.streams.get(`${key.runId}/${key.actorId}/${key.incarnation}`);
    return s?.get(key.seq) ? 'committed' : 'absent';
  }

  /**
   * What is durable for one actor, for the `welcome` message: up to `limit` most recently used incarnations.
   * Actors resend anything not listed; the ledger then answers `duplicate`, so a short list is only slower.
   */
  committedMarks(runId: string, actorId: string, limit = 64): CommittedMark[] {
    const set = this.actorStreams.get(`${runId}/${actorId}`);
    if (!set) return [];
    return [...set]
      .sort((a, b) => b.lastUse - a.lastUse)
      .slice(0, limit)
      .map((s) => s.mark());
  }

  /**
   * Appends one record (`bytes` is referenced, not copied, until it is written: do not mutate it meanwhile);
   * resolves after the fdatasync that makes it durable (`committed`), or at once if the key
   * is already durable (`duplicate`/`conflict`). Rejects if the ledger failed or is closed; after a write or
   * fsync failure every later append rejects too (never ack without durability) until the ledger is reopened.
   */
  append(key: TrialKey, bytes: Uint8Array): Promise<AppendResult> {
    if (this.failed)
      return Promise.reject(new LamerError('RL_ERR_INTERNAL', `ledger failed earlier: ${this.failed.message}`));
    if (this.closed) return Promise.reject(new LamerError('RL_ERR_INTERNAL', 'ledger is closed'));
    if (!Number.isSafeInteger(key.seq) || key.seq < 0)
      return Promise.resolve({ status: 'rejected', reason: `seq ${key.seq} is not a non-negative integer` });
    const hashBuf = createHash('sha256').update(bytes).digest();
    const hash = prefix(hashBuf);
    const id = `${key.runId}/${key.actorId}/${key.incarnation}/${key.seq}`;
    const inflight = this.pending.get(id);
    if (inflight) {
      return inflight.done.then(() => this.judgeRepeat(inflight.hash, hash));
    }
    const stream = this.streamFor(key);
    const existing = stream.get(key.seq);
    if (existing) return Promise.resolve(this.judgeRepeat(existing, hash));
    if (key.seq >= stream.contiguous + this.maxSeqAhead) {
      this.counters.rejected++;
      return Promise.resolve({
        status: 'rejected',
        reason: `seq ${key.seq} is more than ${this.maxSeqAhead} ahead of the committed watermark ${stream.contiguous}`,
      });
    }
    const parts = encodeEntry(key, bytes, hashBuf);
    const size = parts[0].byteLength + parts[1].byteLength + parts[2].byteLength;
    let resolve!: () => void, reject!: (e: Error) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(() => undefined); // observed through the returned promise
    const p: Pending = { key, stream, hash, parts, size, offset: this.tail, done, resolve, reject };
    this.tail += size;
    this.pending.set(id, p);
    this.batch.push(p);
    this.scheduleFlush();
    return done.then(() => ({ status: 'committed' as const, offset: p.offset }));
  }

  private judgeRepeat(stored: [number, number], incoming: [number, number]): AppendResult {
    if (stored === KNOWN || (stored[0] === incoming[0] && stored[1] === incoming[1])) {
      this.counters.duplicates++;
      return { status: 'duplicate' };
    }
    this.counters.conflicts++;
    return { status: 'conflict' };
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    this.idle = new Promise((r) => {
      this.idleResolve = r;
    });
    const start = () => void this.flushLoop();
    if (this.groupCommitMs > 0) setTimeout(start, this.groupCommitMs);
    else setImmediate(start);
  }

  /**
   * Writes batches back to back and overlaps each batch's fdatasync with the write of the next one. A batch is
   * acked only after an fdatasync that *started after its write completed*, so the overlap never acks early.
   */
  private async flushLoop(): Promise<void> {
    let syncing: { batch: Pending[]; end: number; sync: Promise<void> } | null = null;
    try {
      while (!this.failed && (this.batch.length > 0 || syncing)) {
        let written: { batch: Pending[]; end: number } | null = null;
        if (this.batch.length > 0) {
          const batch = this.batch;
          this.batch = [];
          try {
            // Rolling closes the current file: let its in-flight fdatasync finish first.
            if (syncing && this.needsRoll()) {
              await this.complete(syncing);
              syncing = null;
            }
            written = { batch, end: await this.writeBatch(batch) };
          } catch (e) {
            this.fail(e as Error, [...(syncing?.batch ?? []), ...batch]);
            break;
          }
        }
        if (syncing) {
          try {
            await this.complete(syncing);
          } catch (e) {
            this.fail(e as Error, [...syncing.batch, ...(written?.batch ?? [])]);
            break;
          }
        }
        syncing = written && { ...written, sync: this.sync() };
        syncing?.sync.catch(() => undefined); // awaited in the next iteration
      }
    } finally {
      this.flushing = false;
      this.idleResolve?.();
      // Appends that arrived while a failure was being handled are rejected by fail(); otherwise start again.
      if (this.batch.length > 0 && !this.failed) this.scheduleFlush();
    }
  }

  private needsRoll(): boolean {
    return this.segments[this.segments.length - 1].size >= this.segmentBytes;
  }

  /** Writes (not syncs) a batch at the end of the current segment; returns the logical end after it. */
  private async writeBatch(batch: Pending[]): Promise<number> {
    const seg = this.needsRoll() ? await this.roll() : this.segments[this.segments.length - 1];
    let total = 0;
    const bufs: Uint8Array[] = [];
    for (const p of batch) {
      bufs.push(...p.parts);
      total += p.size;
    }
    const t0 = performance.now();
    await writeAllAt(this.writeHandle!, bufs, seg.size);
    this.counters.writeMs += performance.now() - t0;
    seg.size += total;
    this.counters.batches++;
    this.counters.maxBatch = Math.max(this.counters.maxBatch, batch.length);
    return seg.start + seg.size;
  }

  private async sync(): Promise<void> {
    if (!this.durable) return;
    const t0 = performance.now();
    await withDeadline(this.writeHandle!.datasync(), this.syncTimeoutMs, 'ledger fdatasync');
    this.counters.fsyncs++;
    this.counters.syncMs += performance.now() - t0;
  }

  /** Waits for a batch's fdatasync, then publishes it: durable end, dedup state, append promises. */
  private async complete(x: { batch: Pending[]; end: number; sync: Promise<void> }): Promise<void> {
    await x.sync;
    this.durableEnd = x.end;
    // A batch is completed before the next roll, so it lies in the last segment.
    const seg = this.segments[this.segments.length - 1];
    for (const p of x.batch) {
      this.pending.delete(`${p.key.runId}/${p.key.actorId}/${p.key.incarnation}/${p.key.seq}`);
      p.stream.set(p.key.seq, p.hash);
      seg.keys.push([p.stream, p.key.seq]);
      this.entries++;
      p.resolve();
    }
  }

  /** Starts a new segment at the current end; the new file is made durable before anything is written to it. */
  private async roll(): Promise<Segment> {
    const prev = this.segments[this.segments.length - 1];
    const start = prev.start + prev.size;
    const seg: Segment = { start, name: segmentName(start), size: 0, keys: [] };
    const fh = await open(join(this.dir, seg.name), 'wx+');
    if (this.durable) await fsyncDir(this.dir);
    await this.writeHandle?.close();
    this.writeHandle = fh;
    this.segments.push(seg);
    return seg;
  }

  private fail(e: Error, batches: Pending[]): void {
    this.failed = e;
    const err = new LamerError('RL_ERR_INTERNAL', `ledger write failed: ${e.message}`);
    for (const p of [...batches, ...this.batch]) {
      this.pending.delete(`${p.key.runId}/${p.key.actorId}/${p.key.incarnation}/${p.key.seq}`);
      p.reject(err);
    }
    this.batch = [];
  }

  /**
   * Durable records from `fromOffset` (an entry boundary, e.g. a checkpoint's `ledgerOffset`) to the durable end
   * at the time each segment is reached, in append order, CRC-verified.
   */
  async *iterate(fromOffset = 0): AsyncGenerator<LedgerRecord> {
    if (!Number.isSafeInteger(fromOffset) || fromOffset < 0 || fromOffset > this.durableEnd) {
      throw badInput(`ledger offset ${fromOffset} is outside 0..${this.durableEnd}`);
    }
    const oldest = this.segments[0].start;
    if (fromOffset < oldest) {
      throw new LamerError(
        'RL_ERR_INTERNAL',
        `ledger ${this.dir}: records before offset ${oldest} were ` +
          `removed by ledger.retention; cannot read from ${fromOffset}`,
      );
    }
    let first = true;
    for (const seg of [...this.segments]) {
      // Written but not yet fdatasynced bytes are not offered.
      const limit = Math.min(seg.size, this.durableEnd - seg.start);
      if (fromOffset >= seg.start + limit) continue;
      const from = Math.max(0, fromOffset - seg.start);
      const fd = openSync(join(this.dir, seg.name), 'r');
      try {
        for (const { pos, entry } of scanSegment(fd, limit, from)) {
          if (!entry.ok) {
            throw first && pos === from
              ? badInput(`ledger offset ${fromOffset} is not an entry boundary (${entry.reason})`)
              : new LamerError(
                  'RL_ERR_INTERNAL',
                  `ledger ${this.dir}: ${seg.name} damaged at byte ${pos} (${entry.reason})`,
                );
          }
          first = false;
          // Copy out: the reader's window is reused for the next entry.
          const bytes = new Uint8Array(entry.payload.byteLength);
          bytes.set(entry.payload);
          yield {
            offset: seg.start + pos,
            nextOffset: seg.start + pos + entry.len,
            key: entry.key,
            sha256: entry.hash.toString('hex'),
            bytes,
          };
        }
      } finally {
        closeSync(fd);
      }
      first = false;
    }
  }

  stats(): LedgerStats {
    return {
      entries: this.entries,
      offset: this.durableEnd,
      segments: this.segments.length,
      ...this.counters,
      coveredTo: this.index.coveredTo,
      coveredSegments: this.firstLive,
      bytes: this.segments.reduce((n, s) => n + s.size, 0),
    };
  }

  /**
   * Covers every full segment that ends at or before `horizon` with the index (start-up stops reading them),
   * then deletes covered segments beyond the newest `keepCovered` ('all': delete none). `horizon` must be an
   * offset no kept checkpoint will replay from below. Concurrent calls share one compaction.
   */
  compact(horizon: number, keepCovered: number | 'all'): Promise<CompactionResult> {
    if (this.failed)
      return Promise.reject(new LamerError('RL_ERR_INTERNAL', `ledger failed earlier: ${this.failed.message}`));
    if (this.closed) return Promise.reject(new LamerError('RL_ERR_INTERNAL', 'ledger is closed'));
    if (keepCovered !== 'all' && (!Number.isInteger(keepCovered) || keepCovered < 0))
      return Promise.reject(badInput(`keepCovered must be 'all' or an integer >= 0, got ${keepCovered}`));
    this.compacting ??= this.doCompact(horizon, keepCovered).finally(() => {
      this.compacting = null;
    });
    return this.compacting;
  }

  private async doCompact(horizon: number, keepCovered: number | 'all'): Promise<CompactionResult> {
    // Only full (rolled) segments: the last one is still being appended to.
    let upTo = this.firstLive;
    while (upTo < this.segments.length - 1 && this.segments[upTo].start + this.segments[upTo].size <= horizon) upTo++;
    let covered = 0;
    if (upTo > this.firstLive) {
      const touched = new Set<Stream>();
      let entries = 0;
      for (const seg of this.segments.slice(this.firstLive, upTo)) {
        for (const [stream, seq] of seg.keys) {
          stream.covered = coverKey(this.index, stream.runId, stream.actorId, stream.incarnation, seq);
          touched.add(stream);
        }
        entries += seg.keys.length;
      }
      const next = { ...this.index, coveredTo: this.segments[upTo].start, entries: this.index.entries + entries };
      await atomicWrite(join(this.dir, INDEX_FILE), serializeIndex(next), { fsync: this.durable });
      this.onCompactionStep?.('index-written');
      this.index.coveredTo = next.coveredTo;
      this.index.entries = next.entries;
      for (const seg of this.segments.slice(this.firstLive, upTo)) seg.keys = [];
      for (const s of touched) s.cover(s.covered!);
      covered = upTo - this.firstLive;
      this.firstLive = upTo;
    }
    let deleted = 0;
    const keep = keepCovered === 'all' ? Infinity : keepCovered;
    while (this.firstLive > keep) {
      const seg = this.segments.shift()!;
      this.firstLive--;
      if (this.archiveDir) await archiveFile(join(this.dir, seg.name), this.archiveDir);
      else await unlink(join(this.dir, seg.name));
      deleted++;
      this.onCompactionStep?.('segment-deleted');
    }
    if (deleted > 0 && this.durable) await fsyncDir(this.dir);
    return { covered, deleted, coveredTo: this.index.coveredTo };
  }

  /** Waits for in-flight appends to become durable, then closes files and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.idle;
    await this.compacting?.catch(() => undefined);
    await this.writeHandle?.close();
    this.writeHandle = null;
    this.lock?.release();
  }
}

/** Records of one segment file (a closed ledger's, or an archived one), CRC-verified; stops at a torn tail. */
export function* readSegmentFile(path: string): Generator<LedgerRecord> {
  const m = SEGMENT_RE.exec(basename(path));
  if (!m) throw badInput(`${path} is not a ledger segment file`);
  const start = Number(m[1]);
  const fd = openSync(path, 'r');
  try {
    for (const { pos, entry } of scanSegment(fd, fstatSync(fd).size)) {
      if (!entry.ok) return;
      yield {
        offset: start + pos,
        nextOffset: start + pos + entry.len,
        key: entry.key,
        sha256: entry.hash.toString('hex'),
        bytes: Uint8Array.from(entry.payload),
      };
    }
  } finally {
    closeSync(fd);
  }
}

/** Segment file names in a directory, oldest first. */
export function segmentFiles(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => SEGMENT_RE.test(n))
        .sort()
    : [];
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

/** Moves a file into `dir` durably: rename on one filesystem, else copy + fsync + unlink. */
async function archiveFile(path: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const dest = join(dir, basename(path));
  try {
    await rename(path, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await copyFile(path, dest);
    const fh = await open(dest, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await unlink(path);
  }
  await fsyncDir(dir);
}

/** Positional gather-write of all of `bufs`, in slices below IOV_MAX, finishing any short write. */
async function writeAllAt(fh: FileHandle, bufs: Uint8Array[], position: number): Promise<void> {
  const SLICE = 512;
  for (let i = 0; i < bufs.length; i += SLICE) {
    const slice = bufs.slice(i, i + SLICE);
    const want = slice.reduce((n, b) => n + b.byteLength, 0);
    let { bytesWritten } = await fh.writev(slice, position);
    if (bytesWritten < want) {
      // Short write (rare): write the rest from one contiguous copy.
      const rest = Buffer.concat(slice).subarray(bytesWritten);
      for (let off = 0; off < rest.byteLength; ) {
        off += (await fh.write(rest, off, rest.byteLength - off, position + bytesWritten + off)).bytesWritten;
      }
      bytesWritten = want;
    }
    position += want;
  }
}

/** The pid of a live process (this one included) holding the ledger in `dir`, or null (learner/dir-lock.ts). */
export function ledgerLockHolder(dir: string): number | null {
  return lockHolder(dir);
}
