/**
 * Replays a list of actions from an explicit state (the `lamer replay` command). Each action string is what a
 * model would put inside `<action>…</action>`; it is wrapped in the tags and stepped in the full template.
 */
import { z } from 'zod';
import { badInput } from '../../shared/errors.js';
import { ALFWORLD_ID } from './alfworld/env.js';
import { MINESWEEPER_ID } from './minesweeper/env.js';
import { makeEnv, resolveEnvId } from './registry.js';
import { SOKOBAN_ID } from './sokoban/env.js';
import { WEBSHOP_ID } from './webshop/env.js';

export interface ReplayStep {
  action: string;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  won: boolean;
  valid: boolean;
  observation: string;
}

export interface ReplayResult {
  initial: string;
  steps: ReplayStep[];
}

const Actions = z.array(z.string());
const Pair = z.tuple([z.number().int(), z.number().int()]);

const StateFiles: Record<string, z.ZodType<{ actions: string[] } & Record<string, unknown>>> = {
  [SOKOBAN_ID]: z.strictObject({ board: z.string(), actions: Actions }),
  [MINESWEEPER_ID]: z.strictObject({
    size: z.number().int().min(2).max(30),
    mines: z.array(Pair),
    firstClick: Pair,
    actions: Actions,
  }),
  // Generated tasks are replayed from their seed; `options` are env options (the template is always full).
  [WEBSHOP_ID]: z.strictObject({
    seed: z.number().int().min(0),
    options: z.record(z.string(), z.unknown()).optional(),
    actions: Actions,
  }),
  [ALFWORLD_ID]: z.strictObject({
    seed: z.number().int().min(0),
    options: z.record(z.string(), z.unknown()).optional(),
    actions: Actions,
  }),
};

/**
 * Validates the state file for `envId` and replays its actions. Bad shapes, malformed boards, mines outside the
 * board, or actions after the episode ended throw LamerErrors naming the problem.
 */
export function replayActions(envId: string, file: unknown, what = 'state file'): ReplayResult {
  const id = resolveEnvId(envId);
  const schema = StateFiles[id];
  if (!schema) throw badInput(`replay supports ${Object.keys(StateFiles).join(', ')}; got ${id}`);
  const parsed = schema.safeParse(file);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.length ? `'${i.path.join('.')}'` : 'file'}: ${i.message}`,
    );
    throw badInput(`${what} for ${id}: ${problems.join('; ')}`);
  }
  const s = parsed.data;
  const env =
    id === SOKOBAN_ID
      ? makeEnv(id, { board: s.board })
      : id === MINESWEEPER_ID
        ? makeEnv(id, { size: s.size, board: { mines: s.mines, firstClick: s.firstClick } })
        : makeEnv(id, { ...(s.options as Record<string, unknown> | undefined), template: 'full' });
  try {
    const initial = env.reset({ seed: typeof s.seed === 'number' ? s.seed : 0 }).obs;
    const steps: ReplayStep[] = [];
    s.actions.forEach((action, i) => {
      if (steps.length > 0) {
        const last = steps[steps.length - 1];
        if (last.terminated || last.truncated) {
          throw badInput(`${what}: action ${i + 1} ('${action}') comes after the episode ended at action ${i}`);
        }
      }
      const r = env.step(`<action>${action}</action>`);
      steps.push({
        action,
        reward: r.reward,
        terminated: r.terminated,
        truncated: r.truncated,
        won: r.info.won,
        valid: r.info.valid,
        observation: r.obs,
      });
    });
    return { initial, steps };
  } finally {
    env.close();
  }
}
