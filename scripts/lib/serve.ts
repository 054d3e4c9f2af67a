/**
 * `lamer serve`: the embedded model behind the OpenAI-compatible HTTP API (`/v1/completions`,
 * `/v1/chat/completions`, `/v1/models`; plus `/health` and `/stats`), so trained checkpoints work with other tools and
 * the OpenAI backend is tested against a real server. Requests from all clients share batched KV-cache decode calls
 * (the actor's Batcher over a PolicyPool), so the event loop only parses JSON.
 *
 * Semantics (word-level model): the prompt is split on whitespace into vocabulary words (unknown words become
 * `<unk>`); a chat request's prompt is its messages' text joined by newlines (the model has no chat template;
 * LaMer sends one user message). Stop strings match whole words and are left out of the text unless
 * `include_stop_str_in_output` (vLLM's extension) is true; `stop_reason` names the matched stop (null for `<eos>`).
 * Log-probs are those of the sampled tokens under the sampling distribution actually used (temperature, top-p:
 * the behaviour policy a learner needs) or, with `logprobsMode: 'raw'`, under the plain model distribution.
 * No top alternatives, no streaming.
 *
 * Access: with `apiKey` every route but `/health` needs `Authorization: Bearer <apiKey>` (401 otherwise); without it
 * the server is open to whoever can reach its address, which is why it listens on 127.0.0.1 by default.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { Batcher } from '../../actor/batcher.js';
import { LamerError, badInput } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { loadModelDir } from '../../shared/model/checkpoint-files.js';
import type { GenResult } from '../../shared/model/generate.js';
import { PolicyPool } from '../../shared/model/policy-pool.js';
import type { WordTokenizer } from '../../shared/model/tokenizer.js';
import { deriveSeed } from '../../shared/rng.js';
import {
  ChatRequestSchema,
  CompletionRequestSchema,
  apiError,
  zodToApiError,
  type ApiErrorBody,
  type ChatRequest,
  type CompletionRequest,
} from './serve-schema.js';

export interface ServeOptions {
  /** Model directory (lamer.json, model.safetensors, tokenizer.json), e.g. a run's checkpoint. */
  checkpoint: string;
  host: string;
  /** 0 = any free port. */
  port: number;
  /** The name clients must send as `model` (default 'lamer'). */
  modelName?: string;
  /** Decode worker threads (default 1). */
  threads?: number;
  /** Max requests per batched decode call (default 64). */
  maxBatch?: number;
  /** Requests waiting beyond this get 503 + Retry-After (default 1024). */
  maxQueue?: number;
  logprobsMode?: 'sampled' | 'raw';
  /** Seeds requests that carry no `seed` (in arrival order). */
  seed?: number;
  maxBodyBytes?: number;
  /** Bearer token every request but /health must carry (`lamer serve --api-key-env NAME` reads it from NAME). */
  apiKey?: string;
  logger?: Logger;
}

export interface ServeStats {
  requests: number;
  completions: number;
  errors: number;
  generatedTokens: number;
  /** Batched decode calls and the requests they carried (mean batch = decodeRequests / decodeBatches). */
  decodeBatches: number;
  decodeRequests: number;
}

export interface ServeHandle {
  /** Base URL for OpenAI clients, e.g. `http://127.0.0.1:8000/v1`. */
  url: string;
  modelName: string;
  nCtx: number;
  stats: ServeStats;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.error.message);
  }
}

const invalid = (message: string, param: string | null = null, code: string | null = null) =>
  new HttpError(400, apiError(message, 'invalid_request_error', param, code));

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Whether the request carries `Authorization: Bearer <key>` (compared in constant time). */
function authorized(req: IncomingMessage, key: Buffer): boolean {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  return m !== null && timingSafeEqual(digest(m[1]), key);
}

/** Parses `HOST:PORT` (IPv6 as `[::1]:8000`). */
export function parseListen(spec: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(spec.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65_535))
    throw badInput(`--listen must be HOST:PORT (e.g. 127.0.0.1:8000), got '${spec}'`);
  return { host: m[1] ?? m[2], port };
}

interface Choice {
  words: string[];
  logprobs: number[];
  finish: 'stop' | 'length';
  stopReason: string | null;
  generated: number;
}

/** Cuts one generation at its stop (eos, a one-word stop token, or the earliest multi-word stop sequence). */
function finishChoice(r: GenResult, tok: WordTokenizer, stops: string[][], include: boolean, raw: boolean): Choice {
  const words = r.tokens.map((t) => tok.words[t]!);
  const lps = raw ? r.rawLogprobs : r.logprobs;
  let end = words.length;
  let keep = words.length;
  let stopReason: string | null = null;
  let finish: Choice['finish'] = r.finish;
  if (r.finish === 'stop' && r.tokens[r.tokens.length - 1] === tok.eos) {
    end = keep = words.length - 1;
  }
  // Earliest stop sequence in the words generated before any eos.
  let best = -1;
  for (const s of stops) {
    for (let i = 0; i + s.length <= end; i++) {
      if (s.every((w, j) => words[i + j] === w)) {
        if (best < 0 || i < best) {
          best = i;
          stopReason = s.join(' ');
          keep = include ? i + s.length : i;
        }
        break;
      }
    }
  }
  if (best >= 0) finish = 'stop';
  return { words: words.slice(0, keep), logprobs: lps.slice(0, keep), finish, stopReason, generated: r.tokens.length };
}

/** Reads the body; one over `limit` bytes is drained (so the client gets the 413, not a reset) and rejected. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
      else if (size > 64 * limit) req.destroy(); // a client that keeps sending: stop listening
    });
    req.on('end', () => {
      if (size > limit)
        reject(
          new HttpError(
            413,
            apiError(`request body exceeds ${limit} bytes`, 'invalid_request_error', null, 'request_too_large'),
          ),
        );
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Loads the checkpoint, starts the decode pool and the HTTP server. */
export async function startServe(o: ServeOptions): Promise<ServeHandle> {
  const model = loadModelDir(o.checkpoint);
  if (!model.tokenizer)
    throw new LamerError(
      'RL_ERR_CHECKPOINT',
      `checkpoint '${o.checkpoint}' has no tokenizer.json: lamer serve needs it to read text`,
    );
  const tok = model.tokenizer;
  const nCtx = model.config.nCtx;
  const modelName = o.modelName ?? 'lamer';
  const raw = o.logprobsMode === 'raw';
  const maxQueue = o.maxQueue ?? 1024;
  const maxBody = o.maxBodyBytes ?? 1 << 20;
  const threads = o.threads ?? 1;
  const pool = await PolicyPool.create({ config: model.config, params: model.params, version: 0, threads });
  const batcher = new Batcher(pool, { maxBatch: o.maxBatch ?? 64, concurrency: threads, lockstep: false });
  const stats: ServeStats = {
    requests: 0,
    completions: 0,
    errors: 0,
    generatedTokens: 0,
    decodeBatches: 0,
    decodeRequests: 0,
  };
  const created = Math.floor(Date.now() / 1000);
  let counter = 0;
  let seedCounter = 0;
  const baseSeed = o.seed ?? 0;

  const parse = <S extends z.ZodType>(schema: S, text: string): z.output<S> => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw invalid(`request body is not valid JSON: ${(e as Error).message}`, null, 'invalid_json');
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      throw invalid('request body must be a JSON object');
    const r = schema.safeParse(json);
    if (!r.success) throw new HttpError(400, zodToApiError(r.error));
    return r.data;
  };

  const generate = async (
    promptText: string,
    body: CompletionRequest | ChatRequest,
    maxTokensDefault: number,
    maxTokensGiven: number | null | undefined,
  ): Promise<{ choices: Choice[]; promptTokens: number }> => {
    if (body.model !== modelName) {
      throw new HttpError(
        404,
        apiError(
          `The model '${body.model}' does not exist (this server serves '${modelName}').`,
          'invalid_request_error',
          'model',
          'model_not_found',
        ),
      );
    }
    const ids = tok.encode(promptText);
    if (ids.length === 0) ids.push(tok.bos);
    if (ids.length >= nCtx) {
      throw invalid(
        `This model's maximum context length is ${nCtx} tokens; the prompt has ${ids.length}. Shorten the prompt ` +
          '(lamer models read the compact template: lamer eval --template compact).',
        'prompt',
        'context_length_exceeded',
      );
    }
    if (batcher.pending >= maxQueue) {
      throw new HttpError(
        503,
        apiError(`server overloaded: ${batcher.pending} requests queued`, 'server_error', null, 'overloaded'),
        { 'retry-after': '1' },
      );
    }
    const stopList = body.stop == null ? [] : Array.isArray(body.stop) ? body.stop : [body.stop];
    const stops = stopList
      .map((s) =>
        s
          .trim()
          .split(/\s+/)
          .filter((w) => w.length > 0),
      )
      .filter((s) => s.length > 0);
    // One-word stops that are vocabulary words end decoding early; longer ones are cut after generation.
    const stopIds = stops.filter((s) => s.length === 1 && tok.id(s[0]) !== tok.unk).map((s) => tok.id(s[0]));
    const maxTokens = Math.min(maxTokensGiven ?? maxTokensDefault, nCtx - ids.length);
    const n = body.n ?? 1;
    const t = body.temperature ?? 1;
    const seed0 = body.seed ?? deriveSeed(baseSeed, seedCounter++);
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        batcher.generate({
          prompt: ids,
          maxTokens,
          stop: [...stopIds, tok.eos],
          temperature: t,
          topP: body.top_p ?? 1,
          seed: n === 1 ? seed0 : deriveSeed(seed0, i),
        }),
      ),
    );
    // The pool returns full GenResults (the Batcher's type shows only what trials read).
    const choices = results.map((r) =>
      finishChoice(r as GenResult, tok, stops, body.include_stop_str_in_output === true, raw),
    );
    for (const c of choices) stats.generatedTokens += c.generated;
    stats.decodeBatches = batcher.stats.batches;
    stats.decodeRequests = batcher.stats.requests;
    return { choices, promptTokens: ids.length };
  };

  const usage = (promptTokens: number, choices: Choice[]) => {
    const completion = choices.reduce((a, c) => a + c.generated, 0);
    return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
  };

  const completions = async (text: string) => {
    const body = parse(CompletionRequestSchema, text);
    const prompt = Array.isArray(body.prompt) ? body.prompt[0] : body.prompt;
    const { choices, promptTokens } = await generate(prompt, body, 16, body.max_tokens);
    return {
      id: `cmpl-${(counter++).toString(16)}`,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: modelName,
      choices: choices.map((c, index) => {
        // Every token carries its leading space, so prompt + text is the model's word sequence.
        const pieces = c.words.map((w) => ` ${w}`);
        const offsets: number[] = [];
        let at = prompt.length;
        for (const p of pieces) {
          offsets.push(at);
          at += p.length;
        }
        return {
          index,
          text: pieces.join(''),
          finish_reason: c.finish,
          stop_reason: c.stopReason,
          logprobs:
            body.logprobs == null
              ? null
              : { tokens: pieces, token_logprobs: c.logprobs, top_logprobs: null, text_offset: offsets },
        };
      }),
      usage: usage(promptTokens, choices),
    };
  };

  const chat = async (text: string) => {
    const body = parse(ChatRequestSchema, text);
    const prompt = body.messages
      .map((m) => (typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join(' ')))
      .join('\n');
    const { choices, promptTokens } = await generate(
      prompt,
      body,
      Number.MAX_SAFE_INTEGER,
      body.max_completion_tokens ?? body.max_tokens,
    );
    return {
      id: `chatcmpl-${(counter++).toString(16)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: modelName,
      choices: choices.map((c, index) => ({
        index,
        message: { role: 'assistant', content: c.words.join(' ') },
        finish_reason: c.finish,
        stop_reason: c.stopReason,
        logprobs: body.logprobs
          ? {
              content: c.words.map((w, i) => ({
                token: i === 0 ? w : ` ${w}`,
                logprob: c.logprobs[i],
                bytes: [...Buffer.from(i === 0 ? w : ` ${w}`)],
                top_logprobs: [],
              })),
            }
          : null,
      })),
      usage: usage(promptTokens, choices),
    };
  };

  const routes: Record<string, { method: 'GET' | 'POST'; run(body: string): Promise<unknown> | unknown }> = {
    '/v1/completions': { method: 'POST', run: completions },
    '/v1/chat/completions': { method: 'POST', run: chat },
    '/v1/models': {
      method: 'GET',
      run: () => ({
        object: 'list',
        data: [{ id: modelName, object: 'model', created, owned_by: 'lamer', max_model_len: nCtx }],
      }),
    },
    '/health': { method: 'GET', run: () => ({ status: 'ok' }) },
    // Counters for benchmarks and operators: requests, decode batches, and this process's CPU time (main + workers).
    '/stats': {
      method: 'GET',
      run: () => ({ ...stats, cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000) }),
    },
  };

  if (o.apiKey !== undefined && o.apiKey.length === 0) throw badInput('lamer serve: the API key is empty');
  const apiKey = o.apiKey === undefined ? null : digest(o.apiKey);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    try {
      let path: string;
      try {
        path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '');
      } catch {
        throw invalid('malformed request target', null, 'invalid_request_target');
      }
      if (apiKey && path !== '/health' && !authorized(req, apiKey)) {
        throw new HttpError(
          401,
          apiError(
            'Incorrect or missing API key (send Authorization: Bearer <key>).',
            'invalid_request_error',
            null,
            'invalid_api_key',
          ),
          { 'www-authenticate': 'Bearer' },
        );
      }
      const route = routes[path];
      if (!route)
        throw new HttpError(
          404,
          apiError(`unknown route ${req.method} ${path}`, 'invalid_request_error', null, 'not_found'),
        );
      if (req.method !== route.method) {
        throw new HttpError(
          405,
          apiError(
            `${path} accepts ${route.method}, not ${req.method}`,
            'invalid_request_error',
            null,
            'method_not_allowed',
          ),
          { allow: route.method },
        );
      }
      const body = route.method === 'POST' ? await readBody(req, maxBody) : '';
      const out = await route.run(body);
      if (route.method === 'POST') stats.completions++;
      send(res, 200, out);
    } catch (e) {
      stats.errors++;
      if (e instanceof HttpError) return send(res, e.status, e.body, e.headers);
      o.logger?.error({ err: (e as Error)?.message }, 'serve: request failed');
      send(
        res,
        500,
        apiError(`internal error: ${(e as Error)?.message ?? String(e)}`, 'server_error', null, 'internal_error'),
      );
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => resolve());
    });
  } catch (e) {
    await pool.close();
    throw badInput(
      `cannot listen on ${o.host}:${o.port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closed = false;
  return {
    url: `http://${host}:${addr.port}/v1`,
    modelName,
    nCtx,
    stats,
    close: async () => {
      if (closed) return;
      closed = true;
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}
