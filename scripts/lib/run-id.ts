/**
 * A run id chosen before the learner starts (`lamer learner --run-id`, or LAMER_RUN_ID): orchestrated actors are
 * configured with the id before the learner has run once, so the learner must take that id for a new run directory
 * and refuse a directory that already belongs to another run.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IdSchema } from '../../proto/messages.js';
import { badInput } from '../../shared/errors.js';

/** Pins `runId` as the run id of `runDir` (the learner reads `<run>/run-id` on a fresh start). */
export function pinRunId(runDir: string, runId: string): void {
  if (!IdSchema.safeParse(runId).success)
    throw badInput(`--run-id '${runId}': a run id must match [A-Za-z0-9][A-Za-z0-9_.:-]{0,127}`);
  const file = join(runDir, 'run-id');
  if (existsSync(file)) {
    const have = readFileSync(file, 'utf8').trim();
    if (have !== runId)
      throw badInput(
        `--run-id ${runId}: the run directory ${runDir} belongs to run ${have}; ` +
          'use another --run-dir, or the run id it has',
      );
    return;
  }
  mkdirSync(runDir, { recursive: true });
  writeFileSync(file, runId + '\n');
}
