/** Option validation shared by env constructors: one zod schema per env, errors that name env and option. */
import { z } from 'zod';
import { badInput } from '../../shared/errors.js';

/** Validates `options` against `schema`; throws RL_ERR_BAD_INPUT listing every problem with its option name. */
export function parseEnvOptions<S extends z.ZodType>(envId: string, schema: S, options: unknown): z.output<S> {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw badInput(`${envId}: options must be an object, got ${Array.isArray(options) ? 'an array' : String(options)}`);
  }
  // Keys set to undefined count as absent (a common way to say "use the default").
  const given = Object.fromEntries(
    Object.entries((options ?? {}) as Record<string, unknown>).filter(([, v]) => v !== undefined),
  );
  const parsed = schema.safeParse(given);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const path = i.path.length > 0 ? `option '${i.path.join('.')}'` : 'options';
    return `${path}: ${i.message}`;
  });
  throw badInput(`${envId}: invalid options: ${problems.join('; ')}`);
}

/** Integer in [min, max] for option schemas. */
export const intIn = (min: number, max: number) => z.number().int().min(min).max(max);

/** The template option every env accepts. */
export const templateOption = z.enum(['full', 'compact']).default('full');

/** Rejects a seed that is not a non-negative safe integer (task seeds are uint32 in the reference). */
export function checkSeed(envId: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw badInput(`${envId}: reset seed must be a non-negative integer, got ${String(seed)}`);
  }
  return seed;
}
