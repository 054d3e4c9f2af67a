/** The engine's CLI commands, run as a user would (`node --import tsx scripts/cli.ts ...`). */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelDir } from '../../../shared/model/checkpoint-files.js';
import { createScorer } from '../../../shared/model/scorer.js';

const root = new URL('../../../', import.meta.url).pathname;
const lamer = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', ...args], { cwd: root, encoding: 'utf8' });

describe('lamer init-model / score', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lamer-cli-'));
  const ckpt = join(dir, 'model');

  it('init-model writes a loadable checkpoint with a tokenizer; score prints per-token log-probs', async () => {
    writeFileSync(join(dir, 'words.txt'), 'click flag 0 1 2 3 4 5');
    const init = lamer(
      'init-model',
      '--out',
      ckpt,
      '--seed',
      '5',
      '--n-ctx',
      '16',
      '--d-model',
      '16',
      '--n-layer',
      '1',
      '--n-head',
      '2',
      '--words',
      join(dir, 'words.txt'),
      '--json',
    );
    expect(init.status, init.stderr).toBe(0);
    const summary = JSON.parse(init.stdout.trim().split('\n').pop()!);
    expect(summary.config).toEqual({ vocabSize: 12, nCtx: 16, dModel: 16, nLayer: 1, nHead: 2 });
    const model = loadModelDir(ckpt);
    expect(model.tokenizer!.encode('click 0 zebra')).toEqual([4, 6, 3]);

    const seqs = [[1, 4, 6, 7], [1, 5], [2]];
    writeFileSync(join(dir, 'in.json'), JSON.stringify({ sequences: seqs }));
    const r = lamer('score', '--checkpoint', ckpt, '--input', join(dir, 'in.json'), '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const scorer = await createScorer(model.config, model.params);
    try {
      expect(out).toEqual({ logprobs: await scorer.logprobs(seqs) });
    } finally {
      await scorer.close();
    }
    expect(out.logprobs[0][0]).toBeNull();
  });

  it('gives clear errors for bad input', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ sequences: [[1, 12]] }));
    const bad = lamer('score', '--checkpoint', ckpt, '--input', join(dir, 'bad.json'), '--json');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      /\[RL_ERR_MODEL\]: sequence 0: token id 12 at position 1 is outside the vocabulary \(0..11\)/,
    );
    writeFileSync(join(dir, 'long.json'), JSON.stringify({ sequences: [Array(17).fill(1)] }));
    expect(lamer('score', '--checkpoint', ckpt, '--input', join(dir, 'long.json')).stderr).toMatch(
      /longer than the model context \(16\)/,
    );
    writeFileSync(join(dir, 'shape.json'), JSON.stringify({ seqs: [] }));
    expect(lamer('score', '--checkpoint', ckpt, '--input', join(dir, 'shape.json')).stderr).toMatch(
      /must be an object \{"sequences"/,
    );
    expect(lamer('score', '--checkpoint', join(dir, 'missing'), '--input', join(dir, 'bad.json')).stderr).toMatch(
      /\[RL_ERR_CHECKPOINT\].*does not exist/,
    );
    expect(lamer('init-model', '--out', join(dir, 'x'), '--d-model', '10', '--n-head', '4').stderr).toMatch(
      /dModel must be divisible by nHead/,
    );
    expect(lamer('bench', 'nope').stderr).toMatch(/unknown benchmark 'nope' \(known: [^)]*\bengine\b/);
  });
});
