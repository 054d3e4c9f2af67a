/**
 * The experiment tables of issue 7 (docs/method.md §7): which rows each preset runs and the config layer that makes
 * each row, plus the trajectory budget → iterations rule that gives every trained row the same number of episodes.
 */
import { resolveConfig, type Config } from '../../shared/config.js';
import { badInput } from '../../shared/errors.js';

export const PRESET_NAMES = ['main', 'memory', 'gamma', 'async'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** One row of a preset table. */
export interface RowSpec {
  /** Key in docs/results.json and the run directory name (`<name>-s<seed>`). */
  name: string;
  description: string;
  /** false: the base model is only evaluated (prompting baselines). */
  train: boolean;
  /** Config layer of this row (applied for training and for the final evaluation). */
  layer: Record<string, unknown>;
}

// LaMer's trial shape (docs/method.md §8): N = 3 episodes, 8 trials per task, reflection-only memory
// (released default).
const META = { attempts: 3, groupSize: 8, reflect: true, memory: 'reflection' };

export const PRESETS: Record<PresetName, RowSpec[]> = {
  main: [
    // Restarts without reflection: later episodes only see "trial k" markers, as the reference's baselines do.
    {
      name: 'zeroshot',
      train: false,
      description: 'base model, N restarts, no reflection, no training',
      layer: { env: { reflect: false, memory: 'reflection' } },
    },
    {
      name: 'reflexion',
      train: false,
      description: 'base model with reflection memory between attempts, no training',
      layer: { env: { ...META } },
    },
    {
      name: 'rl',
      train: true,
      description: 'GiGPO, N=1, group 24; evaluated with N restarts (no reflection)',
      layer: { env: { attempts: 1, groupSize: 24, reflect: false, memory: 'reflection' } },
    },
    { name: 'metarl', train: true, description: 'LaMer, N=3, group 8, reflection memory', layer: { env: { ...META } } },
  ],
  memory: (['trajectory', 'reflection', 'both'] as const).map((m) => ({
    name: m,
    train: true,
    description: `LaMer with ${m === 'both' ? 'trajectory + reflection' : `${m}-only`} memory`,
    layer: { env: { ...META, memory: m } },
  })),
  gamma: [0.3, 0.6, 0.9].map((g) => ({
    name: String(g),
    train: true,
    description: `LaMer with gamma_traj = ${g}`,
    layer: { env: { ...META }, algo: { gammaTraj: g } },
  })),
  async: [
    {
      name: 'sync',
      train: true,
      description: 'LaMer, synchronous lockstep baseline (eta = 0)',
      layer: { env: { ...META }, run: { mode: 'sync' }, algo: { eta: 0 } },
    },
    {
      name: 'async-corrected',
      train: true,
      description: 'LaMer, async eta = 4, truncated importance correction',
      layer: { env: { ...META }, run: { mode: 'async' }, algo: { eta: 4, isMode: 'truncate' } },
    },
    {
      name: 'async-uncorrected',
      train: true,
      description: 'LaMer, async eta = 4, no importance correction',
      layer: { env: { ...META }, run: { mode: 'async' }, algo: { eta: 4, isMode: 'off' } },
    },
  ],
};

export function presetRows(name: string): RowSpec[] {
  if (!(PRESET_NAMES as readonly string[]).includes(name))
    throw badInput(`unknown preset '${name}'; known: ${PRESET_NAMES.join(', ')}`);
  return PRESETS[name as PresetName];
}

/** Nominal episodes one policy update trains on: B groups × group size × N (a won trial stops early, so ≤). */
export function episodesPerUpdate(cfg: Pick<Config, 'algo' | 'env'>): number {
  return cfg.algo.groupsPerUpdate * cfg.env.groupSize * cfg.env.attempts;
}

/** Policy updates that spend `trajectories` episodes (rounded to the nearest update, at least 1). */
export function iterationsForBudget(trajectories: number, cfg: Pick<Config, 'algo' | 'env'>): number {
  if (!Number.isInteger(trajectories) || trajectories < 1)
    throw badInput(`trajectory budget must be a positive integer, got ${trajectories}`);
  return Math.max(1, Math.round(trajectories / episodesPerUpdate(cfg)));
}

/** Everything a row's config depends on besides the row itself. */
export interface RowContext {
  /** User layers (--config, --set), applied first so a row's own settings win. */
  layers: Array<Record<string, unknown>>;
  envId: string;
  seed: number;
  /** Validation task list seed shared by every row and seed. */
  evalSeed: number;
  trajectories: number;
  /** Learner evaluations (learning curve): tasks and points along the run. */
  curveTasks: number;
  curvePoints: number;
  baseModelDir: string;
  runDir: string;
}

/**
 * The resolved config of one (row, seed) run: user layers < row layer < experiment settings (budget in iterations,
 * no minute limit, pinned validation list, the shared base model). Curves use N = 3 evaluations inside the run.
 */
export function rowConfig(row: RowSpec, c: RowContext): Config {
  const shape = resolveConfig(...c.layers, { env: { id: c.envId } }, row.layer);
  const iterations = iterationsForBudget(c.trajectories, shape);
  return resolveConfig(...c.layers, { env: { id: c.envId } }, row.layer, {
    run: {
      seed: c.seed,
      dir: c.runDir,
      iterations,
      minutes: 0,
      evalSeed: c.evalSeed,
      evalTasks: c.curveTasks,
      evalAttempts: 3,
      evalEvery: Math.max(1, Math.round(iterations / Math.max(1, c.curvePoints))),
    },
    model: { init: c.baseModelDir },
  });
}

/** The config of the final evaluation: the row's memory/reflection settings, `attempts` episodes, `tasks` tasks. */
export function evalConfig(cfg: Config, tasks: number, attempts: number): Config {
  return { ...cfg, run: { ...cfg.run, evalTasks: tasks, evalAttempts: attempts } };
}
