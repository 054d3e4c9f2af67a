import { describe, expect, it } from 'vitest';
import { TaskBook } from '../../learner/task-book.js';
import {
  episodesPerUpdate,
  evalConfig,
  iterationsForBudget,
  PRESETS,
  presetRows,
  rowConfig,
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
    expect(() => presetRows('ablate')).toThrow(/unknown preset 'ablate'/);
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
