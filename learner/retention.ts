/**
 * Ledger retention after a checkpoint: the horizon is the lowest `replayFrom` of every checkpoint still on disk
 * (a resume may fall back to any of them when a newer one is corrupt, and each replays from its own point), so
 * compaction never removes a record a possible resume would read. A checkpoint without `replayFrom` (written by
 * an older version, or with an unreadable manifest) pins the horizon at 0.
 */
import type { Logger } from '../shared/logger.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { CompactionResult, Ledger } from './ledger.js';

export async function retentionHorizon(store: CheckpointStore): Promise<number> {
  const metas = await store.metas();
  if (metas.length === 0) return 0;
  let horizon = Infinity;
  for (const { meta } of metas) {
    const r = meta?.replayFrom;
    if (typeof r !== 'number' || !Number.isSafeInteger(r) || r < 0) return 0;
    horizon = Math.min(horizon, r);
  }
  return horizon;
}

/** Compacts the ledger up to the checkpoints' horizon; failures are logged, never fatal (nothing is lost). */
export async function applyRetention(
  ledger: Ledger,
  store: CheckpointStore,
  keep: number | 'all',
  logger: Logger,
): Promise<CompactionResult | null> {
  try {
    const horizon = await retentionHorizon(store);
    const r = await ledger.compact(horizon, keep);
    if (r.covered > 0 || r.deleted > 0) logger.info({ ...r, horizon, retention: keep }, 'ledger compacted');
    return r;
  } catch (e) {
    logger.warn(
      { err: (e as Error).message },
      'ledger compaction failed; the ledger keeps every segment until the next checkpoint',
    );
    return null;
  }
}
