/**
 * Replays a list of actions from an explicit state (the `lamer replay` command). Each action string is what a
 * model would put inside `<action>…</action>`; it is wrapped in the tags and stepped in the full template. The state
 * file's shape and how it rebuilds the env are the env's (`EnvSpec.replay`); a `seed` in it is passed to reset().
 */
import { badInput } from '../../shared/errors.js';
import { envSpec, envSpecs, makeEnv } from './registry.js';

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

/**
 * Validates the state file for `envId` and replays its actions. Bad shapes, malformed boards, mines outside the
 * board, or actions after the episode ended throw LamerErrors naming the problem.
 */
export function replayActions(envId: string, file: unknown, what = 'state file'): ReplayResult {
  const { id, replay } = envSpec(envId);
  if (!replay) {
    const ids = envSpecs()
      .filter((e) => e.replay)
      .map((e) => e.id);
    throw badInput(`replay supports ${ids.join(', ')}; got ${id}`);
  }
  const parsed = replay.state.safeParse(file);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.length ? `'${i.path.join('.')}'` : 'file'}: ${i.message}`,
    );
    throw badInput(`${what} for ${id}: ${problems.join('; ')}`);
  }
  const s = parsed.data;
  const env = makeEnv(id, replay.options(s));
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
