/**
 * Which model `lamer eval` and `lamer serve` load: `--checkpoint DIR` (a model directory) or `--run-dir DIR` (the
 * newest valid checkpoint of a training run, verified against its MANIFEST; a corrupt newest one falls back to the
 * previous, as a resume does). A run directory given to `--checkpoint` is accepted as `--run-dir`.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointStore } from '../../learner/checkpoint-store.js';
import { LamerError, badInput } from '../../shared/errors.js';

export interface ModelSource {
  /** Model directory to load (lamer.json, model.safetensors, tokenizer.json). */
  dir: string;
  /** The run directory it came from (its config.json is the evaluation's base layer), if any. */
  runDir?: string;
  /** Checkpoints skipped as corrupt on the way to `dir`. */
  skipped: Array<{ dir: string; reason: string }>;
}

function isDir(path: string, flag: string): void {
  if (!existsSync(path)) throw badInput(`${flag} ${path}: no such directory`);
  if (!statSync(path).isDirectory()) throw badInput(`${flag} ${path}: not a directory`);
}

/** The newest valid checkpoint of a run directory. */
export async function newestCheckpoint(runDir: string): Promise<ModelSource> {
  isDir(runDir, '--run-dir');
  const ckpts = join(runDir, 'checkpoints');
  if (!existsSync(ckpts))
    throw badInput(
      `--run-dir ${runDir}: no checkpoints/ directory (is this a run ` +
        `directory? runs are created by \`lamer train --run-dir DIR\`)`,
    );
  const loaded = await new CheckpointStore(ckpts).loadLatest();
  if (!loaded)
    throw new LamerError(
      'RL_ERR_CHECKPOINT',
      `--run-dir ${runDir}: no checkpoint yet in ${ckpts} (the first is ` +
        'written after learner.checkpointEvery updates, and at the end of a run)',
    );
  return { dir: loaded.dir, runDir, skipped: loaded.skipped };
}

/** Resolves `--checkpoint` / `--run-dir` (exactly one) to a model directory, with errors that say what to pass. */
export async function resolveModelSource(o: { checkpoint?: string; runDir?: string }): Promise<ModelSource> {
  if (o.checkpoint && o.runDir) throw badInput('give either --checkpoint DIR or --run-dir DIR, not both');
  if (o.runDir) return newestCheckpoint(o.runDir);
  if (!o.checkpoint)
    throw badInput(
      'which model? pass --run-dir DIR (a training run: its newest checkpoint) or --checkpoint DIR (a model directory)',
    );
  isDir(o.checkpoint, '--checkpoint');
  if (existsSync(join(o.checkpoint, 'lamer.json'))) return { dir: o.checkpoint, skipped: [] };
  if (existsSync(join(o.checkpoint, 'checkpoints'))) return newestCheckpoint(o.checkpoint);
  throw new LamerError(
    'RL_ERR_CHECKPOINT',
    `--checkpoint ${o.checkpoint}: no lamer.json there, ` +
      'so it is not a model directory; pass a run directory with --run-dir, ' +
      `a checkpoint such as ${join('runs', '<run>', 'checkpoints', 'ckpt-<version>')}, ` +
      'or a base model under runs/base/',
  );
}
