import { describe, expect, it } from 'vitest';
import { resolvedEnvOptions } from '../../actor/envs/registry.js';
import { TaskBook } from '../../learner/task-book.js';
import { firstDifference, sameTraining } from '../../scripts/lib/experiment.js';
import {
  episodesPerUpdate,
  evalConfig,
  HARDER,
  iterationsForBudget,
  PRESET_NAMES,
  PRESETS,
  presetRows,
  rowConfig,
  rowEvalConfig,
  type RowContext,
} from '../../scripts/lib/experiment-presets.js';
import { resolveConfig } from '../../shared/config.js';

const ctx = (over: Partial<RowContext> = {}): RowContext => ({
  layers: [],
  envId: 'lamer/MineSweeper-v0',
  seed: 2,
  evalSeed: 7,
  trajectories: 9600,
  curveTasks: 32,
  curvePoints: 5,
  baseModelDir: 'runs/base/x',
  runDir: 'runs/experiments/minesweeper-main/rl-s2',
  ...over,
});
const row = (preset: keyof typeof PRESETS, name: string) => PRESETS[preset].find((r) => r.name === name)!;

describe('experiment presets', () => {
  it('lists exactly the rows of the issue', () => {
    expect(PRESETS.main.map((r) => r.name)).toEqual(['zeroshot', 'reflexion', 'rl', 'metarl']);
    expect(PRESETS.memory.map((r) => r.name)).toEqual(['trajectory', 'reflection', 'both']);
    expect(PRESETS.gamma.map((r) => r.name)).toEqual(['0.3', '0.6', '0.9']);
    expect(PRESETS.async.map((r) => r.name)).toEqual(['sync', 'async-corrected', 'async-uncorrected']);
    expect(PRESETS.main.filter((r) => r.train).map((r) => r.name)).toEqual(['rl', 'metarl']);
    expect(PRESETS.baselines.map((r) => r.name)).toEqual(['ppo', 'rloo', 'grpo', 'gigpo', 'metarl']);
    expect(PRESETS.baselines.every((r) => r.train)).toBe(true);
    expect(presetRows('harder', 'lamer/MineSweeper-v0').map((r) => r.name)).toEqual([
      'zeroshot@mines4',
      'rl@mines4',
      'metarl@mines4',
      'zeroshot@mines5',
      'rl@mines5',
      'metarl@mines5',
    ]);
    expect(presetRows('harder', 'lamer/Sokoban-v0').map((r) => r.name)).toEqual([
      'zeroshot@boxes3',
      'rl@boxes3',
      'metarl@boxes3',
    ]);
    expect(PRESET_NAMES).toEqual(['main', 'memory', 'gamma', 'async', 'baselines', 'harder']);
    expect(() => presetRows('ablate')).toThrow(/unknown preset 'ablate'/);
    expect(() => presetRows('harder', 'lamer/WebShop-v0')).toThrow(
      /no harder instances for lamer\/WebShop-v0; it is defined for lamer\/MineSweeper-v0, lamer\/Sokoban-v0/,
    );
  });

  it('baselines: each estimator at N = 1, group 24, no reflection, on the budget of Meta-RL', () => {
    const rl = rowConfig(row('main', 'rl'), ctx());
    for (const name of ['ppo', 'rloo', 'grpo', 'gigpo']) {
      const c = rowConfig(row('baselines', name), ctx());
      expect(c.algo.estimator).toBe(name);
      expect(c.env).toMatchObject({ attempts: 1, groupSize: 24, reflect: false, memory: 'reflection' });
      expect(c.run.iterations).toBe(100); // 9600 episodes / (4 x 24 x 1), as main's rl and metarl
      // Only the estimator differs from main's rl row (same budget, base model, evaluation, everything else).
      expect(firstDifference(c, rl)).toBe(name === 'gigpo' ? null : `algo.estimator: "${name}" vs "gigpo"`);
    }
    expect(rowConfig(row('baselines', 'ppo'), ctx()).algo.estimator).toBe('ppo'); // the critic's estimator
    // gigpo and metarl are main's rows exactly: a finished main run is reused instead of trained again.
    expect(sameTraining(rowConfig(row('baselines', 'gigpo'), ctx()), rl)).toBe(true);
    expect(sameTraining(rowConfig(row('baselines', 'metarl'), ctx()), rowConfig(row('main', 'metarl'), ctx()))).toBe(
      true,
    );
    expect(rowConfig(row('baselines', 'metarl'), ctx()).run.iterations).toBe(100);
    // The table says where γ_traj is ignored by construction and that it is unused at N = 1.
    expect(row('baselines', 'grpo').description).toMatch(/episode scores, ignores gamma_traj/);
    expect(row('baselines', 'rloo').description).toMatch(/episode scores, ignores gamma_traj/);
    expect(row('baselines', 'ppo').description).toMatch(/gamma_traj unused at N=1/);
    expect(row('baselines', 'gigpo').description).toMatch(/gamma_traj unused at N=1/);
    // A user's estimator setting does not override the row's.
    expect(rowConfig(row('baselines', 'rloo'), ctx({ layers: [{ algo: { estimator: 'ppo' } }] })).algo.estimator).toBe(
      'rloo',
    );
  });

  it('harder: main rows with the harder env options at evaluation only, weights from main/rl and main/metarl', () => {
    // A user's own env option per env (a --set env.options.X=...), which the harder options must keep.
    const userOptions: Record<string, Record<string, unknown>> = {
      'lamer/MineSweeper-v0': { memoryOnBoard: false },
      'lamer/Sokoban-v0': { maxMoves: 40 },
    };
    for (const [envId, user] of Object.entries(userOptions)) {
      const rows = presetRows('harder', envId);
      for (const h of rows) {
        const [name, setting] = h.name.split('@');
        const src = row('main', name);
        const options = HARDER[envId].find((s) => s.name === setting)!.options;
        expect(h.train).toBe(false); // nothing is trained by this preset
        expect(h.weightsOf).toBe(src.train ? name : undefined); // zeroshot: the base model
        expect(h.evalOptions).toEqual(options);
        // The run it evaluates is configured exactly as main's row (the same trained weights) ...
        const c = ctx({ envId, layers: [{ env: { options: user } }] });
        const trained = rowConfig(h, c);
        expect(trained).toEqual(rowConfig(src, c));
        // ... and its evaluation differs from that config only in the env instance options, which keep the user's.
        const evaluated = rowEvalConfig(h, trained);
        expect({ ...evaluated, env: { ...evaluated.env, options: {} } }).toEqual({
          ...trained,
          env: { ...trained.env, options: {} },
        });
        expect(evaluated.env.options).toEqual({ ...user, ...options });
        expect(trained.env.options).toEqual(user); // a copy: the run config is untouched
        expect(() => resolvedEnvOptions(envId, evaluated.env.options)).not.toThrow();
      }
    }
    const ms = presetRows('harder', 'lamer/MineSweeper-v0');
    expect(ms.map((r) => r.evalOptions)).toEqual([...Array(3).fill({ mines: 4 }), ...Array(3).fill({ mines: 5 })]);
    expect(presetRows('harder', 'lamer/Sokoban-v0')[1].evalOptions).toEqual({ boxes: 3 });
    // Rows without harder options are evaluated with their own config.
    const plain = rowConfig(row('main', 'rl'), ctx());
    expect(rowEvalConfig(row('main', 'rl'), plain)).toBe(plain);
    // Harder than the defaults: more mines / boxes than the env's own default on the same board.
    expect((resolvedEnvOptions('lamer/MineSweeper-v0', {}) as { mines: number; size: number }).mines).toBe(3);
    expect((resolvedEnvOptions('lamer/Sokoban-v0', {}) as { boxes: number }).boxes).toBe(2);
  });

  it('turns a trajectory budget into the same number of updates for RL (1 x 24) and Meta-RL (3 x 8)', () => {
    const rl = resolveConfig(row('main', 'rl').layer);
    const meta = resolveConfig(row('main', 'metarl').layer);
    expect(episodesPerUpdate(rl)).toBe(4 * 24 * 1);
    expect(episodesPerUpdate(meta)).toBe(4 * 8 * 3);
    expect(iterationsForBudget(12000, rl)).toBe(125);
    expect(iterationsForBudget(12000, meta)).toBe(125);
    expect(iterationsForBudget(10, meta)).toBe(1); // never zero updates
    expect(
      iterationsForBudget(140, resolveConfig({ algo: { groupsPerUpdate: 2 }, env: { groupSize: 4, attempts: 3 } })),
    ).toBe(6); // 140 / 24 = 5.8
    expect(() => iterationsForBudget(0, meta)).toThrow(/positive integer/);
    expect(() => iterationsForBudget(1.5, meta)).toThrow(/positive integer/);
  });

  it(
    'builds each row config: row settings, budget in iterations, ' +
      'no minute limit, pinned validation list, shared base model',
    () => {
      const rl = rowConfig(row('main', 'rl'), ctx());
      expect(rl.env).toMatchObject({ attempts: 1, groupSize: 24, reflect: false });
      expect(rl.run).toMatchObject({
        seed: 2,
        iterations: 100,
        minutes: 0,
        evalSeed: 7,
        evalTasks: 32,
        evalAttempts: 3,
        evalEvery: 20,
        dir: ctx().runDir,
      });
      expect(rl.model.init).toBe('runs/base/x');
      const meta = rowConfig(row('main', 'metarl'), ctx());
      expect(meta.env).toMatchObject({ attempts: 3, groupSize: 8, reflect: true, memory: 'reflection' });
      expect(meta.run.iterations).toBe(100);
      expect(rowConfig(row('main', 'zeroshot'), ctx()).env.reflect).toBe(false);
      expect(rowConfig(row('main', 'reflexion'), ctx()).env).toMatchObject({ reflect: true, memory: 'reflection' });
      expect(rowConfig(row('memory', 'both'), ctx()).env.memory).toBe('both');
      expect(rowConfig(row('memory', 'trajectory'), ctx()).env.memory).toBe('trajectory');
      expect(rowConfig(row('gamma', '0.3'), ctx()).algo.gammaTraj).toBe(0.3);
      expect(rowConfig(row('async', 'sync'), ctx())).toMatchObject({ run: { mode: 'sync' }, algo: { eta: 0 } });
      expect(rowConfig(row('async', 'async-corrected'), ctx())).toMatchObject({
        run: { mode: 'async' },
        algo: { eta: 4, isMode: 'truncate' },
      });
      expect(rowConfig(row('async', 'async-uncorrected'), ctx())).toMatchObject({
        run: { mode: 'async' },
        algo: { eta: 4, isMode: 'off' },
      });
    },
  );

  it('applies user layers to every row, but a row keeps the settings that define it', () => {
    const layers = [{ algo: { lr: 1e-4, gammaTraj: 0.5 }, env: { attempts: 5 } }];
    const g = rowConfig(row('gamma', '0.6'), ctx({ layers }));
    expect(g.algo.lr).toBe(1e-4);
    expect(g.algo.gammaTraj).toBe(0.6);
    expect(g.env.attempts).toBe(3);
    expect(rowConfig(row('main', 'metarl'), ctx({ layers })).algo.gammaTraj).toBe(0.5); // not a key the row defines
  });

  it('evaluates with the requested attempts and tasks without touching the rest of the config', () => {
    const c = rowConfig(row('main', 'rl'), ctx());
    const e = evalConfig(c, 128, 10);
    expect(e.run).toMatchObject({ evalTasks: 128, evalAttempts: 10, seed: 2, evalSeed: 7 });
    expect(e.env).toEqual(c.env);
    expect(c.run.evalAttempts).toBe(3); // a copy
  });

  it('pins the validation list: every run seed evaluates the same tasks when evalSeed is set', () => {
    const seeds = (seed: number, evalSeed?: number) => {
      const b = new TaskBook({ seed, groupSize: 8, attempts: 3, evalTasks: 5, evalAttempts: 3, evalSeed });
      b.openEvalRound(0);
      return b.groups.map((g) => g.taskSeed);
    };
    expect(seeds(1, 9)).toEqual(seeds(2, 9));
    expect(seeds(1)).not.toEqual(seeds(2)); // without it the list follows run.seed
    expect(seeds(9)).toEqual(seeds(1, 9));
  });
});
