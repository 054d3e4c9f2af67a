/**
 * `lamer experiment` for ALFWorld and WebShop, without running models: per-env default layers, the ID-only training
 * tasks, ALFWorld's per-type/split results and WebShop's scores in docs/results.json and docs/results.md, and the
 * missing ReAct row and env-less presets as clear errors.
 */
import { describe, expect, it } from 'vitest';
import { generateHousehold } from '../../actor/envs/alfworld/generate.js';
import { trainTaskSeed } from '../../learner/task-book.js';
import { envTables, renderResultsReport } from '../../scripts/lib/experiment-report.js';
import {
  ENV_LAYERS,
  PRESET_NOTES,
  PRESETS,
  presetRows,
  presetsFor,
  rowConfig,
  type RowContext,
} from '../../scripts/lib/experiment-presets.js';
import {
  mergeResults,
  validateResults,
  type RowResult,
  type SeedResult,
} from '../../scripts/lib/experiment-results.js';
import { alfworldGroups, NO_REACT, rowResult, scoreCurve } from '../../scripts/lib/experiment.js';
import { ALFWORLD_ID_TYPES, alfworldSeedTaskType } from '../../shared/alfworld-splits.js';
import { resolveConfig } from '../../shared/config.js';

const ALFWORLD = 'lamer/ALFWorld-v0';
const WEBSHOP = 'lamer/WebShop-v0';

const ctx = (envId: string, layers: RowContext['layers'] = []): RowContext => ({
  layers,
  envId,
  seed: 1,
  evalSeed: 1,
  trajectories: 96,
  curveTasks: 8,
  curvePoints: 2,
  baseModelDir: 'runs/base/x',
  runDir: 'runs/x',
});

const metarl = PRESETS.main.find((r) => r.name === 'metarl')!;

describe('per-env defaults of experiment rows', () => {
  it("WebShop runs with the paper's 12 turns, ALFWorld with 10; both with a context that holds their prompts", () => {
    const w = rowConfig(metarl, ctx(WEBSHOP));
    expect(w.env.maxTurns).toBe(12);
    expect(w.model.nCtx).toBe(320);
    expect(w.sampling.maxReflectTokens).toBe(24);
    const a = rowConfig(metarl, ctx(ALFWORLD));
    expect(a.env.maxTurns).toBe(10);
    expect(a.model.nCtx).toBe(320);
    // The row's own layer still applies on top (Meta-RL: N = 3, group 8).
    expect([a.env.attempts, a.env.groupSize]).toEqual([3, 8]);
  });

  it('user layers override the env defaults; MineSweeper and Sokoban keep the schema defaults', () => {
    const w = rowConfig(metarl, ctx(WEBSHOP, [{ env: { maxTurns: 15 }, model: { nCtx: 400 } }]));
    expect([w.env.maxTurns, w.model.nCtx]).toEqual([15, 400]);
    const d = resolveConfig();
    for (const env of ['lamer/MineSweeper-v0', 'lamer/Sokoban-v0']) {
      expect(ENV_LAYERS[env]).toBeUndefined();
      const c = rowConfig(metarl, ctx(env));
      expect([c.env.maxTurns, c.model.nCtx, c.sampling.maxReflectTokens]).toEqual([
        d.env.maxTurns,
        d.model.nCtx,
        d.sampling.maxReflectTokens,
      ]);
    }
  });
});

describe('ALFWorld training tasks', () => {
  it('are drawn only from the in-distribution types (Pick, Look, Clean, Heat), as the env generates them', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const seed = trainTaskSeed(3, i);
      const type = alfworldSeedTaskType(seed);
      expect(ALFWORLD_ID_TYPES).toContain(type);
      seen.add(type);
      if (i < 40) expect(generateHousehold(seed, { scale: 'alfworld' }).task.type).toBe(type);
    }
    expect([...seen].sort()).toEqual([...ALFWORLD_ID_TYPES].sort());
  });
});

describe('ALFWorld and WebShop final evaluations', () => {
  it('groups an ALFWorld evaluation by task type and split from the pinned validation seeds', () => {
    const cfg = resolveConfig({ env: { id: ALFWORLD }, run: { evalSeed: 1, evalAttempts: 3 } });
    const results = Array.from({ length: 60 }, (_, i) => ({ episodesWon: i % 2 === 0 ? [true] : [false, false] }));
    const g = alfworldGroups(cfg, results)!;
    expect(Object.keys(g)).toEqual(expect.arrayContaining(['Pick', 'Look', 'Clean', 'Heat', 'Cool', 'Pick2', 'id']));
    expect(g.id.tasks + g.ood.tasks).toBe(60);
    const types = ['Pick', 'Look', 'Clean', 'Heat', 'Cool', 'Pick2'];
    expect(types.reduce((a, t) => a + (g[t]?.tasks ?? 0), 0)).toBe(60);
    for (const v of Object.values(g)) expect(v.pass).toHaveLength(3); // evalAttempts, even when every trial was short
    expect(alfworldGroups(resolveConfig({ env: { id: WEBSHOP } }), results)).toBeUndefined();
    const loaded = resolveConfig({ env: { id: ALFWORLD, options: { dataDir: 'x' } } });
    expect(alfworldGroups(loaded, results)).toBeUndefined();
  });

  it('scores WebShop trials by the best purchase within the first k episodes (0 without a purchase)', () => {
    const trial = (episodes: Array<Array<number | undefined>>) => {
      const rows: Array<{ phase: string; episode: number }> = [];
      const steps: Array<{ obs: string; terminated: boolean; won: boolean; score?: number }> = [];
      episodes.forEach((scores, e) =>
        scores.forEach((sc) => {
          rows.push({ phase: 'play', episode: e });
          steps.push({
            obs: '',
            terminated: sc !== undefined,
            won: sc === 1,
            ...(sc !== undefined ? { score: sc } : {}),
          });
        }),
      );
      return { rows, steps };
    };
    const out = scoreCurve(
      [
        trial([
          [undefined, 0.5],
          [undefined, 1],
        ]), // 0.5, then a win
        trial([[undefined], [0.25], [undefined]]), // nothing, 0.25, nothing
      ],
      3,
    );
    expect(out.score).toEqual([0.25, 0.625, 0.625]);
    out.ci95.forEach(([lo, hi], k) => expect(lo <= out.score[k] && out.score[k] <= hi).toBe(true));
    // Nothing bought in any episode: score 0, not missing.
    expect(scoreCurve([trial([[undefined, undefined]]), trial([[undefined]])], 3).score).toEqual([0, 0, 0]);
  });

  const seed = (s: number, over: Partial<SeedResult>): SeedResult => ({
    row: 'metarl',
    seed: s,
    trained: true,
    pass: [0.2, 0.3, 0.4],
    diversity: 1,
    minutes: 1,
    trainMinutes: 1,
    evalSeconds: 1,
    iterations: 1,
    trajectories: 24,
    trialsTrained: 8,
    curve: [],
    evalTasks: 12,
    finishedAt: '',
    ...over,
  });

  it('aggregates ALFWorld groups into id, ood and byType, and WebShop scores, over seeds', () => {
    const groups = (p: number) => ({
      Pick: { tasks: 4, pass: [p, p, p] },
      Cool: { tasks: 2, pass: [0, 0, p] },
      id: { tasks: 8, pass: [p, p, 2 * p] },
      ood: { tasks: 4, pass: [0, p, p] },
    });
    const row = rowResult([seed(1, { groups: groups(0.25) }), seed(2, { groups: groups(0.5) })], 12);
    expect(row.id?.pass).toEqual([0.375, 0.375, 0.75]);
    expect(row.ood?.tasks).toBe(4);
    expect(Object.keys(row.byType!)).toEqual(['Pick', 'Cool']);
    row.id!.ci95.forEach(([lo, hi], k) => expect(lo <= row.id!.pass[k] && row.id!.pass[k] <= hi).toBe(true));
    const one = rowResult(
      [
        seed(1, {
          score: [0.5, 0.6, 0.7],
          scoreCi95: [
            [0.4, 0.6],
            [0.5, 0.7],
            [0.6, 0.8],
          ],
        }),
      ],
      12,
    );
    expect(one.score).toEqual({
      mean: [0.5, 0.6, 0.7],
      ci95: [
        [0.4, 0.6],
        [0.5, 0.7],
        [0.6, 0.8],
      ],
    });
    const two = rowResult([seed(1, { score: [0.5, 0.5, 0.5] }), seed(2, { score: [0.7, 0.7, 0.9] })], 12);
    expect(two.score!.mean).toEqual([0.6, 0.6, 0.7]);
    expect(two.score!.ci95[2][0]).toBeLessThan(0.7);
    // Other envs: none of these keys.
    const plain = rowResult([seed(1, {})], 12);
    expect(['id', 'ood', 'byType', 'score'].filter((k) => k in plain)).toEqual([]);
  });

  const row = (pass: number[], over: Partial<RowResult> = {}): RowResult => ({
    pass,
    ci95: pass.map((p) => [Math.max(0, p - 0.1), Math.min(1, p + 0.1)]),
    diversity: 0.5,
    minutes: 2,
    ...over,
  });
  const g = (tasks: number, pass: number[]) => ({
    tasks,
    pass,
    ci95: pass.map((p): [number, number] => [Math.max(0, p - 0.1), Math.min(1, p + 0.1)]),
  });

  it('validates and renders alfworld.main (id, ood, per type) and webshop.main (score, success)', () => {
    const alf = {
      zeroshot: row([0.1, 0.15, 0.2], { id: g(8, [0.125, 0.25, 0.25]), ood: g(4, [0, 0, 0.25]) }),
      metarl: row([0.3, 0.4, 0.5], {
        id: g(8, [0.5, 0.5, 0.625]),
        ood: g(4, [0, 0.25, 0.25]),
        byType: { Pick: g(2, [1, 1, 1]), Cool: g(2, [0, 0.5, 0.5]) },
      }),
    };
    const web = {
      zeroshot: row([0.05, 0.1, 0.1], {
        score: {
          mean: [0.3, 0.4, 0.45],
          ci95: [
            [0.2, 0.4],
            [0.3, 0.5],
            [0.35, 0.55],
          ],
        },
      }),
    };
    const doc = mergeResults(mergeResults(undefined, 'alfworld', 'main', alf), 'webshop', 'main', web);
    expect(validateResults(doc).alfworld.main.metarl.ood?.pass).toEqual([0, 0.25, 0.25]);
    expect(() => validateResults({ alfworld: { main: { x: row([0.1], { id: g(2, [1.5]) }) } } })).toThrow(
      /alfworld\.main\.x\.id\.pass/,
    );
    expect(() =>
      validateResults({ webshop: { main: { x: row([0.1], { score: { mean: [0.1], ci95: [] } }) } } }),
    ).toThrow(/webshop\.main\.x\.score\.ci95/);
    const md = renderResultsReport(doc, {}, null);
    expect(md).toContain('| row | Pick (2) | Cool (2) | in-distribution (8) | out-of-distribution (4) |');
    expect(md).toContain('| metarl | 100.0 / 100.0 [90.0, 100.0] | 0.0 / 50.0 [40.0, 60.0] | 50.0 / 62.5 [52.5, 72.5]');
    expect(md).toContain('| zeroshot | 30.0 / 45.0 [35.0, 55.0] | 5.0 / 10.0 [0.0, 20.0] |');
    expect(md).toContain('Paper (Qwen3-4B'); // WebShop's success rates beside ours
    expect(envTables({ a: row([0.1, 0.2, 0.3]) })).toEqual([]); // MineSweeper/Sokoban: no extra table
  });
});

describe('presets per env', () => {
  it('names the env and the presets that do apply when a preset means nothing for it', () => {
    expect(() => presetRows('harder', WEBSHOP)).toThrow(
      new RegExp(
        'preset harder has no harder instances for lamer/WebShop-v0.*' +
          'presets for lamer/WebShop-v0: main, memory, gamma, async, baselines$',
      ),
    );
    expect(presetsFor('lamer/Sokoban-v0')).toContain('harder');
    expect(presetsFor(ALFWORLD)).not.toContain('harder');
  });

  it('has no react row, and says why in the main table and in the --rows error', () => {
    expect(PRESETS.main.map((r) => r.name)).not.toContain('react');
    expect(PRESET_NOTES.main).toMatch(/No ReAct row.*compact template.*<action>/);
    expect(NO_REACT).toMatch(/compact template.*zeroshot/);
  });
});
