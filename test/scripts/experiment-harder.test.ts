/**
 * `lamer experiment --preset harder` end to end with a tiny model and a one-update budget: without main's runs it
 * names them; with --train-missing it trains them in main's run directories (the runs `--preset main` then finds
 * finished), evaluates zero-shot, RL and Meta-RL on the harder boards and writes docs/results.* with the rows; a
 * re-evaluation from main's checkpoints gives the same numbers and leaves the checkpoints untouched.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../fixtures/cli.js';
import { describe, expect, it } from 'vitest';
import { PRESET_NAMES } from '../../scripts/lib/experiment-presets.js';

/** sha256 of every file under `dir`, by relative path. */
function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    out[p.slice(dir.length)] = createHash('sha256').update(readFileSync(p)).digest('hex');
  }
  return out;
}

describe('lamer experiment --preset harder (e2e, tiny)', () => {
  it('evaluates main’s trained runs on harder boards without retraining them', () => {
    const root = mkdtempSync(join(tmpdir(), 'lamer-harder-'));
    const tiny = [
      'model.dModel=16',
      'model.nLayer=1',
      'model.nHead=2',
      'model.nCtx=160',
      'pretrain.trials=8',
      'pretrain.epochs=1',
      `pretrain.cacheDir=${join(root, 'base')}`,
      'log.level=warn',
      'algo.groupsPerUpdate=1',
    ];
    const args = (preset: string, extra: string[]) => [
      '--import',
      'tsx',
      CLI,
      'experiment',
      '--preset',
      preset,
      '--seeds',
      '1',
      ...extra,
      '--trajectories',
      '24',
      '--eval-tasks',
      '4',
      '--attempts',
      '4',
      '--curve-tasks',
      '2',
      '--diversity-tasks',
      '2',
      '--diversity-samples',
      '2',
      '--runs-dir',
      join(root, 'runs'),
      '--docs-dir',
      join(root, 'docs'),
      ...tiny.flatMap((s) => ['--set', s]),
      '--json',
    ];
    const run = (preset: string, extra: string[] = []) =>
      JSON.parse(
        execFileSync(process.execPath, args(preset, extra), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
          .trim()
          .split('\n')
          .pop()!,
      );
    const mainDir = join(root, 'runs', 'minesweeper-main');

    // Without main's runs: an error naming each missing run and how to make it; nothing trained.
    let err = '';
    try {
      run('harder');
    } catch (e) {
      err = String((e as { stderr: string }).stderr);
    }
    expect(err).toContain(join(mainDir, 'rl-s1'));
    expect(err).toContain(join(mainDir, 'metarl-s1'));
    expect(err).toMatch(/--preset main --rows rl,metarl --seed-list 1.*--train-missing/);
    expect(existsSync(join(mainDir, 'rl-s1'))).toBe(false);

    const first = run('harder', ['--train-missing']);
    const names = ['zeroshot@mines4', 'rl@mines4', 'metarl@mines4', 'zeroshot@mines5', 'rl@mines5', 'metarl@mines5'];
    const results = JSON.parse(readFileSync(join(root, 'docs', 'results.json'), 'utf8'));
    expect(Object.keys(results.minesweeper)).toEqual(['harder']);
    expect(Object.keys(results.minesweeper.harder)).toEqual(names);
    for (const r of Object.values(results.minesweeper.harder) as Array<{ pass: number[]; minutes: number }>) {
      expect(Object.keys(r).sort()).toEqual(['ci95', 'diversity', 'diversityK', 'minutes', 'pass', 'retry']);
      expect(r.pass).toHaveLength(4);
      expect(r.minutes).toBeGreaterThan(0);
    }
    const prov = JSON.parse(readFileSync(join(root, 'docs', 'results.runs.json'), 'utf8')).minesweeper.harder;
    for (const name of names) {
      const [row, setting] = name.split('@');
      const s = prov.rows[name].perSeed[0];
      expect(prov.rows[name].trained).toBe(false);
      // The trained rows evaluate main's final weights of the same seed; zeroshot the base model.
      expect(s.weightsFrom).toBe(row === 'zeroshot' ? undefined : join(mainDir, `${row}-s1`));
      expect(s.weightsVersion).toBe(row === 'zeroshot' ? undefined : 1);
      const dir = join(root, 'runs', 'minesweeper-harder', `${name}-s1`);
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      expect(cfg.env.options).toEqual({ mines: setting === 'mines4' ? 4 : 5 });
      expect(existsSync(join(dir, 'checkpoints'))).toBe(false); // nothing trained here
    }
    // main's runs were trained (one update each) with main's own config, and evaluated on the default boards.
    for (const row of ['rl', 'metarl']) {
      const main = JSON.parse(readFileSync(join(mainDir, `${row}-s1`, 'result.json'), 'utf8'));
      expect(main).toMatchObject({ row, trained: true, iterations: 1 });
      expect(JSON.parse(readFileSync(join(mainDir, `${row}-s1`, 'config.json'), 'utf8')).env.options).toEqual({});
    }
    const md = readFileSync(join(root, 'docs', 'results.md'), 'utf8');
    expect(md).toContain('### minesweeper / harder');
    expect(md).toContain(`final weights v1 of ${join(mainDir, 'rl-s1')}`);
    expect(md).toMatch(/Meta-RL − RL at pass@3: mines4 [+-]\d+\.\d, mines5 [+-]\d+\.\d points/);
    expect(md).not.toContain('minesweeper-harder-learning.png');
    expect(existsSync(join(root, 'docs', 'minesweeper-harder-passk.png'))).toBe(true);

    // `--preset main` finds those runs finished: the same configuration, nothing retrained.
    const ckpts = Object.fromEntries(['rl', 'metarl'].map((r) => [r, hashTree(join(mainDir, `${r}-s1`))]));
    const mtime = statSync(join(mainDir, 'rl-s1', 'result.json')).mtimeMs;
    const main = run('main', ['--rows', 'rl,metarl']);
    expect(Object.keys(main.rows)).toEqual(['rl', 'metarl']);
    expect(statSync(join(mainDir, 'rl-s1', 'result.json')).mtimeMs).toBe(mtime);

    // Evaluated again from main's checkpoints (no --train-missing needed now): the same numbers, weights untouched.
    rmSync(join(root, 'runs', 'minesweeper-harder'), { recursive: true });
    const again = run('harder', ['--rows', 'rl@mines4,metarl@mines5']);
    const strip = (rows: Record<string, { minutes: number }>) =>
      Object.fromEntries(Object.entries(rows).map(([k, { minutes: _, ...r }]) => [k, r]));
    expect(Object.keys(again.rows)).toEqual(['rl@mines4', 'metarl@mines5']);
    for (const k of Object.keys(again.rows)) expect(strip(again.rows)[k]).toEqual(strip(first.rows)[k]);
    for (const r of ['rl', 'metarl']) expect(hashTree(join(mainDir, `${r}-s1`))).toEqual(ckpts[r]);
    const both = JSON.parse(readFileSync(join(root, 'docs', 'results.json'), 'utf8'));
    expect(Object.keys(both.minesweeper)).toEqual(['harder', 'main']);
    expect(Object.keys(both.minesweeper.harder)).toEqual(['rl@mines4', 'metarl@mines5']);
  }, 240_000);

  it('--help lists every preset', () => {
    const help = execFileSync(process.execPath, ['--import', 'tsx', CLI, 'experiment', '--help'], { encoding: 'utf8' });
    for (const p of PRESET_NAMES) expect(help).toContain(`"${p}"`);
    expect(help).toMatch(/baselines \(ppo, rloo, grpo,\s+gigpo at N=1 and metarl/);
    expect(help).toContain('--train-missing');
  }, 30_000);
});
