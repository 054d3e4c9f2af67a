/** Input checks shared by the scorer, trainer and generator: clear errors instead of ORT failures. */
import { LamerError } from '../errors.js';
import type { ModelConfig } from './config.js';

function modelError(msg: string): LamerError {
  return new LamerError('RL_ERR_MODEL', msg);
}

/** Every id an integer in [0, vocabSize); `where` names the sequence in the message. */
export function checkTokenIds(cfg: ModelConfig, ids: ArrayLike<number>, where: string): void {
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= cfg.vocabSize) {
      throw modelError(`${where}: token id ${t} at position ${i} is outside the vocabulary (0..${cfg.vocabSize - 1})`);
    }
  }
}

/** A sequence must fit the context. */
export function checkLength(cfg: ModelConfig, length: number, where: string): void {
  if (length > cfg.nCtx)
    throw modelError(`${where}: sequence of ${length} tokens is longer than the model context (${cfg.nCtx})`);
}

/** A list of token sequences for scoring. */
export function checkSequences(cfg: ModelConfig, seqs: unknown): asserts seqs is number[][] {
  if (!Array.isArray(seqs)) throw modelError('sequences must be an array of token-id arrays');
  seqs.forEach((s, i) => {
    if (!Array.isArray(s)) throw modelError(`sequence ${i} must be an array of token ids`);
    checkLength(cfg, s.length, `sequence ${i}`);
    checkTokenIds(cfg, s, `sequence ${i}`);
  });
}

/** A per-token float array of the batch: right length, finite. */
export function checkFloats(name: string, a: ArrayLike<number>, n: number): void {
  if (a.length !== n) throw modelError(`${name} has ${a.length} values, expected ${n} (B·T)`);
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(a[i]!)) throw modelError(`${name}[${i}] is ${a[i]}, expected a finite number`);
}
