/**
 * The ledger's compaction index (`INDEX.json`): the exactly-once memory of every record in the segments before
 * `coveredTo`, so that start-up scans only the segments after it and covered segments may be deleted.
 *
 * Per stream (runId, actorId, incarnation) it keeps a high-water mark `below` (every seq < below is committed)
 * and the few committed seqs above it (`extra`, the gaps an out-of-order outbox leaves). That is O(streams), not
 * O(records): start-up cost no longer grows with the run's age. The price: a re-sent covered key is answered
 * `duplicate` without comparing bytes (its hash is not kept), so a conflicting copy of a covered key is not
 * detected; it was trained into a checkpointed policy already.
 *
 * Crash safety: the index is replaced atomically (temp file, fsync, rename, directory fsync) BEFORE any covered
 * segment is deleted, and segments are deleted oldest first; a crash at any step leaves the old index with all
 * its segments, or the new index with some covered segments still present (ignored on open, deleted next time).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LamerError } from '../shared/errors.js';

export const INDEX_FILE = 'INDEX.json';
const FORMAT = 1;

/** Keys of covered records of one stream. */
export interface CoveredStream {
  runId: string;
  actorId: string;
  incarnation: string;
  /** Every seq below this is committed. */
  below: number;
  /** Committed seqs >= below. */
  extra: Set<number>;
}

const IndexSchema = z.strictObject({
  format: z.literal(FORMAT),
  coveredTo: z.number().int().min(0),
  entries: z.number().int().min(0),
  streams: z.array(
    z.tuple([z.string(), z.string(), z.string(), z.number().int().min(0), z.array(z.number().int().min(0))]),
  ),
});

export interface LedgerIndexState {
  /** Logical offset (a segment start) up to which records are covered. */
  coveredTo: number;
  /** Entries before coveredTo. */
  entries: number;
  streams: Map<string, CoveredStream>;
}

export const streamId = (runId: string, actorId: string, incarnation: string): string =>
  `${runId}/${actorId}/${incarnation}`;

export function emptyIndex(): LedgerIndexState {
  return { coveredTo: 0, entries: 0, streams: new Map() };
}

/** Reads `INDEX.json` of a ledger directory (absent: nothing covered); a damaged index is an error, never ignored. */
export function readIndex(dir: string): LedgerIndexState {
  const path = join(dir, INDEX_FILE);
  if (!existsSync(path)) return emptyIndex();
  let parsed: z.infer<typeof IndexSchema>;
  try {
    parsed = IndexSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new LamerError(
      'RL_ERR_INTERNAL',
      `ledger ${dir}: ${INDEX_FILE} is unreadable (${(e as Error).message}); refusing to forget committed keys`,
    );
  }
  const streams = new Map<string, CoveredStream>();
  for (const [runId, actorId, incarnation, below, extra] of parsed.streams) {
    streams.set(streamId(runId, actorId, incarnation), { runId, actorId, incarnation, below, extra: new Set(extra) });
  }
  return { coveredTo: parsed.coveredTo, entries: parsed.entries, streams };
}

export function serializeIndex(s: LedgerIndexState): string {
  const streams = [...s.streams.values()].map((c) => [
    c.runId,
    c.actorId,
    c.incarnation,
    c.below,
    [...c.extra].sort((a, b) => a - b),
  ]);
  return JSON.stringify({ format: FORMAT, coveredTo: s.coveredTo, entries: s.entries, streams }) + '\n';
}

/** Adds one covered key, keeping `extra` minimal (seqs that close the gap move into `below`). */
export function coverKey(
  s: LedgerIndexState,
  runId: string,
  actorId: string,
  incarnation: string,
  seq: number,
): CoveredStream {
  const id = streamId(runId, actorId, incarnation);
  let c = s.streams.get(id);
  if (!c) s.streams.set(id, (c = { runId, actorId, incarnation, below: 0, extra: new Set() }));
  if (seq >= c.below) c.extra.add(seq);
  while (c.extra.delete(c.below)) c.below++;
  return c;
}

/** Whether a covered stream holds `seq`. */
export function covers(c: CoveredStream | undefined, seq: number): boolean {
  return c !== undefined && (seq < c.below || c.extra.has(seq));
}
