/**
 * The input file of `lamer advantages` (a recorded batch): a strict zod schema plus the chronological-order
 * checks of order.ts. Every problem is reported with its field path, or with group/trial/row for order errors.
 */
import { z } from 'zod';
import { badInput } from '../errors.js';
import { assertGroupsWellFormed } from './order.js';
import { AdvantageOptionsSchema, type AdvantageOptions } from './options.js';
import type { Group } from './types.js';

const unit = z.number().min(0).max(1);

export const RowSchema = z.strictObject({
  phase: z.enum(['play', 'reflect']),
  episode: z.number().int().min(0),
  turn: z.number().int().min(0),
  reward: z.number().refine(Number.isFinite, 'must be finite'),
  valid: z.boolean(),
  anchor: z.string(),
  value: z.number().refine(Number.isFinite, 'must be finite').optional(),
});

export const TrialSchema = z.strictObject({
  trialId: z.string().min(1),
  rows: z.array(RowSchema).min(1),
});

export const GroupSchema = z.strictObject({
  groupId: z.string().min(1),
  gammaTraj: unit.optional(),
  trials: z.array(TrialSchema).min(1),
});

export const AdvantagesInputSchema = z.strictObject({
  options: AdvantageOptionsSchema.default(AdvantageOptionsSchema.parse({})),
  groups: z.array(GroupSchema),
});

export interface AdvantagesInput {
  options: AdvantageOptions;
  groups: Group[];
}

/** `groups[0].trials[1].rows[2].reward` style path. */
function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : `${s ? '.' : ''}${String(p)}`;
  return s || '(top level)';
}

/**
 * Validates a parsed JSON document; throws RL_ERR_BAD_INPUT listing every schema problem, or the first order problem.
 */
export function parseAdvantagesInput(doc: unknown, source = 'input'): AdvantagesInput {
  const r = AdvantagesInputSchema.safeParse(doc);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const keys = (i as { keys?: string[] }).keys;
      const what =
        i.code === 'unrecognized_keys' && keys ? `unknown key(s) ${keys.map((k) => `'${k}'`).join(', ')}` : i.message;
      return `  ${formatPath(i.path)}: ${what}`;
    });
    throw badInput(`${source} is not a valid advantages input:\n${lines.join('\n')}`);
  }
  const groups = r.data.groups as Group[];
  assertGroupsWellFormed(groups);
  return { options: r.data.options, groups };
}
