/**
 * The actor's durable, append-only record of completed trials (`lamer actor --trial-log FILE`), for external
 * checkers such as `lamer chaos`: one JSON line per event, fsynced before the append resolves.
 *
 * - `{"t":"done", key, groupId, trialIndex, at}` — written once the trial's record is held in the outbox (on disk in
 *   durable mode), i.e. from this line on the actor promises the record reaches the ledger.
 * - `{"t":"ack", key, status, reason?, at}` — the learner's answer (committed, duplicate or rejected).
 *
 * A process killed mid-append leaves at most one torn last line; readers skip lines that do not parse.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Ack, TrialKey } from '../proto/messages.js';

export type TrialLogLine =
  | { t: 'done'; key: TrialKey; groupId: string; trialIndex: number; at: number }
  | { t: 'ack'; key: TrialKey; status: Ack['status']; reason?: string; at: number };

/** See the module comment. */
export class TrialLog {
  private tail: Promise<void> = Promise.resolve();

  private constructor(private readonly fh: FileHandle) {}

  /** Opens (creating if needed) the log for appending; earlier processes' lines are kept. */
  static async open(file: string): Promise<TrialLog> {
    mkdirSync(dirname(file), { recursive: true });
    return new TrialLog(await open(file, 'a'));
  }

  /** The trial's record is held by the outbox under `key`. */
  completed(key: TrialKey, groupId: string, trialIndex: number): Promise<void> {
    return this.append({ t: 'done', key, groupId, trialIndex, at: Date.now() });
  }

  /** The learner acked `key`. */
  acked(a: Ack): Promise<void> {
    return this.append({
      t: 'ack',
      key: a.key,
      status: a.status,
      ...(a.reason ? { reason: a.reason.slice(0, 200) } : {}),
      at: Date.now(),
    });
  }

  private append(line: TrialLogLine): Promise<void> {
    // One write + fsync at a time, in call order, so lines never interleave.
    const next = this.tail.then(async () => {
      await this.fh.write(JSON.stringify(line) + '\n');
      await this.fh.sync();
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.tail;
    await this.fh.close();
  }
}

/** Parses a trial log's text; torn or foreign lines are skipped and counted. */
export function parseTrialLog(text: string): { lines: TrialLogLine[]; skipped: number } {
  const lines: TrialLogLine[] = [];
  let skipped = 0;
  for (const raw of text.split('\n')) {
    if (!raw) continue;
    try {
      const v = JSON.parse(raw) as TrialLogLine;
      if ((v.t === 'done' || v.t === 'ack') && typeof v.key?.actorId === 'string' && Number.isInteger(v.key?.seq))
        lines.push(v);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { lines, skipped };
}
