/**
 * `lamer serve` over real HTTP: the OpenAI response shapes, log-probs that are the model's (checked against the
 * scoring graph), seeds, stop strings, n, chat vs completions, and OpenAI-style errors with the right status codes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactVocabulary } from '../../actor/envs/prompt.js';
import { parseListen, startServe, type ServeHandle } from '../../scripts/lib/serve.js';
import { saveModelDir } from '../../shared/model/checkpoint-files.js';
import { buildManifest, initParams } from '../../shared/model/manifest.js';
import { createScorer } from '../../shared/model/scorer.js';
import { WordTokenizer } from '../../shared/model/tokenizer.js';

const ENV = 'lamer/MineSweeper-v0';
const tokenizer = new WordTokenizer([...compactVocabulary(ENV)]);
const model = { vocabSize: tokenizer.vocabSize, nCtx: 64, dModel: 16, nLayer: 1, nHead: 2 };
const params = initParams(buildManifest(model), 11);
const PROMPT = 'minesweeper mines 3 <trial> 1 <hist> </hist> <board> ? ? 1 <nl> ? . 1 </board> <action>';
let dir = '';
let serve: ServeHandle;
let raw: ServeHandle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lamer-serve-'));
  saveModelDir(join(dir, 'model'), { config: model, params, tokenizer });
  serve = await startServe({ checkpoint: join(dir, 'model'), host: '127.0.0.1', port: 0, maxBodyBytes: 64 * 1024 });
  raw = await startServe({
    checkpoint: join(dir, 'model'),
    host: '127.0.0.1',
    port: 0,
    logprobsMode: 'raw',
    modelName: 'raw',
  });
});
afterAll(async () => {
  await serve?.close();
  await raw?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function post(
  s: ServeHandle,
  path: string,
  body: unknown,
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

const complete = (body: Record<string, unknown>, s = serve) =>
  post(s, '/completions', { model: s.modelName, prompt: PROMPT, max_tokens: 6, ...body });

describe('lamer serve', () => {
  it(
    'answers /v1/completions in the OpenAI shape, ' +
      'with one log-prob per token and prompt + text = the word sequence',
    async () => {
      const { status, json } = await complete({ seed: 1, logprobs: 0 });
      expect(status).toBe(200);
      expect(json.object).toBe('text_completion');
      const c = json.choices[0];
      expect(c.logprobs.tokens.join('')).toBe(c.text);
      expect(c.logprobs.token_logprobs).toHaveLength(c.logprobs.tokens.length);
      expect(c.logprobs.text_offset[0]).toBe(PROMPT.length);
      expect(['stop', 'length']).toContain(c.finish_reason);
      expect(json.usage.prompt_tokens).toBe(tokenizer.encode(PROMPT).length);
      expect(json.usage.total_tokens).toBe(json.usage.prompt_tokens + json.usage.completion_tokens);
    },
  );

  it(
    "log-probs are the model's: raw mode equals the scoring " + 'graph; sampled mode is the tempered distribution',
    async () => {
      const scorer = await createScorer(model, params);
      try {
        for (const seed of [1, 2, 3]) {
          const { json } = await complete({ seed, logprobs: 0, temperature: 1 }, raw);
          const words = json.choices[0].logprobs.tokens.map((t: string) => t.trim());
          const ids = [...tokenizer.encode(PROMPT), ...words.map((w: string) => tokenizer.id(w))];
          const want = (await scorer.logprobs([ids]))[0].slice(-words.length) as number[];
          json.choices[0].logprobs.token_logprobs.forEach((lp: number, i: number) =>
            expect(lp).toBeCloseTo(want[i], 4),
          );
          // At temperature 1, top_p 1 the sampling distribution is the model's: both modes agree.
          const s = await complete({ seed, logprobs: 0, temperature: 1 });
          expect(s.json.choices[0].text).toBe(json.choices[0].text);
          s.json.choices[0].logprobs.token_logprobs.forEach((lp: number, i: number) =>
            expect(lp).toBeCloseTo(want[i], 4),
          );
          // Tempered sampling: same tokens for the same seed in both modes, but log μ differs from the model's log p.
          const sharp = await complete({ seed, logprobs: 0, temperature: 0.3 });
          const sharpRaw = await complete({ seed, logprobs: 0, temperature: 0.3 }, raw);
          expect(sharp.json.choices[0].text).toBe(sharpRaw.json.choices[0].text);
          expect(sharp.json.choices[0].logprobs.token_logprobs).not.toEqual(
            sharpRaw.json.choices[0].logprobs.token_logprobs,
          );
          for (const lp of sharp.json.choices[0].logprobs.token_logprobs as number[]) expect(lp).toBeLessThanOrEqual(0);
          // Greedy: the behaviour policy is deterministic (log μ = 0); raw mode still reports the model's log p.
          const greedy = await complete({ seed, logprobs: 0, temperature: 0 });
          expect(greedy.json.choices[0].logprobs.token_logprobs.every((lp: number) => lp === 0)).toBe(true);
        }
      } finally {
        await scorer.close();
      }
    },
  );

  it('is deterministic per seed; seeds and n give different samples', async () => {
    const a = await complete({ seed: 5, max_tokens: 12 });
    const b = await complete({ seed: 5, max_tokens: 12 });
    expect(b.json.choices[0].text).toBe(a.json.choices[0].text);
    const texts = new Set<string>();
    for (let s = 0; s < 6; s++) texts.add((await complete({ seed: s, max_tokens: 12 })).json.choices[0].text);
    expect(texts.size).toBeGreaterThan(1);
    const n = await complete({ seed: 5, n: 3, max_tokens: 12 });
    expect(n.json.choices.map((c: { index: number }) => c.index)).toEqual([0, 1, 2]);
    // Usage counts every generated token, an end-of-text included (it is not part of the text).
    const words = n.json.choices.reduce(
      (a: number, c: { text: string }) => a + c.text.trim().split(/\s+/).filter(Boolean).length,
      0,
    );
    expect(n.json.usage.completion_tokens).toBeGreaterThanOrEqual(words);
    expect(n.json.usage.completion_tokens).toBeLessThanOrEqual(words + 3);
  });

  it(
    'cuts at stop strings (whole words, multi-word too), ' +
      'keeping the stop only when asked, and names it in stop_reason',
    async () => {
      const full = (await complete({ seed: 9, max_tokens: 10 })).json.choices[0];
      const words = full.text.trim().split(' ');
      expect(words.length).toBe(10);
      const w = words[2];
      const first = words.indexOf(w);
      const cut = (await complete({ seed: 9, max_tokens: 10, stop: [w] })).json.choices[0];
      expect(cut.text).toBe(
        words
          .slice(0, first)
          .map((x: string) => ` ${x}`)
          .join(''),
      );
      expect(cut.finish_reason).toBe('stop');
      expect(cut.stop_reason).toBe(w);
      const kept = (await complete({ seed: 9, max_tokens: 10, stop: w, include_stop_str_in_output: true })).json
        .choices[0];
      expect(kept.text).toBe(
        words
          .slice(0, first + 1)
          .map((x: string) => ` ${x}`)
          .join(''),
      );
      const pair = `${words[3]} ${words[4]}`;
      const multi = (await complete({ seed: 9, max_tokens: 10, stop: ['never-a-word', pair], logprobs: 0 })).json
        .choices[0];
      expect(`${multi.text} ${pair}`.trim().split(' ').length).toBeLessThanOrEqual(5);
      expect(multi.stop_reason).toBe(pair);
      expect(multi.logprobs.token_logprobs).toHaveLength(multi.logprobs.tokens.length);
    },
  );

  it(
    'chat: the user message is the prompt; same seed, ' + 'same words as a completion; logprobs in the chat shape',
    async () => {
      const c = await complete({ seed: 4, max_tokens: 8 });
      const { status, json } = await post(serve, '/chat/completions', {
        model: 'lamer',
        messages: [{ role: 'user', content: PROMPT }],
        max_tokens: 8,
        seed: 4,
        logprobs: true,
      });
      expect(status).toBe(200);
      expect(json.object).toBe('chat.completion');
      const m = json.choices[0];
      expect(m.message).toEqual({ role: 'assistant', content: c.json.choices[0].text.trim() });
      expect(m.logprobs.content.map((t: { token: string }) => t.token).join('')).toBe(m.message.content);
      const plain = await post(serve, '/chat/completions', {
        model: 'lamer',
        messages: [{ role: 'user', content: [{ type: 'text', text: PROMPT }] }],
        max_tokens: 8,
        seed: 4,
      });
      expect(plain.json.choices[0].message.content).toBe(m.message.content);
      expect(plain.json.choices[0].logprobs).toBeNull();
    },
  );

  it('answers errors the OpenAI way: status, type, param, code', async () => {
    const model = await complete({ model: 'gpt-4' });
    expect(model.status).toBe(404);
    expect(model.json.error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
    const bad = await complete({ max_tokens: -1 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.param).toBe('max_tokens');
    expect(bad.json.error.message).toMatch(/^max_tokens: /);
    for (const [field, value, re] of [
      ['temperature', 3, /temperature/],
      ['stream', true, /streaming is not supported/],
      ['logprobs', 5, /only 0 is supported/],
      ['echo', true, /echo/],
      ['top_k', 20, /top_k is not supported/],
      ['n', 9, /n: /],
      ['stop', ['a', 'b', 'c', 'd', 'e'], /stop/],
    ] as const) {
      const r = await complete({ [field]: value });
      expect(r.status, field).toBe(400);
      expect(r.json.error.message).toMatch(re);
    }
    const missing = await post(serve, '/completions', { prompt: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.json.error.param).toBe('model');
    const json = await post(serve, '/completions', '{"model": ');
    expect(json.status).toBe(400);
    expect(json.json.error.code).toBe('invalid_json');
    const long = await complete({ prompt: Array.from({ length: 64 }, () => '?').join(' ') });
    expect(long.status).toBe(400);
    expect(long.json.error.code).toBe('context_length_exceeded');
    const big = await complete({ prompt: 'x '.repeat(40_000) });
    expect(big.status).toBe(413);
    const chat = await post(serve, '/chat/completions', { model: 'lamer', messages: [] });
    expect(chat.status).toBe(400);
    expect(chat.json.error.param).toBe('messages');
    const get = await fetch(`${serve.url}/completions`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const nf = await fetch(`${serve.url}/embeddings`, { method: 'POST', body: '{}' });
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as any).error.code).toBe('not_found');
    const models = (await (await fetch(`${serve.url}/models`)).json()) as any;
    expect(models.data[0]).toMatchObject({ id: 'lamer', object: 'model', max_model_len: 64 });
  });

  it('never answers arbitrary JSON bodies with a 500: a 200 or an OpenAI-shaped 4xx', async () => {
    const field = fc.constantFrom(
      'model',
      'prompt',
      'messages',
      'max_tokens',
      'temperature',
      'top_p',
      'n',
      'stop',
      'seed',
      'logprobs',
      'stream',
      'include_stop_str_in_output',
    );
    const value = fc.oneof(
      fc.constant('lamer'),
      fc.string({ maxLength: 12 }),
      fc.integer({ min: -3, max: 40 }),
      fc.double({ noNaN: true }),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string({ maxLength: 6 }), { maxLength: 5 }),
      fc.constant([{ role: 'user', content: 'minesweeper <action>' }]),
      fc.object({ maxDepth: 1 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/completions', '/chat/completions'),
        fc.dictionary(field, value, { maxKeys: 8 }),
        async (path, body) => {
          const r = await post(serve, path, { max_tokens: 2, ...body });
          if (r.status === 200) return;
          expect([400, 404]).toContain(r.status);
          expect(typeof r.json.error.message).toBe('string');
          expect(typeof r.json.error.type).toBe('string');
        },
      ),
      { numRuns: 150, seed: 7 },
    );
    expect(serve.stats.errors).toBeGreaterThan(0);
  }, 60_000);

  it('sheds load with 503 + Retry-After when the queue is full', async () => {
    const small = await startServe({
      checkpoint: join(dir, 'model'),
      host: '127.0.0.1',
      port: 0,
      maxQueue: 1,
      maxBatch: 1,
    });
    try {
      const all = await Promise.all(Array.from({ length: 12 }, (_, i) => complete({ seed: i, max_tokens: 32 }, small)));
      const shed = all.filter((r) => r.status === 503);
      expect(shed.length).toBeGreaterThan(0);
      expect(all.some((r) => r.status === 200)).toBe(true);
      expect(shed[0].headers.get('retry-after')).toBe('1');
      expect(shed[0].json.error.type).toBe('server_error');
    } finally {
      await small.close();
    }
  });

  it('answers a malformed request target with 400, not 500', async () => {
    const { port } = new URL(serve.url);
    for (const target of ['//[', 'http://%', '//x:99999']) {
      const head = await new Promise<string>((resolve, reject) => {
        const sock = connect(Number(port), '127.0.0.1');
        let out = '';
        sock.on('data', (d) => {
          out += d.toString();
        });
        sock.on('end', () => resolve(out));
        sock.on('error', reject);
        sock.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      });
      expect(head.split('\r\n')[0], target).toBe('HTTP/1.1 400 Bad Request');
      expect(JSON.parse(head.slice(head.indexOf('\r\n\r\n') + 4)).error.code, target).toBe('invalid_request_target');
    }
  });

  it('with an API key, requires it as a bearer token on every route but /health', async () => {
    const locked = await startServe({ checkpoint: join(dir, 'model'), host: '127.0.0.1', port: 0, apiKey: 'sekret-1' });
    try {
      const get = (path: string, auth?: string) =>
        fetch(`${locked.url}${path}`, auth ? { headers: { authorization: auth } } : {});
      for (const auth of [undefined, 'Bearer wrong', 'sekret-1', 'Basic sekret-1', 'Bearer sekret-1x']) {
        const r = await get('/models', auth);
        expect(r.status, String(auth)).toBe(401);
        expect(((await r.json()) as any).error.code).toBe('invalid_api_key');
      }
      expect((await get('/models', 'Bearer sekret-1')).status).toBe(200);
      expect((await fetch(locked.url.replace(/\/v1$/, '/health'))).status).toBe(200);
      const r = await fetch(`${locked.url}/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sekret-1' },
        body: JSON.stringify({ model: 'lamer', prompt: PROMPT, max_tokens: 2 }),
      });
      expect(r.status).toBe(200);
    } finally {
      await locked.close();
    }
    await expect(
      startServe({ checkpoint: join(dir, 'model'), host: '127.0.0.1', port: 0, apiKey: '' }),
    ).rejects.toThrow(/API key is empty/);
  });

  it('parses --listen', () => {
    expect(parseListen('127.0.0.1:8000')).toEqual({ host: '127.0.0.1', port: 8000 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseListen('8000')).toThrow(/HOST:PORT/);
    expect(() => parseListen('h:70000')).toThrow(/HOST:PORT/);
  });

  it('the CLI serves a checkpoint and prints its URL', async () => {
    const CLI = fileURLToPath(new URL('../../scripts/cli.ts', import.meta.url));
    const child = execFile(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'serve',
        '--checkpoint',
        join(dir, 'model'),
        '--listen',
        '127.0.0.1:0',
        '--json',
        '--log-level',
        'warn',
        '--api-key-env',
        'LAMER_TEST_SERVE_KEY',
      ],
      { env: { ...process.env, LAMER_TEST_SERVE_KEY: 'k-123' } },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const { url, model: name, nCtx } = JSON.parse(line);
      expect(name).toBe('lamer');
      expect(nCtx).toBe(64);
      const body = JSON.stringify({ model: 'lamer', prompt: PROMPT, max_tokens: 3, seed: 1 });
      expect((await fetch(`${url}/completions`, { method: 'POST', body })).status).toBe(401);
      const r = await fetch(`${url}/completions`, { method: 'POST', body, headers: { authorization: 'Bearer k-123' } });
      expect(r.status).toBe(200);
      expect(((await r.json()) as any).choices[0].text).toBe(
        (await complete({ seed: 1, max_tokens: 3 })).json.choices[0].text,
      );
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    const bad = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      CLI,
      'serve',
      '--checkpoint',
      join(dir, 'nope'),
    ]).catch((e: { stderr: string; code: number }) => e);
    expect((bad as { code: number }).code).toBe(1);
    expect((bad as { stderr: string }).stderr).toMatch(/RL_ERR_BAD_INPUT.*--checkpoint .*nope: no such directory/);
    const env = { ...process.env };
    delete env.LAMER_TEST_SERVE_UNSET;
    const noKey = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', CLI, 'serve', '--checkpoint', join(dir, 'model'), '--api-key-env', 'LAMER_TEST_SERVE_UNSET'],
      { env },
    ).catch((e: { stderr: string; code: number }) => e);
    expect((noKey as { code: number }).code).toBe(1);
    expect((noKey as { stderr: string }).stderr).toMatch(
      /LAMER_TEST_SERVE_UNSET: that environment variable is not set or empty/,
    );
  }, 60_000);
});
