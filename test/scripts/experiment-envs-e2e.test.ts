/**
 * `lamer experiment --env alfworld|webshop --preset main` end to end with a tiny model and a one-update budget: a
 * behaviour-cloned base model, real training rows (learner + actor process), the final evaluation, and
 * docs/results.json with ALFWorld's id/ood/per-type results and WebShop's score beside the success rate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, cliFailure } from '../fixtures/cli.js';

function experiment(root: string, env: string, extra: string[] = []): Record<string, unknown> {
  const tiny = [
    'model.dModel=16',
    'model.nLayer=1',
    'model.nHead=2',
    'pretrain.trials=8',
    'pretrain.epochs=1',
    `pretrain.cacheDir=${join(root, 'base')}`,
    'log.level=warn',
    'algo.groupsPerUpdate=1',
  ];
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'experiment',
      '--env',
      env,
      '--preset',
      'main',
      '--seeds',
      '1',
      '--trajectories',
      '24',
      '--eval-tasks',
      '12',
      '--attempts',
      '3',
      '--curve-tasks',
      '2',
      '--curve-points',
      '1',
      '--diversity-tasks',
      '0',
      '--runs-dir',
      join(root, 'runs'),
      '--docs-dir',
      join(root, 'docs'),
      ...extra,
      ...tiny.flatMap((s) => ['--set', s]),
      '--json',
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

const ROWS = ['zeroshot', 'reflexion', 'rl', 'metarl'];
type Curve = { tasks: number; pass: number[]; ci95: number[][] };

describe('lamer experiment for ALFWorld and WebShop (e2e, tiny)', () => {
  it('alfworld: every main row with id, ood and per-type pass@k; training config with the env defaults', () => {
    const root = mkdtempSync(join(tmpdir(), 'lamer-exp-alf-'));
    const out = experiment(root, 'alfworld');
    expect(out.env).toBe('alfworld');
    const results = JSON.parse(readFileSync(join(root, 'docs', 'results.json'), 'utf8'));
    expect(Object.keys(results.alfworld.main)).toEqual(ROWS);
    for (const row of Object.values(results.alfworld.main) as Array<{
      pass: number[];
      id: Curve;
      ood: Curve;
      byType: Record<string, Curve>;
    }>) {
      expect(row.pass).toHaveLength(3);
      expect(row.id.pass).toHaveLength(3);
      expect(row.ood.pass).toHaveLength(3);
      expect(row.id.tasks + row.ood.tasks).toBe(12);
      const types = Object.keys(row.byType);
      expect(types.every((t) => ['Pick', 'Look', 'Clean', 'Heat', 'Cool', 'Pick2'].includes(t))).toBe(true);
      expect(types.reduce((a, t) => a + row.byType[t].tasks, 0)).toBe(12);
      // The overall pass@k is the task-weighted mean of the two splits.
      row.pass.forEach((p, k) =>
        expect(p).toBeCloseTo((row.id.pass[k] * row.id.tasks + row.ood.pass[k] * row.ood.tasks) / 12, 3),
      );
    }
    const cfg = JSON.parse(readFileSync(join(root, 'runs', 'alfworld-main', 'metarl-s1', 'config.json'), 'utf8'));
    expect([cfg.env.maxTurns, cfg.model.nCtx]).toEqual([10, 320]);
    const md = readFileSync(join(root, 'docs', 'results.md'), 'utf8');
    expect(md).toContain('ALFWorld by task type and split');
    expect(md).toContain('No ReAct row');
  }, 300_000);

  it('webshop: every main row with score beside the success rate, 12 turns', () => {
    const root = mkdtempSync(join(tmpdir(), 'lamer-exp-web-'));
    experiment(root, 'webshop');
    const results = JSON.parse(readFileSync(join(root, 'docs', 'results.json'), 'utf8'));
    expect(Object.keys(results.webshop.main)).toEqual(ROWS);
    for (const row of Object.values(results.webshop.main) as Array<{
      pass: number[];
      score: { mean: number[]; ci95: number[][] };
    }>) {
      expect(row.pass).toHaveLength(3);
      expect(row.score.mean).toHaveLength(3);
      expect(row.score.ci95).toHaveLength(3);
      // A success is a purchase scoring 1, so the score is at least the success rate.
      row.score.mean.forEach((s, k) => expect(s).toBeGreaterThanOrEqual(row.pass[k] - 1e-4));
      row.score.mean.forEach((s, k) => k > 0 && expect(s).toBeGreaterThanOrEqual(row.score.mean[k - 1]));
    }
    const cfg = JSON.parse(readFileSync(join(root, 'runs', 'webshop-main', 'rl-s1', 'config.json'), 'utf8'));
    expect([cfg.env.maxTurns, cfg.model.nCtx, cfg.sampling.maxReflectTokens]).toEqual([12, 320, 24]);
    expect(readFileSync(join(root, 'docs', 'results.md'), 'utf8')).toContain('WebShop score');
  }, 300_000);

  it('rejects preset harder for webshop and a react row, naming what applies', () => {
    const fail = (args: string[]) => cliFailure(['experiment', ...args]);
    expect(fail(['--env', 'webshop', '--preset', 'harder'])).toMatch(
      /no harder instances for lamer\/WebShop-v0.*presets for lamer\/WebShop-v0: main, memory, gamma, async, baselines/,
    );
    expect(fail(['--env', 'alfworld', '--preset', 'main', '--rows', 'react'])).toMatch(
      /no row\(s\) react.*compact template/,
    );
  }, 60_000);
});
