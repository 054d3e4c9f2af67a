/**
 * The same trials through both backends: the embedded model in-process (token level) and the same checkpoint
 * behind `lamer serve` over HTTP (text level). Seeds per call are shared, so every response token and its
 * behaviour log-prob must agree (the server leaves an end-of-text out of the text, so it is dropped before comparing).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPresetTrials } from '../../../actor/backends/eval-trials.js';
import { OpenAIBackend } from '../../../actor/backends/openai.js';
import { getPreset } from '../../../actor/backends/presets.js';
import { compactVocabulary } from '../../../actor/envs/prompt.js';
import type { TrialSettings } from '../../../actor/local-trials.js';
import { startServe, type ServeHandle } from '../../../scripts/lib/serve.js';
import { saveModelDir } from '../../../shared/model/checkpoint-files.js';
import { buildManifest, initParams } from '../../../shared/model/manifest.js';
import { PolicyPool } from '../../../shared/model/policy-pool.js';
import { WordTokenizer } from '../../../shared/model/tokenizer.js';

const ENV = 'lamer/MineSweeper-v0';
const tokenizer = new WordTokenizer([...compactVocabulary(ENV)]);
const model = { vocabSize: tokenizer.vocabSize, nCtx: 200, dModel: 16, nLayer: 1, nHead: 2 };
const params = initParams(buildManifest(model), 21);
let dir = '';
let serve: ServeHandle;
let pool: PolicyPool;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lamer-evaltrials-'));
  saveModelDir(dir, { config: model, params, tokenizer });
  serve = await startServe({ checkpoint: dir, host: '127.0.0.1', port: 0 });
  pool = await PolicyPool.create({ config: model, params, version: 0, threads: 1 });
});
afterAll(async () => {
  await serve?.close();
  await pool?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const settings: TrialSettings = {
  envId: ENV,
  envOptions: {},
  template: 'compact',
  memory: 'reflection',
  attempts: 3,
  maxTurns: 4,
  reflect: true,
  nCtx: model.nCtx,
  maxActionTokens: 6,
  maxReflectTokens: 8,
};

describe('runPresetTrials: embedded vs lamer serve', () => {
  it.each(['reflexion', 'zeroshot'])(
    '%s: identical responses and log-probs over HTTP',
    async (name) => {
      const seeds = [11, 12, 13, 14];
      const sampling = { temperature: 1, topP: 0.9, seed: 77 };
      const preset = getPreset(name);
      const local = await runPresetTrials(
        settings,
        seeds,
        { kind: 'onnx', generator: pool, tokenizer, maxBatch: 16, concurrency: 1 },
        preset,
        sampling,
      );
      const backend = new OpenAIBackend({
        baseUrl: serve.url,
        model: 'lamer',
        endpoint: 'completions',
        concurrency: 4,
        timeoutMs: 30_000,
        maxRetries: 0,
        backoffMs: 0,
        logprobs: true,
      });
      const http = await runPresetTrials(settings, seeds, { kind: 'openai', backend, tokenizer }, preset, sampling);
      let tokens = 0;
      local.forEach((a, t) => {
        const b = http[t];
        expect(b.episodesWon).toEqual(a.episodesWon);
        expect(b.rows.map((r) => [r.phase, r.episode, r.turn, r.actionText, r.valid])).toEqual(
          a.rows.map((r) => [r.phase, r.episode, r.turn, r.actionText, r.valid]),
        );
        a.rows.forEach((ra, i) => {
          const rb = b.rows[i];
          expect(Array.from(rb.prompt)).toEqual(Array.from(ra.prompt));
          const keep = Array.from(ra.response)
            .map((id, k) => [id, ra.behavLogp[k]] as const)
            .filter(([id]) => id !== tokenizer.eos);
          expect(Array.from(rb.response)).toEqual(keep.map((x) => x[0]));
          expect(rb.hasLogp).toBe(true);
          Array.from(rb.behavLogp).forEach((lp, k) => expect(lp).toBeCloseTo(keep[k][1], 5));
          tokens += rb.response.length;
        });
      });
      expect(tokens).toBeGreaterThan(50);
      if (name === 'reflexion') expect(http.some((r) => r.rows.some((x) => x.phase === 'reflect'))).toBe(true);
      expect(backend.stats.requests).toBe(http.reduce((a, r) => a + r.rows.length, 0));
    },
    60_000,
  );
});
