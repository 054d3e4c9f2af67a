/** `lamer eval` as a user runs it: a model directory in, a pass@k table out (ALFWorld adds per-type and ID/OOD). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compactVocabulary } from '../../actor/envs/prompt.js';
import { saveModelDir } from '../../shared/model/checkpoint-files.js';
import { buildManifest, initParams } from '../../shared/model/manifest.js';
import { WordTokenizer } from '../../shared/model/tokenizer.js';

const CLI = fileURLToPath(new URL('../../scripts/cli.ts', import.meta.url));

function modelFor(envId: string, nCtx: number): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'lamer-eval-')), 'model');
  const tokenizer = new WordTokenizer([...compactVocabulary(envId)]);
  const config = { vocabSize: tokenizer.vocabSize, nCtx, dModel: 16, nLayer: 1, nHead: 2 };
  saveModelDir(dir, { config, params: initParams(buildManifest(config), 3), tokenizer });
  return dir;
}

const run = (args: string[]) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', CLI, 'eval', ...args, '--json'], { encoding: 'utf8' }).trim().split('\n').pop()!);

describe('lamer eval', () => {
  it('prints pass@1..k on the fixed validation seeds, deterministically', () => {
    const dir = modelFor('lamer/MineSweeper-v0', 256);
    const a = run(['--checkpoint', dir, '--tasks', '6', '--attempts', '4']);
    expect(a.env).toBe('lamer/MineSweeper-v0');
    expect(a.pass).toHaveLength(4);
    for (let k = 1; k < 4; k++) expect(a.pass[k]).toBeGreaterThanOrEqual(a.pass[k - 1]); // cumulative
    const b = run(['--checkpoint', dir, '--tasks', '6', '--attempts', '4']);
    expect(b.pass).toEqual(a.pass);
    expect(b.diversity).toBe(a.diversity);
  }, 60_000);

  it('reports ALFWorld success per task type and for the in- and out-of-distribution splits', () => {
    const dir = modelFor('lamer/ALFWorld-v0', 512);
    const r = run(['--checkpoint', dir, '--env', 'alfworld', '--tasks', '12', '--set', 'env.maxTurns=3']);
    const t = r.byTaskType;
    const n = (x: { n: number }) => x.n;
    expect(n(t.inDistribution) + n(t.outOfDistribution)).toBe(12);
    expect(Object.values(t.byType as Record<string, { n: number }>).map(n).reduce((a, b) => a + b, 0)).toBe(12);
    expect(Object.keys(t.byType).every((k) => ['Pick', 'Look', 'Clean', 'Heat', 'Cool', 'Pick2'].includes(k))).toBe(true);
  }, 60_000);
});
