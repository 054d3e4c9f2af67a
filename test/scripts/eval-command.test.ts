/** `lamer eval` as a user runs it: a model directory in, a pass@k table out (ALFWorld adds per-type and ID/OOD). */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../fixtures/cli.js';
import { describe, expect, it } from 'vitest';
import { compactVocabulary } from '../../actor/envs/prompt.js';
import { saveModelDir } from '../../shared/model/checkpoint-files.js';
import { buildManifest, initParams } from '../../shared/model/manifest.js';
import { WordTokenizer } from '../../shared/model/tokenizer.js';
import { startServe } from '../../scripts/lib/serve.js';

function modelFor(envId: string, nCtx: number): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'lamer-eval-')), 'model');
  const tokenizer = new WordTokenizer([...compactVocabulary(envId)]);
  const config = { vocabSize: tokenizer.vocabSize, nCtx, dModel: 16, nLayer: 1, nHead: 2 };
  saveModelDir(dir, { config, params: initParams(buildManifest(config), 3), tokenizer });
  return dir;
}

const run = (args: string[]) =>
  JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', CLI, 'eval', ...args, '--json'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop()!,
  );

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
    expect(
      Object.values(t.byType as Record<string, { n: number }>)
        .map(n)
        .reduce((a, b) => a + b, 0),
    ).toBe(12);
    expect(Object.keys(t.byType).every((k) => ['Pick', 'Look', 'Clean', 'Heat', 'Cool', 'Pick2'].includes(k))).toBe(
      true,
    );
  }, 60_000);
});

describe('lamer eval --backend openai', () => {
  // Async exec: the server runs in this process and must keep answering while the CLI runs.
  const runAsync = async (args: string[]) => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, 'eval', ...args], {
      encoding: 'utf8',
    });
    return stdout;
  };

  it('through lamer serve reproduces the embedded evaluation exactly, ' +
    'for every preset, and prints the pass@k table', async () => {
    const dir = modelFor('lamer/MineSweeper-v0', 256);
    const serve = await startServe({ checkpoint: dir, host: '127.0.0.1', port: 0 });
    try {
      const common = ['--tasks', '6', '--attempts', '3', '--preset', 'zeroshot,react,reflexion,lamer'];
      const viaHttp = JSON.parse(
        (
          await runAsync([
            '--backend',
            'openai',
            '--base-url',
            serve.url,
            '--model',
            'lamer',
            '--endpoint',
            'completions',
            '--template',
            'compact',
            ...common,
            '--json',
          ])
        )
          .trim()
          .split('\n')
          .pop()!,
      );
      const embedded = JSON.parse(
        (await runAsync(['--checkpoint', dir, ...common, '--json'])).trim().split('\n').pop()!,
      );
      expect(viaHttp.presets.map((p: { preset: string }) => p.preset)).toEqual([
        'zeroshot',
        'react',
        'reflexion',
        'lamer',
      ]);
      for (let i = 0; i < 4; i++) {
        expect(viaHttp.presets[i].pass).toHaveLength(3);
        expect(viaHttp.presets[i].pass).toEqual(embedded.presets[i].pass);
        expect(viaHttp.presets[i].diversity).toBe(embedded.presets[i].diversity);
        expect(viaHttp.presets[i].invalidFrac).toBe(embedded.presets[i].invalidFrac);
      }
      expect(viaHttp.stats.requests).toBeGreaterThan(0);
      expect(viaHttp.stats.failures).toBe(0);
      // The default preset equals the plain evaluation of the checkpoint (the learner's numbers).
      const plain = run(['--checkpoint', dir, '--tasks', '6', '--attempts', '3']);
      expect(embedded.presets[3].pass).toEqual(plain.pass);
      const table = await runAsync([
        '--backend',
        'openai',
        '--base-url',
        serve.url,
        '--model',
        'lamer',
        '--endpoint',
        'chat',
        '--set',
        'env.template=compact',
        '--tasks',
        '4',
        '--preset',
        'reflexion',
      ]);
      expect(table).toMatch(/^lamer at http:\/\/127\.0\.0\.1:\d+\/v1 \(chat\), compact template$/m);
      expect(table).toMatch(/^minesweeper-val-s1: 4 tasks x 3 attempts, T 0\.7, top-p 0\.8$/m);
      expect(table).toMatch(/^preset\s+pass@1\s+pass@2\s+pass@3\s+invalid\s+diversity\s+seconds$/m);
      expect(table).toMatch(/^reflexion\s+\d+\.\d%\s+\d+\.\d%\s+\d+\.\d%/m);
    } finally {
      await serve.close();
    }
  }, 120_000);

  it('fails clearly when the server is unreachable or the options are incomplete', async () => {
    const err = (args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, 'eval', ...args]).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
    const noModel = await err(['--backend', 'openai']);
    expect(noModel?.code).toBe(1);
    expect(noModel?.stderr).toMatch(/--backend openai needs --model/);
    const noCkpt = await err([]);
    expect(noCkpt?.stderr).toMatch(/which model\? pass --run-dir DIR .* or --checkpoint DIR/);
    const badPreset = await err(['--backend', 'openai', '--model', 'm', '--preset', 'cot']);
    expect(badPreset?.stderr).toMatch(/unknown preset 'cot'/);
    const down = await err([
      '--backend',
      'openai',
      '--model',
      'm',
      '--base-url',
      'http://127.0.0.1:9/v1',
      '--tasks',
      '1',
      '--preset',
      'zeroshot',
      '--set',
      'policy.maxRetries=1',
      '--set',
      'policy.backoffMs=10',
      '--set',
      'log.level=silent',
    ]);
    expect(down?.code).toBe(1);
    expect(down?.stderr).toMatch(
      /RL_ERR_BACKEND.*127\.0\.0\.1:9\/v1\/chat\/completions: connection failed.*gave up after 2 attempts/,
    );
    const badCfg = await err(['--set', 'policy.backend=openai', '--checkpoint', 'x']);
    expect(badCfg?.stderr).toMatch(/policy\.model: required when policy\.backend is openai/);
  }, 60_000);
});
