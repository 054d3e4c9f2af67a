/**
 * The experiment tables of issues 7 and 16 (docs/method.md §7): which rows each preset runs and the config layer that
 * makes each row, plus the trajectory budget → iterations rule that gives every trained row the same number of
 * episodes.
 */
import { resolveConfig, type Config } from '../../shared/config.js';
import { badInput } from '../../shared/errors.js';
import { ESTIMATORS, type Estimator } from '../../shared/rl/estimators/index.js';

export const PRESET_NAMES = ['main', 'memory', 'gamma', 'async', 'baselines', 'harder'] as const;
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
  /**
   * Evaluate the final weights of this row of preset `main` (same seed, same settings) instead of the base model;
   * nothing is trained here (preset `harder`). `layer` is then that row's layer, so its training config can be checked.
   */
  weightsOf?: string;
  /** Env instance options set at the final evaluation only (preset `harder`), over the run's own `env.options`. */
  evalOptions?: Record<string, unknown>;
}

// LaMer's trial shape (docs/method.md §8): N = 3 episodes, 8 trials per task, reflection-only memory
// (released default).
const META = { attempts: 3, groupSize: 8, reflect: true, memory: 'reflection' };
// The RL baselines' trial shape: N = 1, 24 trials per task (the same episodes per group as Meta-RL's 8 x 3); the
// final evaluation gives them N restarts without reflection.
const RL = { attempts: 1, groupSize: 24, reflect: false, memory: 'reflection' };

/** The `baselines` row of one single-episode estimator, described from the estimator registry. */
function baselineRow(estimator: Estimator, what: string): RowSpec {
  // With N = 1 a trial is one episode, so γ_traj plays no part for any of these rows; GRPO/RLOO ignore it anyway.
  const gamma = ESTIMATORS[estimator].usesGammaTraj ? 'gamma_traj unused at N=1' : 'episode scores, ignores gamma_traj';
  return {
    name: estimator,
    train: true,
    description: `${what}, N=1, group 24 (${gamma}); evaluated with N restarts (no reflection)`,
    layer: { env: { ...RL }, algo: { estimator } },
  };
}

export const PRESETS: Record<Exclude<PresetName, 'harder'>, RowSpec[]> = {
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
      layer: { env: { ...RL } },
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
  // The paper's Table 1 per environment: every estimator at N = 1 on the same base model and budget, and LaMer.
  // `gigpo` is main's `rl` and `metarl` main's `metarl` (identical configs: reused when main ran first).
  baselines: [
    baselineRow('ppo', 'PPO with a critic (GAE)'),
    baselineRow('rloo', 'RLOO'),
    baselineRow('grpo', 'GRPO'),
    baselineRow('gigpo', 'GiGPO'),
    { name: 'metarl', train: true, description: 'LaMer, N=3, group 8, reflection memory', layer: { env: { ...META } } },
  ],
};

/**
 * Per-env defaults of every experiment row and of the base model, below the user's --config/--set layers (docs/
 * experiments.md). WebShop: the paper's 12 turns; its compact reflections reach ~20 words, so 24 tokens instead of
 * 12 keeps demonstrations whole. ALFWorld: the paper's 10 turns (the scripted planner needs 5.5 on average); its
 * reflections fit the default 12 tokens. Both: compact play prompts list the admissible choices and reach ~250 words
 * (scripted demonstrations, 12 and 10 turns), past the default 256-token context less the reply, which would cut the
 * task from the left, so 320.
 */
export const ENV_LAYERS: Readonly<Record<string, Record<string, unknown>>> = {
  'lamer/ALFWorld-v0': { env: { maxTurns: 10 }, model: { nCtx: 320 } },
  'lamer/WebShop-v0': { env: { maxTurns: 12 }, model: { nCtx: 320 }, sampling: { maxReflectTokens: 24 } },
};

/** The env's default layer (none for MineSweeper and Sokoban, whose runs use the schema defaults). */
export function envLayers(envId: string): Array<Record<string, unknown>> {
  const l = ENV_LAYERS[envId];
  return l ? [l] : [];
}

/** One harder instance setting of an env: the options changed at evaluation and a short name for the row key. */
export interface HarderSetting {
  name: string;
  options: Record<string, unknown>;
  description: string;
}

/**
 * The harder instances of the paper's harder-instance figure, keyed by env id: the same board size with more mines
 * (default 3) or more boxes (default 2), so the prompt format and context length the model was trained on still fit.
 */
export const HARDER: Record<string, HarderSetting[]> = {
  'lamer/MineSweeper-v0': [
    { name: 'mines4', options: { mines: 4 }, description: '6x6 with 4 mines' },
    { name: 'mines5', options: { mines: 5 }, description: '6x6 with 5 mines' },
  ],
  'lamer/Sokoban-v0': [{ name: 'boxes3', options: { boxes: 3 }, description: '6x6 with 3 boxes' }],
};

/** main's rows that `harder` evaluates: the base model (zeroshot) and the final weights of the two trained rows. */
export const HARDER_ROWS = ['zeroshot', 'rl', 'metarl'] as const;

/**
 * Preset `harder` for one env: for each harder setting, `<row>@<setting>` for zeroshot, rl and metarl of preset main,
 * each with main's row layer (so the trained run it evaluates is the one main made) and the setting's options at
 * evaluation only.
 */
export function harderRows(envId: string): RowSpec[] {
  const settings = HARDER[envId];
  if (!settings)
    throw badInput(
      `preset harder has no harder instances for ${envId}; it is defined for ${Object.keys(HARDER).join(', ')}; ` +
        `presets for ${envId}: ${presetsFor(envId).join(', ')}`,
    );
  return settings.flatMap((s) =>
    HARDER_ROWS.map((name) => {
      const src = PRESETS.main.find((r) => r.name === name)!;
      return {
        name: `${name}@${s.name}`,
        train: false,
        description:
          `${s.description}: main/${name} (${src.description})` +
          (src.train ? ', its final weights, not retrained' : ''),
        layer: src.layer,
        ...(src.train ? { weightsOf: name } : {}),
        evalOptions: s.options,
      };
    }),
  );
}

/** The presets that mean something for an env (`harder` only where harder instances are defined). */
export function presetsFor(envId: string): PresetName[] {
  return PRESET_NAMES.filter((p) => p !== 'harder' || HARDER[envId] !== undefined);
}

/** The rows of a preset; `harder` depends on the env (its harder instances). */
export function presetRows(name: string, envId?: string): RowSpec[] {
  if (!(PRESET_NAMES as readonly string[]).includes(name))
    throw badInput(`unknown preset '${name}'; known: ${PRESET_NAMES.join(', ')}`);
  if (name === 'harder') {
    if (envId === undefined) throw badInput('preset harder needs an env id');
    return harderRows(envId);
  }
  return PRESETS[name as Exclude<PresetName, 'harder'>];
}

/**
 * What docs/results.md says under a preset's table, beyond the row descriptions (keyed by preset name; a tagged
 * variant `<preset>-<tag>` gets its preset's note).
 */
export const PRESET_NOTES: Partial<Record<PresetName, string>> = {
  main:
    "No ReAct row (the paper's prompting baseline that writes a thought before each action): the embedded model " +
    'reads the compact template, whose play prompt ends in `<action>`, so its reply is the action words alone ' +
    '(actor/envs/prompt.ts) and has no place for a thought; a react row would be zeroshot under another name ' +
    '(actor/backends/presets.ts: the two coincide in the compact template). With the full template, where a ' +
    'thought can precede `<action>`, `lamer eval --backend openai --preset zeroshot,react` measures both for an ' +
    'LLM server (docs/llm-backends.md).',
  baselines:
    'The single-episode rows (ppo, rloo, grpo, gigpo) train with N = 1, so a trial is one episode and gamma_traj ' +
    'plays no part in their training; GRPO and RLOO would ignore it at any N (they use episode scores, not ' +
    'cross-episode returns). Only metarl (N = 3) uses gamma_traj. ppo learns a value head from a zero start ' +
    "(docs/method.md §4.7). gigpo and metarl are main's rl and metarl (the same configs: reused when main ran first).",
  harder:
    "No training here: `<row>@<setting>` evaluates the final checkpoint of preset main's run of that row and seed " +
    '(named per seed below; trained on the default instances) or, for zeroshot, the base model, on the harder ' +
    'instances, with the same validation task seeds and attempts. Minutes are the evaluation alone. The same runs ' +
    'on the default instances are in the main table.',
};

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
 * The resolved config of one (row, seed) run: env defaults (ENV_LAYERS) < user layers < row layer < experiment
 * settings (budget in iterations, no minute limit, pinned validation list, the shared base model). Curves use N = 3
 * evaluations inside the run.
 */
export function rowConfig(row: RowSpec, c: RowContext): Config {
  const layers = [...envLayers(c.envId), ...c.layers];
  const shape = resolveConfig(...layers, { env: { id: c.envId } }, row.layer);
  const iterations = iterationsForBudget(c.trajectories, shape);
  return resolveConfig(...layers, { env: { id: c.envId } }, row.layer, {
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

/**
 * The config a row is evaluated with: its run config, with the row's `evalOptions` (harder instances) over the run's
 * env options. Only `env.options` changes: the weights, memory and sampling are those of the run.
 */
export function rowEvalConfig(row: RowSpec, cfg: Config): Config {
  if (!row.evalOptions) return cfg;
  return { ...cfg, env: { ...cfg.env, options: { ...cfg.env.options, ...row.evalOptions } } };
}

/** The config of the final evaluation: the row's memory/reflection settings, `attempts` episodes, `tasks` tasks. */
export function evalConfig(cfg: Config, tasks: number, attempts: number): Config {
  return { ...cfg, run: { ...cfg.run, evalTasks: tasks, evalAttempts: attempts } };
}
