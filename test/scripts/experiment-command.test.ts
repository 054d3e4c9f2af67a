/**
 * `lamer experiment` end to end with a tiny model and a one-update budget: real training runs (learner + actor
 * process), the final 4-attempt evaluation, docs/results.* and the PNGs, resume, and reuse across presets.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, cliFailure } from '../fixtures/cli.js';

describe('lamer experiment (e2e, tiny)', () => {
  it('runs a preset table, writes docs/results.*, resumes without re-running and reuses identical runs', () => {
    const root = mkdtempSync(join(tmpdir(), 'lamer-exp-'));
    const tiny = [
      'model.dModel=16',
      'model.nLayer=1',
      'model.nHead=2',
      'model.nCtx=160',
      'pretrain.trials=8',
      'pretrain.epochs=1',
      `pretrain.cacheDir=${join(root, 'base')}`,
      'run.evalTasks=4',
      'log.level=warn',
      'algo.groupsPerUpdate=1',
    ];
    const run = (preset: string, seeds: number, extra: string[] = []) =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [
            '--import',
            'tsx',
            CLI,
            'experiment',
            '--preset',
            preset,
            '--seeds',
            String(seeds),
            ...extra,
            '--trajectories',
            '24',
            '--eval-tasks',
            '4',
            '--attempts',
            '4',
            '--curve-tasks',
            '2',
            '--runs-dir',
            join(root, 'runs'),
            '--docs-dir',
            join(root, 'docs'),
            ...tiny.flatMap((s) => ['--set', s]),
            '--json',
          ],
          { encoding: 'utf8' },
        )
          .trim()
          .split('\n')
          .pop()!,
      );

    const main = run('main', 2);
    // The untrained rows sample the same trials whatever the seed (one evaluation definition): no spread over seeds.
    expect(main.ciMethod).toMatch(/Wilson interval over validation tasks \(seeds identical\)/);
    const results = JSON.parse(readFileSync(join(root, 'docs', 'results.json'), 'utf8'));
    expect(Object.keys(results.minesweeper.main)).toEqual(['zeroshot', 'reflexion', 'rl', 'metarl']);
    for (const row of Object.values(results.minesweeper.main) as Array<{
      pass: number[];
      ci95: number[][];
      diversity: number;
      minutes: number;
      retry: { winAfterLoss: unknown[] };
    }>) {
      expect(Object.keys(row).sort()).toEqual(['ci95', 'diversity', 'diversityK', 'minutes', 'pass', 'retry']);
      expect(row.retry.winAfterLoss).toHaveLength(3); // attempts 2..4
      expect(row.pass).toHaveLength(4);
      row.pass.forEach((p, k) => {
        if (k > 0) expect(p).toBeGreaterThanOrEqual(row.pass[k - 1]); // cumulative
        expect(row.ci95[k][0]).toBeLessThanOrEqual(p + 1e-9);
        expect(row.ci95[k][1]).toBeGreaterThanOrEqual(p - 1e-9);
      });
      expect(row.minutes).toBeGreaterThan(0);
    }
    const prov = JSON.parse(readFileSync(join(root, 'docs', 'results.runs.json'), 'utf8')).minesweeper.main;
    // 24 episodes per trained row = 1 update of 1 group x 24 (RL) or 1 group x 8 trials x 3 episodes (Meta-RL).
    expect(prov.rows.rl.iterations).toBe(1);
    expect(prov.rows.metarl.iterations).toBe(1);
    expect(prov.rows.rl.perSeed[0].trialsTrained).toBe(24);
    expect(prov.rows.metarl.perSeed[0].trialsTrained).toBe(8);
    expect(prov.rows.zeroshot.perSeed[0].trialsTrained).toBe(0);
    for (const f of ['results.md', 'minesweeper-main-learning.png', 'minesweeper-main-passk.png'])
      expect(existsSync(join(root, 'docs', f)), f).toBe(true);
    const md = readFileSync(join(root, 'docs', 'results.md'), 'utf8');
    expect(md).toContain('### minesweeper / main');
    expect(md).toContain('experiment --preset main --seeds 2');
    const rlResult = join(root, 'runs', 'minesweeper-main', 'rl-s1', 'result.json');
    expect(existsSync(join(root, 'runs', 'minesweeper-main', 'rl-s1', 'checkpoints'))).toBe(true);

    // Resume: nothing is re-run (result.json untouched), the same numbers come back.
    const mtime = statSync(rlResult).mtimeMs;
    const again = run('main', 2);
    expect(statSync(rlResult).mtimeMs).toBe(mtime);
    expect(again.rows).toEqual(main.rows);

    // gamma 0.9 is main/metarl's exact config: reused, not retrained; the other rows train. Both presets stay in
    // results.json.
    run('gamma', 1);
    const g = JSON.parse(readFileSync(join(root, 'docs', 'results.runs.json'), 'utf8')).minesweeper.gamma;
    expect(g.rows['0.9'].perSeed[0].reusedFrom).toBe(join(root, 'runs', 'minesweeper-main', 'metarl-s1'));
    expect(g.rows['0.9'].perSeed[0].pass).toEqual(prov.rows.metarl.perSeed[0].pass);
    expect(g.rows['0.3'].perSeed[0].reusedFrom).toBeUndefined();
    expect(existsSync(join(root, 'runs', 'minesweeper-gamma', '0.3-s1', 'checkpoints'))).toBe(true);
    const both = JSON.parse(readFileSync(join(root, 'docs', 'results.json'), 'utf8'));
    expect(Object.keys(both.minesweeper)).toEqual(['main', 'gamma']);
    expect(g.ciMethod).toMatch(/Wilson/);
    expect(prov.rows.metarl.perSeed[0].episodesTrained).toBeGreaterThan(0);
    expect(prov.rows.metarl.perSeed[0].episodesTrained).toBeLessThanOrEqual(24); // won trials stop early
    expect(prov.rows.rl.perSeed[0].episodesTrained).toBe(24);

    // A finished row is never silently reused for a different configuration.
    expect(() => run('main', 2, ['--set', 'algo.lr=0.001'])).toThrow(/different configuration.*--tag/s);
  }, 180_000);

  it('rejects a missing preset and an unknown env with a clear error', () => {
    const fail = (args: string[]) => cliFailure(['experiment', ...args]);
    expect(fail([])).toMatch(/--preset is required/);
    expect(fail(['--preset', 'main', '--env', 'chess'])).toMatch(/unknown environment 'chess'/);
  }, 30_000);
});
