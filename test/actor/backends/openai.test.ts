/**
 * OpenAIBackend error handling against a tiny scripted HTTP server (the happy path runs against the real
 * `lamer serve` in serve-training.test.ts and test/scripts/serve.test.ts): 429/5xx retried with backoff and
 * Retry-After, timeouts, non-retryable 4xx, malformed bodies, missing log-probs, the concurrency limit, and what
 * the request carries.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenAIBackend, type OpenAIBackendOptions } from '../../../actor/backends/openai.js';
import { makeEnv } from '../../../actor/envs/registry.js';
import { buildPrompt, parseReflection } from '../../../actor/envs/prompt.js';
import { runTrial } from '../../../actor/trial.js';
import { WordTokenizer } from '../../../shared/model/tokenizer.js';

type Reply = { status?: number; body?: unknown; raw?: string; headers?: Record<string, string>; delayMs?: number };
type Handler = (body: Record<string, unknown>, n: number) => Reply;

interface Fake {
  url: string;
  bodies: Array<Record<string, unknown>>;
  paths: string[];
  maxInFlight: number;
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0))
    await new Promise<void>((r) => {
      s.closeAllConnections();
      s.close(() => r());
    });
});

async function fake(handler: Handler): Promise<Fake> {
  const f: Fake = { url: '', bodies: [], paths: [], maxInFlight: 0, close: async () => {} };
  let inFlight = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      f.bodies.push(body);
      f.paths.push(req.url ?? '');
      inFlight++;
      f.maxInFlight = Math.max(f.maxInFlight, inFlight);
      const r = handler(body, f.bodies.length);
      setTimeout(() => {
        inFlight--;
        if (res.destroyed) return;
        const text = r.raw ?? JSON.stringify(r.body ?? {});
        res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers });
        res.end(text);
      }, r.delayMs ?? 0);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  f.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return f;
}

const completion = (text: string, logprobs?: Array<[string, number]>) => ({
  id: 'cmpl-1',
  object: 'text_completion',
  model: 'm',
  choices: [
    {
      index: 0,
      text,
      finish_reason: 'stop',
      logprobs: logprobs ? { tokens: logprobs.map((t) => t[0]), token_logprobs: logprobs.map((t) => t[1]) } : null,
    },
  ],
});

const chat = (content: string, logprobs?: Array<[string, number]>) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  model: 'm',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content },
      finish_reason: 'stop',
      logprobs: logprobs
        ? { content: logprobs.map(([token, logprob]) => ({ token, logprob, bytes: null, top_logprobs: [] })) }
        : null,
    },
  ],
});

function backend(url: string, over: Partial<OpenAIBackendOptions> = {}): OpenAIBackend {
  return new OpenAIBackend({
    baseUrl: url,
    model: 'm',
    endpoint: 'completions',
    concurrency: 4,
    timeoutMs: 2000,
    maxRetries: 3,
    backoffMs: 10,
    logprobs: true,
    ...over,
  });
}

const REQ = {
  prompt: 'minesweeper <action>',
  maxTokens: 8,
  stop: ['</action>'],
  temperature: 0.7,
  topP: 0.8,
  seed: 42,
};

describe('OpenAIBackend', () => {
  const sendsEverything =
    'sends the sampling parameters, seed, stop and log-prob request, and returns text with per-token log-probs';
  it(sendsEverything, async () => {
    const f = await fake(() => ({
      body: completion(' 2 3 </action>', [
        [' 2', -0.5],
        [' 3', -0.25],
        [' </action>', -0.01],
      ]),
    }));
    const out = await backend(f.url).complete(REQ);
    expect(f.paths).toEqual(['/v1/completions']);
    expect(f.bodies[0]).toMatchObject({
      model: 'm',
      prompt: REQ.prompt,
      max_tokens: 8,
      temperature: 0.7,
      top_p: 0.8,
      seed: 42,
      stop: ['</action>'],
      logprobs: 0,
      include_stop_str_in_output: true,
    });
    expect(out.text).toBe(' 2 3 </action>');
    expect(out.tokens).toEqual([
      { token: ' 2', logprob: -0.5 },
      { token: ' 3', logprob: -0.25 },
      { token: ' </action>', logprob: -0.01 },
    ]);
    expect(out.retries).toBe(0);
  });

  it('chat endpoint: one user message, logprobs: true; no stop strings means no vLLM extension field', async () => {
    const f = await fake(() => ({
      body: chat('I reveal <action>(2, 3)</action>', [
        ['I', -1],
        [' reveal', -2],
      ]),
    }));
    const out = await backend(f.url, { endpoint: 'chat' }).complete({ ...REQ, stop: [] });
    expect(f.paths).toEqual(['/v1/chat/completions']);
    expect(f.bodies[0].messages).toEqual([{ role: 'user', content: REQ.prompt }]);
    expect(f.bodies[0].logprobs).toBe(true);
    expect('include_stop_str_in_output' in f.bodies[0]).toBe(false);
    expect('stop' in f.bodies[0]).toBe(false);
    expect(out.text).toBe('I reveal <action>(2, 3)</action>');
    expect(out.tokens).toHaveLength(2);
    expect('chat_template_kwargs' in f.bodies[0]).toBe(false);
    await backend(f.url, { endpoint: 'chat', disableThinking: true }).complete({ ...REQ, stop: [] });
    expect(f.bodies[1].chat_template_kwargs).toEqual({ enable_thinking: false });
    expect('top_k' in f.bodies[1]).toBe(false);
    await backend(f.url, { endpoint: 'chat', topK: 20 }).complete({ ...REQ, stop: [] });
    expect(f.bodies[2].top_k).toBe(20);
  });

  it('retries 429 honouring Retry-After, then succeeds', async () => {
    const f = await fake((_, n) =>
      n === 1
        ? {
            status: 429,
            body: { error: { message: 'slow down', type: 'rate_limit' } },
            headers: { 'retry-after-ms': '300' },
          }
        : { body: completion(' 1 1 </action>') },
    );
    const b = backend(f.url);
    const t0 = performance.now();
    const out = await b.complete(REQ);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(280); // waited what the server asked, not the 10 ms backoff
    expect(out.text).toBe(' 1 1 </action>');
    expect(out.retries).toBe(1);
    expect(b.stats).toMatchObject({ requests: 2, retries: 1, rateLimited: 1, failures: 0 });
  });

  it('retries 5xx with exponential backoff and gives up after maxRetries with a clear error', async () => {
    const f = await fake(() => ({ status: 503, body: { error: { message: 'overloaded', type: 'server_error' } } }));
    const b = backend(f.url, { maxRetries: 2, backoffMs: 40 });
    const t0 = performance.now();
    await expect(b.complete(REQ)).rejects.toMatchObject({
      code: 'RL_ERR_BACKEND',
      message: expect.stringMatching(/HTTP 503.*gave up after 3 attempts/),
    });
    // 40·(0.75..1.25) + 80·(0.75..1.25) ≥ 90 ms of backoff.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
    expect(f.bodies).toHaveLength(3);
    expect(b.stats).toMatchObject({ requests: 3, retries: 2, serverErrors: 3, failures: 1 });
  });

  it('recovers from a 500 followed by a success', async () => {
    const f = await fake((_, n) =>
      n <= 2
        ? { status: 500, raw: 'oops', headers: { 'content-type': 'text/plain' } }
        : { body: completion(' 4 4 </action>') },
    );
    const out = await backend(f.url).complete(REQ);
    expect(out.retries).toBe(2);
    expect(out.text).toBe(' 4 4 </action>');
  });

  it("does not retry a 400 and reports the server's message", async () => {
    const f = await fake(() => ({
      status: 400,
      body: { error: { message: "This model's maximum context length is 256 tokens", type: 'invalid_request_error' } },
    }));
    const b = backend(f.url);
    await expect(b.complete(REQ)).rejects.toMatchObject({
      code: 'RL_ERR_BACKEND',
      message: expect.stringMatching(/completions: HTTP 400: This model's maximum context length/),
    });
    expect(f.bodies).toHaveLength(1);
  });

  it('times out slow requests, retries them, and fails after the retries', async () => {
    const f = await fake(() => ({ delayMs: 1500, body: completion(' 1 2 </action>') }));
    const b = backend(f.url, { timeoutMs: 200, maxRetries: 1 });
    const t0 = performance.now();
    await expect(b.complete(REQ)).rejects.toMatchObject({
      code: 'RL_ERR_BACKEND',
      message: expect.stringMatching(/timed out.*gave up after 2 attempts/),
    });
    expect(performance.now() - t0).toBeLessThan(1400);
    expect(b.stats.timeouts).toBe(2);
  });

  it('a timeout followed by a fast answer succeeds', async () => {
    const f = await fake((_, n) => ({ delayMs: n === 1 ? 1000 : 0, body: completion(' 5 5 </action>') }));
    const out = await backend(f.url, { timeoutMs: 200 }).complete(REQ);
    expect(out.text).toBe(' 5 5 </action>');
    expect(out.retries).toBe(1);
  });

  it('rejects malformed responses without retrying, naming what is wrong', async () => {
    const cases: Array<[Reply, RegExp]> = [
      [{ body: { id: 'x' } }, /malformed response: choices: /],
      [{ body: { choices: [] } }, /no choices/],
      [{ body: { choices: [{ text: 7 }] } }, /choices\.0\.text/],
      [{ raw: '{"choices": [' }, /malformed response/],
      [{ body: { choices: [{ text: 'x', logprobs: { tokens: ['x'], token_logprobs: ['a'] } }] } }, /token_logprobs/],
    ];
    for (const [reply, re] of cases) {
      const f = await fake(() => reply);
      await expect(backend(f.url).complete(REQ)).rejects.toMatchObject({
        code: 'RL_ERR_BACKEND',
        message: expect.stringMatching(re),
      });
      expect(f.bodies).toHaveLength(1);
    }
    const c = await fake(() => ({
      body: { choices: [{ message: { role: 'assistant' }, logprobs: { content: [{ token: 'a' }] } }] },
    }));
    await expect(backend(c.url, { endpoint: 'chat' }).complete(REQ)).rejects.toThrow(
      /choices\.0\.logprobs\.content\.0\.logprob/,
    );
  });

  const missingLogprobs =
    'missing log-probs: text comes back without tokens, and trial rows say hasLogp false with no behaviour log-probs';
  it(missingLogprobs, async () => {
    const f = await fake(() => ({ body: completion(' 2 2 </action>') }));
    const b = backend(f.url);
    const out = await b.complete(REQ);
    expect(out.tokens).toBeUndefined();
    // Through the trial runner with the learner's tokenizer: evaluation-only rows.
    const env = makeEnv('lamer/MineSweeper-v0', { template: 'compact' });
    const words = [
      'minesweeper',
      'mines',
      '<trial>',
      '<hist>',
      '</hist>',
      '<board>',
      '</board>',
      '<nl>',
      '<action>',
      '</action>',
      '<remark>',
      '</remark>',
      '<reflect>',
      '<mem>',
      '</mem>',
      '?',
      '.',
      ',',
      'mine',
      'safe',
      ...Array.from({ length: 33 }, (_, i) => String(i)),
    ];
    const tok = new WordTokenizer(words);
    const res = await runTrial(
      {
        envId: env.id,
        template: 'compact',
        memory: 'reflection',
        attempts: 1,
        maxTurns: 2,
        reflect: false,
        taskSeed: 3,
        nCtx: 256,
        maxActionTokens: 8,
        maxReflectTokens: 12,
      },
      {
        env,
        tokenizer: tok,
        stopText: { play: ['</action>'], reflect: ['</remark>'] },
        buildPrompt: (ctx) => buildPrompt(env, ctx),
        parseReflection: (t) => parseReflection(env.id, 'compact', t),
        generateText: async (req) => ({
          ...(await b.complete({ ...REQ, prompt: req.prompt, stop: req.stop })),
          policyVersion: 0,
        }),
      },
    );
    expect(res.rows.length).toBeGreaterThan(0);
    for (const r of res.rows) {
      expect(r.hasLogp).toBe(false);
      expect(r.behavLogp.length).toBe(0);
      expect(tok.decode(Array.from(r.response))).toBe('2 2 </action>');
    }
  });

  it("keeps log-probs only when the server's tokens are exactly the tokenizer's words", async () => {
    const tok = new WordTokenizer(['2', '</action>', '<action>']);
    const env = makeEnv('lamer/MineSweeper-v0', { template: 'compact' });
    const trial = (tokens: Array<[string, number]>) =>
      fake(() => ({ body: completion(' 2 2 </action>', tokens) })).then(async (f) => {
        const b = backend(f.url);
        const res = await runTrial(
          {
            envId: env.id,
            template: 'compact',
            memory: 'reflection',
            attempts: 1,
            maxTurns: 1,
            reflect: false,
            taskSeed: 3,
            nCtx: 512,
            maxActionTokens: 8,
            maxReflectTokens: 12,
          },
          {
            env,
            tokenizer: tok,
            buildPrompt: (ctx) => buildPrompt(env, ctx),
            parseReflection: (t) => parseReflection(env.id, 'compact', t),
            generateText: async (req) => ({ ...(await b.complete({ ...REQ, prompt: req.prompt })), policyVersion: 0 }),
          },
        );
        return res.rows[0];
      });
    const aligned = await trial([
      [' 2', -1],
      [' 2', -2],
      [' </action>', -0.5],
    ]);
    expect(aligned.hasLogp).toBe(true);
    expect(Array.from(aligned.behavLogp)).toEqual([-1, -2, -0.5]);
    // BPE-like pieces of a real LLM do not map onto the word vocabulary: no log-probs rather than wrong ones.
    const bpe = await trial([
      [' 2 2', -1],
      [' </', -2],
      ['action>', -0.5],
    ]);
    expect(bpe.hasLogp).toBe(false);
    expect(bpe.behavLogp.length).toBe(0);
  });

  const fullTemplateText =
    'full template: the whole prompt goes to the server and rows carry text only (the learner cannot train on them)';
  it(fullTemplateText, async () => {
    const f = await fake(() => ({
      body: completion('<action>(2, 3)</action>', [
        ['<action>(2,', -0.1],
        [' 3)</action>', -0.2],
      ]),
    }));
    const b = backend(f.url);
    const env = makeEnv('lamer/MineSweeper-v0', { template: 'full' });
    const tok = new WordTokenizer(['<action>(2,', '3)</action>']); // even tokens that happen to be vocabulary words
    const res = await runTrial(
      {
        envId: env.id,
        template: 'full',
        memory: 'reflection',
        attempts: 1,
        maxTurns: 1,
        reflect: false,
        taskSeed: 3,
        nCtx: 16,
        maxActionTokens: 8,
        maxReflectTokens: 8,
      },
      {
        env,
        tokenizer: tok,
        buildPrompt: (ctx) => buildPrompt(env, ctx),
        parseReflection: (t) => parseReflection(env.id, 'full', t),
        generateText: async (req) => ({
          ...(await b.complete({ ...REQ, prompt: req.prompt, stop: req.stop })),
          policyVersion: 0,
        }),
      },
    );
    const sent = f.bodies[0].prompt as string;
    expect(sent.split(/\s+/).length).toBeGreaterThan(100); // not cut to the learner's 16-token context
    expect(sent).not.toContain('<unk>');
    expect(res.rows[0]).toMatchObject({ hasLogp: false, valid: true, actionText: '(2, 3)' });
    expect(res.rows[0].prompt.length + res.rows[0].response.length + res.rows[0].behavLogp.length).toBe(0);
  });

  it('restores a stop string the server left out when it reports stop_reason (vLLM)', async () => {
    const f = await fake(() => ({
      body: { choices: [{ text: ' 3 3 ', finish_reason: 'stop', stop_reason: '</action>' }] },
    }));
    expect((await backend(f.url).complete(REQ)).text).toBe(' 3 3 </action>');
    const g = await fake(() => ({ body: { choices: [{ text: ' 3 3 ', finish_reason: 'stop', stop_reason: null }] } }));
    expect((await backend(g.url).complete(REQ)).text).toBe(' 3 3 '); // end-of-text: no tag is invented
  });

  it('never has more requests in flight than the concurrency limit', async () => {
    const f = await fake(() => ({ delayMs: 40, body: completion(' 1 1 </action>') }));
    const b = backend(f.url, { concurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, () => b.complete(REQ)));
    expect(f.bodies).toHaveLength(12);
    expect(f.maxInFlight).toBe(3);
  });

  it('rejects bad options at construction, naming them', () => {
    expect(() => backend('ftp://x/v1')).toThrow(/baseUrl must be http/);
    expect(() => backend('http://127.0.0.1:1/v1', { model: ' ' })).toThrow(/model must name/);
    expect(() => backend('http://127.0.0.1:1/v1', { concurrency: 0 })).toThrow(/concurrency must be an integer >= 1/);
  });
});
