import { resolveConfig } from '../../shared/config.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTargets, harderGaps, renderResultsReport } from '../../scripts/lib/experiment-report.js';
import {
  type PresetProvenance,
  continuesPreset,
  mergeResults,
  readJsonIfExists,
  validateResults,
  writeJsonAtomic,
  type RowResult,
} from '../../scripts/lib/experiment-results.js';
import {
  canonicalJson,
  envKey,
  firstDifference,
  presetKey,
  rowResult,
  sameTraining,
} from '../../scripts/lib/experiment.js';

const r = (pass: number[], over: Partial<RowResult> = {}): RowResult => ({
  pass,
  ci95: pass.map((p) => [Math.max(0, p - 0.05), Math.min(1, p + 0.05)]),
  diversity: 1.2,
  minutes: 3.5,
  ...over,
});

describe('docs/results.json', () => {
  it('merges one env/preset at a time: other envs and presets stay, the same preset is replaced', () => {
    const a = mergeResults(undefined, 'minesweeper', 'main', { rl: r([0.1, 0.2, 0.3]) });
    const b = mergeResults(a, 'minesweeper', 'gamma', { '0.3': r([0.2, 0.2, 0.2]) });
    const c = mergeResults(b, 'sokoban', 'main', { metarl: r([0.05, 0.1, 0.15]) });
    const d = mergeResults(c, 'minesweeper', 'main', { metarl: r([0.3, 0.4, 0.5]) });
    expect(Object.keys(d)).toEqual(['minesweeper', 'sokoban']);
    expect(Object.keys(d.minesweeper)).toEqual(['main', 'gamma']);
    expect(Object.keys(d.minesweeper.main)).toEqual(['metarl']); // replaced, not unioned with the old rl row
    expect(d.minesweeper.gamma['0.3'].pass).toEqual([0.2, 0.2, 0.2]);
    expect(d.sokoban.main.metarl.pass).toEqual([0.05, 0.1, 0.15]);
    expect(a.minesweeper.main.rl).toBeDefined(); // inputs are not mutated
  });

  it('rejects documents and rows not in the issue shape, naming the path', () => {
    expect(() => validateResults([])).toThrow(/expected \{"<env>"/);
    expect(() =>
      validateResults({ minesweeper: { main: { rl: { pass: [0.1], ci95: [[0, 0.2]], diversity: 1 } } } }),
    ).toThrow(/minesweeper\.main\.rl\.minutes/);
    expect(() => mergeResults({}, 'minesweeper', 'main', { rl: r([1.5]) })).toThrow(/minesweeper\.main\.rl\.pass/);
    expect(() => mergeResults({}, 'minesweeper', 'main', { rl: { ...r([0.1, 0.2]), ci95: [[0, 1]] } })).toThrow(/ci95/);
    expect(() => mergeResults({ x: 1 }, 'minesweeper', 'main', { rl: r([0.1]) })).toThrow(
      /x: expected an object of presets/,
    );
  });

  it('reads and writes JSON files safely', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-results-'));
    expect(readJsonIfExists(join(dir, 'none.json'))).toBeUndefined();
    writeFileSync(join(dir, 'bad.json'), '{nope');
    expect(() => readJsonIfExists(join(dir, 'bad.json'))).toThrow(/bad\.json' is not valid JSON/);
    writeJsonAtomic(join(dir, 'ok.json'), { a: 1 });
    expect(JSON.parse(readFileSync(join(dir, 'ok.json'), 'utf8'))).toEqual({ a: 1 });
  });

  it('aggregates seeds into a row (mean, CI containing the mean, mean diversity and minutes)', () => {
    const seed = (s: number, pass: number[], diversity: number, minutes: number) => ({
      row: 'rl',
      seed: s,
      trained: true,
      pass,
      diversity,
      minutes,
      trainMinutes: minutes,
      evalSeconds: 5,
      iterations: 10,
      trajectories: 960,
      trialsTrained: 960,
      curve: [],
      evalTasks: 128,
      finishedAt: '',
    });
    const row = rowResult([seed(1, [0.1, 0.2], 1, 2), seed(2, [0.2, 0.3], 2, 4), seed(3, [0.3, 0.4], 3, 6)], 128);
    expect(row.pass).toEqual([0.2, 0.3]);
    expect(row.diversity).toBe(2);
    expect(row.minutes).toBe(4);
    expect(row.method).toBe('t-interval over seeds');
    row.ci95.forEach(([lo, hi], k) => expect(lo <= row.pass[k] && row.pass[k] <= hi).toBe(true));
  });

  it('aggregates retry statistics and the K-sample diversity over the seeds that have them (null ignored)', () => {
    const seed = (
      s: number,
      retry?: { winAfterLoss: Array<number | null>; fatalRepeat: number | null },
      diversityK?: number,
    ) => ({
      row: 'metarl',
      seed: s,
      trained: true,
      pass: [0.1, 0.2],
      diversity: 1,
      minutes: 1,
      trainMinutes: 1,
      evalSeconds: 5,
      iterations: 10,
      trajectories: 960,
      trialsTrained: 960,
      curve: [],
      evalTasks: 128,
      finishedAt: '',
      ...(retry ? { retry: { ...retry, reachedAfterLoss: [], fatalRepeatOf: 0 } } : {}),
      ...(diversityK !== undefined ? { diversityK } : {}),
    });
    const row = rowResult(
      [
        seed(1, { winAfterLoss: [0.2, null], fatalRepeat: 0.5 }, 1),
        seed(2, { winAfterLoss: [0.4, 0.3], fatalRepeat: null }, 2),
        seed(3),
      ],
      128,
    );
    expect(row.retry?.winAfterLoss[0]).toBeCloseTo(0.3, 12);
    expect(row.retry?.winAfterLoss[1]).toBe(0.3);
    expect(row.retry?.fatalRepeat).toBe(0.5);
    expect(row.diversityK).toBe(1.5);
    const none = rowResult([seed(1)], 128);
    expect(none.retry).toBeUndefined();
    expect(none.diversityK).toBeUndefined();
    // The document accepts the fields and rejects rates outside [0, 1].
    expect(() =>
      mergeResults({}, 'minesweeper', 'main', {
        metarl: r([0.1], { retry: { winAfterLoss: [0.3, null], fatalRepeat: 0.1 }, diversityK: 1 }),
      }),
    ).not.toThrow();
    expect(() =>
      mergeResults({}, 'minesweeper', 'main', {
        metarl: r([0.1], { retry: { winAfterLoss: [1.3], fatalRepeat: 0.1 } }),
      }),
    ).toThrow(/retry\.winAfterLoss/);
    expect(() =>
      mergeResults({}, 'minesweeper', 'main', { metarl: r([0.1], { retry: { winAfterLoss: [], fatalRepeat: -1 } }) }),
    ).toThrow(/retry\.fatalRepeat/);
  });

  it('names envs by their alias and compares configs independently of key order', () => {
    expect(envKey('lamer/MineSweeper-v0')).toBe('minesweeper');
    expect(envKey('lamer/Sokoban-v0')).toBe('sokoban');
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { e: 3, f: 2 }] }, b: 1 }),
    );
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 2 }));
  });
});

describe('run identity (resume and reuse)', () => {
  const saved = {
    run: { seed: 1, dir: 'runs/a', iterations: 125 },
    env: { memory: 'reflection', options: { size: 6 } },
    algo: { lr: 3e-4, oldKey: 1 },
    log: { level: 'info' },
  };
  it(
    'ignores where a run writes, logging, and keys only one ' + 'side has (the schema changes while runs sit on disk)',
    () => {
      const now = {
        run: { seed: 1, dir: 'runs/b', iterations: 125 },
        env: { memory: 'reflection', options: { size: 6 } },
        algo: { lr: 3e-4, newKey: 'x' },
        log: { level: 'warn' },
      };
      expect(sameTraining(saved, now)).toBe(true);
      expect(firstDifference(saved, now)).toBeNull();
    },
  );
  it(
    'compares a key only one side has with its default (a ' + 'new setting away from its default is a different run)',
    () => {
      const old = { algo: { lr: 3e-4 } };
      expect(sameTraining(old, { algo: { lr: 3e-4, reflectAdvantage: 'lamer' } })).toBe(true);
      expect(firstDifference({ algo: { lr: 3e-4, reflectAdvantage: 'step' } }, old)).toBe(
        'algo.reflectAdvantage: "step" vs "lamer"',
      );
    },
  );
  it('a key whose default changed later is compared with its first default (what runs without it used)', () => {
    const today = resolveConfig();
    expect(today.algo.reflectAdvantage).toBe('step');
    expect(today.pretrain.labels).toBe('solver');
    // Made before the keys existed: spec reflections, played labels; not today's defaults.
    expect(sameTraining({ algo: { lr: 3e-4 } }, { algo: { lr: 3e-4, reflectAdvantage: 'step' } })).toBe(false);
    expect(firstDifference({ pretrain: { trials: 1500 } }, { pretrain: { trials: 1500, labels: 'solver' } })).toBe(
      'pretrain.labels: "played" vs "solver"',
    );
    expect(sameTraining({ pretrain: { trials: 1500 } }, { pretrain: { trials: 1500, labels: 'played' } })).toBe(true);
  });
  it('detects a changed training setting and names it', () => {
    const now = structuredClone(saved);
    now.algo.lr = 1e-3;
    expect(sameTraining(saved, now)).toBe(false);
    expect(firstDifference(saved, now)).toBe('algo.lr: 0.0003 vs 0.001');
    const opts = structuredClone(saved);
    (opts.env.options as Record<string, number>).size = 8; // env options compare as one value
    expect(firstDifference(saved, opts)).toMatch(/^env\.options: /);
  });
  it('names tagged variants and rejects odd tags', () => {
    expect(presetKey('main')).toBe('main');
    expect(presetKey('main', 'success')).toBe('main-success');
    expect(() => presetKey('main', 'a b')).toThrow(/--tag/);
  });
});

describe('docs/results.md', () => {
  it('checks the issue targets from the numbers', () => {
    const met = checkTargets('main', { rl: r([0.2, 0.21, 0.22]), metarl: r([0.2, 0.3, 0.35]) });
    expect(met.map((t) => t.met)).toEqual([true, true]); // +13 points; gain 15 vs 2
    expect(met[0].value).toBe('+13.0 points');
    const notMet = checkTargets('main', { rl: r([0.2, 0.25, 0.3]), metarl: r([0.2, 0.3, 0.35]) });
    expect(notMet.map((t) => t.met)).toEqual([false, false]); // +5 points; gain 15 vs 10
    const a = checkTargets('async', {
      sync: r([0.2, 0.25, 0.3]),
      'async-corrected': r([0.2, 0.25, 0.31]),
      'async-uncorrected': r([0.1, 0.15, 0.2]),
    });
    expect(a.map((t) => t.met)).toEqual([true, true]);
    // ±5 CIs cannot show a 2-point equivalence
    expect(a[0].caveat).toMatch(/point estimate only: CI half-widths up to 5\.0 points/);
    const tight = (pass: number[]) => r(pass, { ci95: pass.map((p) => [p - 0.005, p + 0.005]) });
    expect(
      checkTargets('async', {
        sync: tight([0.2, 0.25, 0.3]),
        'async-corrected': tight([0.2, 0.25, 0.31]),
        'async-uncorrected': tight([0.1, 0.1, 0.2]),
      })[0].caveat,
    ).toBeUndefined();
    const b = checkTargets('async', {
      sync: r([0.2, 0.25, 0.3]),
      'async-corrected': r([0.2, 0.25, 0.25]),
      'async-uncorrected': r([0.2, 0.25, 0.24]),
    });
    expect(b.map((t) => t.met)).toEqual([false, false]);
    expect(checkTargets('gamma', { '0.3': r([0.1, 0.1, 0.1]) })).toEqual([]);
    // Training adds to memory use: Meta-RL against the untrained Reflexion row at pass@3 and at win-after-loss.
    const retry = (w: number) => ({ winAfterLoss: [w, 0.1], fatalRepeat: 0.2 });
    const refl = checkTargets('main', {
      reflexion: r([0.15, 0.3, 0.4], { retry: retry(0.25) }),
      rl: r([0.2, 0.21, 0.22]),
      metarl: r([0.2, 0.3, 0.38], { retry: retry(0.3) }),
    });
    expect(refl.slice(2).map((t) => [t.target, t.value, t.met])).toEqual([
      ['Meta-RL pass@3 ≥ untrained Reflexion pass@3', '-2.0 points', false],
      ['Meta-RL win-after-loss (attempt 2) ≥ untrained Reflexion', '30.0 vs 25.0%', true],
    ]);
  });

  it('renders one table per env/preset with CIs, the paper row and the reading', () => {
    const md = renderResultsReport(
      { minesweeper: { main: { rl: r([0.2, 0.25, 0.3]), metarl: r([0.2, 0.3, 0.45]) } } },
      {},
      'Our reading.',
    );
    expect(md).toContain('### minesweeper / main');
    expect(md).toContain(
      '| rl | 20.0 [15.0, 25.0] | 25.0 [20.0, 30.0] | 30.0 [25.0, 35.0] | +10.0 | – | – | 1.200 / – |',
    );
    const withRetry = renderResultsReport(
      {
        minesweeper: {
          main: {
            metarl: r([0.2, 0.3, 0.45], { retry: { winAfterLoss: [0.125, null], fatalRepeat: 0.5 }, diversityK: 0.75 }),
          },
        },
      },
      {},
      null,
    );
    expect(withRetry).toContain('| +25.0 | 12.5 / – | 50.0 | 1.200 / 0.750 |');
    expect(md).toContain('metarl 44.1/66.4/74.4');
    expect(md).toMatch(/Meta-RL pass@3 − RL pass@3 ≥ \+10 points \| \+15\.0 points \| yes/);
    expect(md).toContain('## Reading\n\nOur reading.');
  });
});

describe('docs/results.md for the baselines and harder presets', () => {
  const prov = (rows: Record<string, Partial<PresetProvenance['rows'][string]['perSeed'][number]>>, trained: boolean) =>
    ({
      commands: ['npm run -s lamer -- experiment --preset x'],
      startedAt: 'a',
      finishedAt: 'b',
      wallMinutes: 1,
      seeds: [1],
      trajectories: 24,
      evalTasks: 4,
      attempts: 3,
      evalSeed: 1,
      ciMethod: 'Wilson interval (one seed)',
      baseModel: { dir: 'runs/base/x', pass: [0.1, 0.2, 0.3] },
      settings: {},
      rows: Object.fromEntries(
        Object.entries(rows).map(([name, s]) => [
          name,
          {
            description: `what ${name} is`,
            trained,
            iterations: 1,
            perSeed: [{ seed: 1, pass: [0.1, 0.2, 0.3], minutes: 0.5, ...s }],
          },
        ]),
      ),
    }) as unknown as PresetProvenance;

  it('baselines: the paper Table 1 row and the gamma_traj note', () => {
    const md = renderResultsReport(
      { sokoban: { baselines: { ppo: r([0.1, 0.1, 0.1]), grpo: r([0.1, 0.1, 0.1]) } } },
      { sokoban: { baselines: prov({ ppo: {}, grpo: {} }, true) } },
      null,
    );
    expect(md).toContain('ppo 12.5/15.4/16.8; rloo –/–/–; grpo 22.9/26.4/27.0; gigpo 41.6/43.6/44.1');
    expect(md).toMatch(/GRPO and RLOO would ignore it at any N/);
    expect(md).toContain('![sokoban-baselines-learning.png](sokoban-baselines-learning.png)');
  });

  it('harder: Meta-RL − RL per setting, the evaluated runs per seed, no learning curves', () => {
    const rows = {
      'zeroshot@mines4': r([0.05, 0.06, 0.07]),
      'rl@mines4': r([0.1, 0.12, 0.14]),
      'metarl@mines4': r([0.1, 0.15, 0.2]),
      'rl@mines5': r([0.1, 0.12, 0.14]),
    };
    // mines5 has no metarl row (e.g. --rows): no gap for it.
    expect(harderGaps(rows).map((g) => [g.setting, g.gap.toFixed(2)])).toEqual([['mines4', '0.06']]);
    const md = renderResultsReport(
      { minesweeper: { harder: rows } },
      {
        minesweeper: {
          harder: prov(
            {
              'zeroshot@mines4': {},
              'rl@mines4': { weightsFrom: 'runs/e/minesweeper-main/rl-s1', weightsVersion: 125 },
              'metarl@mines4': { weightsFrom: 'runs/e/minesweeper-main/metarl-s1', weightsVersion: 125 },
              'rl@mines5': { weightsFrom: 'runs/e/minesweeper-main/rl-s1', weightsVersion: 125 },
            },
            false,
          ),
        },
      },
      null,
    );
    expect(md).toContain('Meta-RL − RL at pass@3: mines4 +6.0 points (paper, harder instances: about +5).');
    expect(md).toContain(
      '- rl@mines4: s1 10.0/30.0/30.0 (0.5 min, final weights v125 of runs/e/minesweeper-main/rl-s1)',
    );
    expect(md).toContain('- zeroshot@mines4: s1 10.0/30.0/30.0 (0.5 min)\n');
    expect(md).toMatch(/No training here: `<row>@<setting>` evaluates the final checkpoint/);
    expect(md).not.toContain('minesweeper-harder-learning.png');
    expect(md).toContain('![minesweeper-harder-passk.png](minesweeper-harder-passk.png)');
    // A tagged variant gets its preset's note.
    const tagged = renderResultsReport({ minesweeper: { 'harder-text': rows } }, {}, null);
    expect(tagged).toMatch(/No training here/);
    expect(tagged).toContain('mines4 +6.0 points');
  });
});

describe('continuesPreset', () => {
  const prev = {
    trajectories: 12000,
    evalTasks: 128,
    attempts: 10,
    evalSeed: 1,
    baseModel: { dir: 'runs/base/a', pass: [0.1] },
    settings: { layers: [{ algo: { lr: 1e-4 } }] },
  };
  const now = {
    trajectories: 12000,
    evalTasks: 128,
    attempts: 10,
    evalSeed: 1,
    baseModelDir: 'runs/base/a',
    layers: [{ algo: { lr: 1e-4 } }],
  };

  it('continues a preset with the same budget, evaluation, base model and layers', () => {
    expect(continuesPreset(prev, now)).toBe(true);
  });

  it('starts a fresh record when the base model, a layer, the budget or the evaluation changed', () => {
    expect(continuesPreset(prev, { ...now, baseModelDir: 'runs/base/b' })).toBe(false);
    expect(continuesPreset(prev, { ...now, layers: [] })).toBe(false);
    expect(continuesPreset(prev, { ...now, trajectories: 24000 })).toBe(false);
    expect(continuesPreset(prev, { ...now, attempts: 3 })).toBe(false);
    expect(continuesPreset(prev, { ...now, evalSeed: 2 })).toBe(false);
  });
});
