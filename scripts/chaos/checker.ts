/**
 * The chaos checker: after every process has stopped, compares what the actors say they completed (their
 * `--trial-log` files) with what the learner committed (its ledger) and trained (its log), Jepsen "set" style.
 *
 * - completed: distinct keys with a `done` line (the record was held by the actor's durable outbox).
 * - committed: completed keys present in the ledger.
 * - rejected: completed keys the learner acked `rejected` (a documented drop, e.g. a trial sampled with weights
 *   newer than a restarted learner's version); reported with reasons, not counted as lost.
 * - pending: completed keys still held as files in the actor's outbox at the end (they would be resent).
 * - lost: completed - committed - rejected - pending. Must be 0.
 * - indeterminate: ledger keys without a `done` line (the actor died between its outbox write and its log line).
 * - duplicated: ledger keys stored twice + records trained twice in the final policy lineage + task slots
 *   trained twice in that lineage. Must be 0.
 * - ackedNotInLedger: keys the learner acked committed/duplicate that the ledger does not hold (ack = durable).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrialLog } from '../../actor/trial-log.js';
import { Ledger, readSegmentFile, segmentFiles } from '../../learner/ledger.js';
import { decodeTrial } from '../../proto/codec.js';
import { trialKeyString } from '../../proto/messages.js';
import { archivedPieces, rotatedPieces } from '../../shared/rotating-file.js';

export interface ActorFiles {
  id: string;
  trialLog: string;
  outboxDir: string;
}

export interface LedgerView {
  /** key string -> how many times stored. */
  keyCount: Map<string, number>;
  /** ledger offset -> record facts. */
  byOffset: Map<number, { key: string; groupId: string; trialIndex: number }>;
  byKey: Map<string, { offset: number; groupId: string; trialIndex: number }>;
  undecodable: number;
}

/**
 * Reads every ledger record (the learner must have stopped: the ledger is locked while open), including the
 * segments ledger retention moved to `archiveDir` (`ledger.archiveDir`).
 */
export async function readLedger(dir: string, archiveDir?: string): Promise<LedgerView> {
  const view: LedgerView = { keyCount: new Map(), byOffset: new Map(), byKey: new Map(), undecodable: 0 };
  if (!existsSync(dir)) return view;
  const ledger = await Ledger.open(dir);
  try {
    const first = ledger.firstOffset;
    const archived = archiveDir ? segmentFiles(archiveDir).map((n) => join(archiveDir, n)) : [];
    const records = async function* () {
      for (const f of archived) for (const rec of readSegmentFile(f)) if (rec.offset < first) yield rec;
      yield* ledger.iterate(first);
    };
    for await (const rec of records()) {
      const key = trialKeyString(rec.key);
      view.keyCount.set(key, (view.keyCount.get(key) ?? 0) + 1);
      const d = decodeTrial(rec.bytes);
      if (!d.ok) {
        view.undecodable++;
        continue;
      }
      const facts = { key, groupId: d.trial.groupId, trialIndex: d.trial.trialIndex };
      view.byOffset.set(rec.offset, facts);
      view.byKey.set(key, { offset: rec.offset, groupId: facts.groupId, trialIndex: facts.trialIndex });
    }
  } finally {
    await ledger.close();
  }
  return view;
}

/** Learner log lines the checker needs (pino JSON lines in `<run>/logs/learner.log`). */
export interface LearnerLogFacts {
  resumes: Array<{
    pid: number;
    learnerEpoch: number;
    policyVersion: number;
    optimizerStep: number | null;
    checkpoint: string;
    at: number;
  }>;
  skippedCorrupt: Array<{ checkpoint: string; reason: string; at: number }>;
  trained: Array<{ learnerEpoch: number; policyVersion: number; offsets: number[]; at: number }>;
}

/** `archive`: where a harness copied the rotated pieces (archiveRotatedPieces), when the run keeps only a few. */
export function readLearnerLog(file: string, archive?: string): LearnerLogFacts {
  const f: LearnerLogFacts = { resumes: [], skippedCorrupt: [], trained: [] };
  // The log is size-rotated (shared/rotating-file.ts): read every piece, oldest first.
  const pieces = archive ? archivedPieces(file, archive) : rotatedPieces(file);
  for (const line of pieces.flatMap((p) => readFileSync(p, 'utf8').split('\n'))) {
    if (!line.startsWith('{')) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a line torn by SIGKILL
    }
    const at = Number(o.time ?? 0);
    switch (o.msg) {
      case 'resumed from checkpoint':
        f.resumes.push({
          pid: Number(o.pid),
          learnerEpoch: Number(o.learnerEpoch),
          policyVersion: Number(o.policyVersion),
          optimizerStep: typeof o.optimizerStep === 'number' ? o.optimizerStep : null,
          checkpoint: String(o.checkpoint),
          at,
        });
        break;
      case 'skipped a corrupt checkpoint, falling back to the previous one':
        f.skippedCorrupt.push({ checkpoint: String(o.checkpoint), reason: String(o.reason), at });
        break;
      case 'trained':
        f.trained.push({
          learnerEpoch: Number(o.learnerEpoch),
          policyVersion: Number(o.policyVersion),
          offsets: (o.offsets as number[]) ?? [],
          at,
        });
        break;
    }
  }
  return f;
}

/**
 * The trained records of the final policy: each start (epoch) inherits the lineage of the one before up to the
 * version it resumed at, then adds its own updates. Returns version -> ledger offsets consumed by that update.
 */
export function finalLineage(log: LearnerLogFacts): Map<number, number[]> {
  const epochs = [
    ...new Set([0, ...log.resumes.map((r) => r.learnerEpoch), ...log.trained.map((t) => t.learnerEpoch)]),
  ].sort((a, b) => a - b);
  let lineage = new Map<number, number[]>();
  for (const e of epochs) {
    const resume = log.resumes.find((r) => r.learnerEpoch === e);
    const from = resume ? resume.policyVersion : 0;
    lineage = new Map([...lineage].filter(([v]) => v <= from));
    for (const t of log.trained) if (t.learnerEpoch === e) lineage.set(t.policyVersion, t.offsets);
  }
  return lineage;
}

export interface CheckReport {
  completed: number;
  committed: number;
  lost: number;
  duplicated: number;
  indeterminate: number;
  rejected: number;
  pending: number;
  rejectReasons: Record<string, number>;
  ackedNotInLedger: number;
  contentMismatch: number;
  ledgerRecords: number;
  ledgerDuplicateKeys: number;
  surplusRecords: number;
  trainedVersions: number;
  trainedTwice: number;
  slotsTrainedTwice: number;
  trainedUnknownOffsets: number;
  lineageGaps: number;
  tornLogLines: number;
  /** Up to 10 lost keys, for debugging. */
  lostKeys: string[];
}

/** Checks one finished run. */
export async function checkRun(o: {
  runDir: string;
  actors: ActorFiles[];
  ledgerArchive?: string;
  /** Where the learner log's rotated pieces were archived (see readLearnerLog). */
  learnerLogArchive?: string;
}): Promise<CheckReport> {
  const ledger = await readLedger(join(o.runDir, 'ledger'), o.ledgerArchive);
  const done = new Map<string, { groupId: string; trialIndex: number }>();
  const acks = new Map<string, { status: string; reason?: string }[]>();
  const pendingFiles = new Set<string>();
  let torn = 0;
  for (const a of o.actors) {
    if (existsSync(a.trialLog)) {
      const { lines, skipped } = parseTrialLog(readFileSync(a.trialLog, 'utf8'));
      torn += skipped;
      for (const l of lines) {
        const key = trialKeyString(l.key);
        if (l.t === 'done') done.set(key, { groupId: l.groupId, trialIndex: l.trialIndex });
        else acks.set(key, [...(acks.get(key) ?? []), { status: l.status, ...(l.reason ? { reason: l.reason } : {}) }]);
      }
    }
    if (existsSync(a.outboxDir)) {
      for (const name of readdirSync(a.outboxDir)) {
        const m = /^([A-Za-z0-9_-]{1,64})-(\d{16})\.msgpack$/.exec(name);
        if (!m) continue;
        const r = decodeTrial(readFileSync(join(a.outboxDir, name)));
        if (r.ok) pendingFiles.add(trialKeyString(r.trial.key));
      }
    }
  }

  let committed = 0,
    rejected = 0,
    pending = 0,
    contentMismatch = 0;
  const lostKeys: string[] = [];
  const rejectReasons: Record<string, number> = {};
  for (const [key, d] of done) {
    const rec = ledger.byKey.get(key);
    if (rec) {
      committed++;
      if (rec.groupId !== d.groupId || rec.trialIndex !== d.trialIndex) contentMismatch++;
      continue;
    }
    const rej = acks.get(key)?.find((x) => x.status === 'rejected');
    if (rej) {
      rejected++;
      // Group reasons by their text without numbers ("policyVersion 7 is newer than the learner's 6" -> one bucket).
      const bucket = (rej.reason ?? '').replace(/\d+/g, 'N');
      rejectReasons[bucket] = (rejectReasons[bucket] ?? 0) + 1;
    } else if (pendingFiles.has(key)) pending++;
    else lostKeys.push(key);
  }
  let ackedNotInLedger = 0;
  for (const [key, list] of acks)
    if (list.some((x) => x.status !== 'rejected') && !ledger.keyCount.has(key)) ackedNotInLedger++;
  const actorIds = new Set(o.actors.map((a) => a.id));
  let indeterminate = 0;
  for (const key of ledger.keyCount.keys()) {
    const actorId = key.split('/')[1];
    if (actorIds.has(actorId) && !done.has(key)) indeterminate++;
  }
  const ledgerDuplicateKeys = [...ledger.keyCount.values()].filter((n) => n > 1).length;

  // Training side: in the final lineage, every record and every (group, slot) is trained at most once.
  const log = readLearnerLog(join(o.runDir, 'logs', 'learner.log'), o.learnerLogArchive);
  const lineage = finalLineage(log);
  const seenOffsets = new Set<number>();
  const seenSlots = new Set<string>();
  let trainedTwice = 0,
    slotsTrainedTwice = 0,
    trainedUnknown = 0;
  for (const offsets of lineage.values()) {
    for (const off of offsets) {
      if (seenOffsets.has(off)) trainedTwice++;
      seenOffsets.add(off);
      const rec = ledger.byOffset.get(off);
      if (!rec) {
        trainedUnknown++;
        continue;
      }
      const slot = `${rec.groupId}/${rec.trialIndex}`;
      if (seenSlots.has(slot)) slotsTrainedTwice++;
      seenSlots.add(slot);
    }
  }
  const versions = [...lineage.keys()].sort((a, b) => a - b);
  const lineageGaps = versions.filter((v, i) => v !== i + 1).length;
  // Records whose slot another record filled: kept in the ledger, never trained (task-book "surplus").
  const slotCount = new Map<string, number>();
  for (const r of ledger.byOffset.values())
    slotCount.set(`${r.groupId}/${r.trialIndex}`, (slotCount.get(`${r.groupId}/${r.trialIndex}`) ?? 0) + 1);
  const surplusRecords = [...slotCount.values()].reduce((a, n) => a + n - 1, 0);

  return {
    completed: done.size,
    committed,
    lost: lostKeys.length,
    duplicated: ledgerDuplicateKeys + trainedTwice + slotsTrainedTwice,
    indeterminate,
    rejected,
    pending,
    rejectReasons,
    ackedNotInLedger,
    contentMismatch,
    ledgerRecords: [...ledger.keyCount.values()].reduce((a, b) => a + b, 0),
    ledgerDuplicateKeys,
    surplusRecords,
    trainedVersions: versions.length,
    trainedTwice,
    slotsTrainedTwice,
    trainedUnknownOffsets: trainedUnknown,
    lineageGaps,
    tornLogLines: torn,
    lostKeys: lostKeys.slice(0, 10),
  };
}
