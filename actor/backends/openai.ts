/**
 * A policy backend that asks an OpenAI-compatible inference server (vLLM, SGLang, llama.cpp server, Ollama,
 * `lamer serve`) for completions through the `openai` client: bounded concurrency, per-request timeouts, retries
 * with exponential backoff on timeouts / connection errors / 408 / 409 / 429 / 5xx (a Retry-After header wins), and
 * strict validation of what comes back. Returns the text plus the sampled tokens' log-probs when the server gives
 * them.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { z } from 'zod';
import { LamerError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';

/** One completion request, backend-neutral. */
export interface TextCompletionRequest {
  prompt: string;
  maxTokens: number;
  /** Stop strings (kept in the returned text: the env parsers need the closing tag). */
  stop: string[];
  temperature: number;
  topP: number;
  /** Per-request sampling seed (servers that honour it make runs repeatable). */
  seed?: number;
}

export interface TextCompletion {
  text: string;
  /** 'stop' | 'length' | whatever the server reported. */
  finish: string;
  /** Sampled tokens and their log-probs, when the server returned them for every token. */
  tokens?: Array<{ token: string; logprob: number }>;
  /** Attempts beyond the first that this request needed. */
  retries: number;
}

/** What the trial runner needs from a text-level policy. */
export interface TextPolicy {
  /** Names the policy in records and reports (the server's model name). */
  readonly model: string;
  complete(req: TextCompletionRequest): Promise<TextCompletion>;
}

export interface OpenAIBackendOptions {
  /** e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  model: string;
  /** Local servers need none; a placeholder is sent then (the client refuses to run without one). */
  apiKey?: string;
  endpoint: 'chat' | 'completions';
  /** Max requests in flight. */
  concurrency: number;
  timeoutMs: number;
  maxRetries: number;
  /** First retry delay; doubles per retry, ±25% jitter. */
  backoffMs: number;
  /** Cap of any single delay, Retry-After included (default 30 s). */
  maxBackoffMs?: number;
  /** Ask for per-token log-probs. */
  logprobs: boolean;
  /** Sent as `top_k` when > 0 (a vLLM / llama.cpp extension the OpenAI API itself does not have). */
  topK?: number;
  /** Chat only: `chat_template_kwargs: {enable_thinking: false}` (Qwen3's non-thinking mode, which the paper uses). */
  disableThinking?: boolean;
  logger?: Logger;
}

export interface OpenAIBackendStats {
  requests: number;
  retries: number;
  timeouts: number;
  rateLimited: number;
  serverErrors: number;
  connectionErrors: number;
  failures: number;
}

// ---- response shapes (only what we read; servers add fields freely) ------------------------------------------
const FiniteLogp = z.number().refine(Number.isFinite, 'must be a finite number');
const StopReason = z.union([z.string(), z.number(), z.null()]).optional();

const CompletionsResponse = z.object({
  choices: z
    .array(
      z.object({
        text: z.string(),
        finish_reason: z.string().nullable().optional(),
        stop_reason: StopReason,
        logprobs: z
          .object({
            tokens: z.array(z.string()).optional(),
            token_logprobs: z.array(FiniteLogp.nullable()).optional(),
          })
          .nullable()
          .optional(),
      }),
    )
    .min(1, 'the server returned no choices'),
});

const ChatResponse = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullable().optional() }),
        finish_reason: z.string().nullable().optional(),
        stop_reason: StopReason,
        logprobs: z
          .object({
            content: z
              .array(z.object({ token: z.string(), logprob: FiniteLogp }))
              .nullable()
              .optional(),
          })
          .nullable()
          .optional(),
      }),
    )
    .min(1, 'the server returned no choices'),
});

/** Resolves when a slot is free; bounded concurrency without a dependency. */
class Semaphore {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function backendError(msg: string): LamerError {
  return new LamerError('RL_ERR_BACKEND', msg);
}

/** Retry-After (seconds or HTTP date) or retry-after-ms, in ms; null when absent or unreadable. */
function retryAfterMs(headers: Headers | undefined): number | null {
  if (!headers) return null;
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') !== null && Number.isFinite(ms) && ms >= 0) return ms;
  const v = headers.get('retry-after');
  if (v === null) return null;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : null;
}

type Failure = { retry: boolean; kind: keyof OpenAIBackendStats | null; message: string; delayHint: number | null };

function classify(e: unknown): Failure {
  if (e instanceof APIConnectionTimeoutError)
    return { retry: true, kind: 'timeouts', message: 'request timed out', delayHint: null };
  if (e instanceof APIConnectionError)
    return { retry: true, kind: 'connectionErrors', message: `connection failed: ${e.message}`, delayHint: null };
  if (e instanceof APIError && e.status !== undefined) {
    const s = e.status;
    // The client prefixes its messages with the status; we say "HTTP <status>" ourselves.
    const message = e.message.replace(new RegExp(`^${s} `), '');
    const hint = retryAfterMs(e.headers as Headers | undefined);
    if (s === 429) return { retry: true, kind: 'rateLimited', message: `HTTP 429: ${message}`, delayHint: hint };
    if (s === 408 || s === 409 || s >= 500)
      return { retry: true, kind: 'serverErrors', message: `HTTP ${s}: ${message}`, delayHint: hint };
    return { retry: false, kind: null, message: `HTTP ${s}: ${message}`, delayHint: null };
  }
  // A 200 whose body is not JSON (the client's JSON parse throws) or anything unexpected: not retried.
  return {
    retry: false,
    kind: null,
    message: `malformed response: ${(e as Error)?.message ?? String(e)}`,
    delayHint: null,
  };
}

function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`)
    .join('; ');
}

/**
 * The OpenAI-compatible backend: `new OpenAIBackend(options)` or
 * `new OpenAIBackend(OpenAIBackend.optionsFromConfig(cfg.policy))`.
 * One instance per process: its concurrency limit is shared by every trial that uses it.
 */
export class OpenAIBackend implements TextPolicy {
  readonly model: string;
  readonly stats: OpenAIBackendStats = {
    requests: 0,
    retries: 0,
    timeouts: 0,
    rateLimited: 0,
    serverErrors: 0,
    connectionErrors: 0,
    failures: 0,
  };
  private readonly client: OpenAI;
  private readonly slots: Semaphore;
  private readonly where: string;

  constructor(private readonly o: OpenAIBackendOptions) {
    const problems: string[] = [];
    try {
      const u = new URL(o.baseUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:')
        problems.push(`baseUrl must be http(s), got '${o.baseUrl}'`);
    } catch {
      problems.push(`baseUrl '${o.baseUrl}' is not a URL`);
    }
    if (!o.model || o.model.trim() === '') problems.push('model must name the served model');
    if (o.endpoint !== 'chat' && o.endpoint !== 'completions')
      problems.push(`endpoint must be 'chat' or 'completions', got '${String(o.endpoint)}'`);
    for (const [k, min] of [
      ['concurrency', 1],
      ['timeoutMs', 1],
      ['maxRetries', 0],
      ['backoffMs', 0],
    ] as const) {
      if (!Number.isInteger(o[k]) || o[k] < min) problems.push(`${k} must be an integer >= ${min}, got ${o[k]}`);
    }
    if (problems.length) throw new LamerError('RL_ERR_CONFIG', `openai backend: ${problems.join('; ')}`);
    this.model = o.model;
    this.where = `${o.baseUrl.replace(/\/+$/, '')}/${o.endpoint === 'chat' ? 'chat/completions' : 'completions'}`;
    this.client = new OpenAI({ baseURL: o.baseUrl, apiKey: o.apiKey || 'EMPTY', timeout: o.timeoutMs, maxRetries: 0 });
    this.slots = new Semaphore(o.concurrency);
  }

  /** Options from the `policy` config group; the key is read from the environment variable it names. */
  static optionsFromConfig(
    c: {
      baseUrl: string;
      model: string;
      apiKeyEnv: string;
      endpoint: 'chat' | 'completions';
      concurrency: number;
      timeoutMs: number;
      maxRetries: number;
      backoffMs: number;
      logprobs: boolean;
      disableThinking?: boolean;
      topK?: number;
    },
    env: NodeJS.ProcessEnv = process.env,
  ): OpenAIBackendOptions {
    return {
      baseUrl: c.baseUrl,
      model: c.model,
      apiKey: env[c.apiKeyEnv],
      endpoint: c.endpoint,
      concurrency: c.concurrency,
      timeoutMs: c.timeoutMs,
      maxRetries: c.maxRetries,
      backoffMs: c.backoffMs,
      logprobs: c.logprobs,
      disableThinking: c.disableThinking,
      topK: c.topK,
    };
  }

  async complete(req: TextCompletionRequest): Promise<TextCompletion> {
    const maxDelay = this.o.maxBackoffMs ?? 30_000;
    for (let attempt = 0; ; attempt++) {
      await this.slots.acquire();
      let body: unknown;
      try {
        this.stats.requests++;
        body = await this.send(req);
      } catch (e) {
        this.slots.release();
        const f = classify(e);
        if (f.kind) this.stats[f.kind]++;
        if (!f.retry || attempt >= this.o.maxRetries) {
          this.stats.failures++;
          const tail = f.retry ? ` (gave up after ${attempt + 1} attempts)` : '';
          throw backendError(`${this.where}: ${f.message}${tail}`);
        }
        const backoff = this.o.backoffMs * 2 ** attempt * (0.75 + 0.5 * Math.random());
        const delay = Math.min(maxDelay, f.delayHint ?? backoff);
        this.o.logger?.warn(
          { where: this.where, attempt: attempt + 1, delayMs: Math.round(delay), err: f.message },
          'inference request failed; retrying',
        );
        this.stats.retries++;
        await sleep(delay);
        continue;
      }
      this.slots.release();
      try {
        return { ...this.parse(body, req), retries: attempt };
      } catch (e) {
        this.stats.failures++;
        throw e;
      }
    }
  }

  private send(req: TextCompletionRequest): Promise<unknown> {
    const common: Record<string, unknown> = {
      model: this.o.model,
      max_tokens: req.maxTokens,
      temperature: req.temperature,
      top_p: req.topP,
      n: 1,
      ...(req.seed !== undefined ? { seed: req.seed } : {}),
      ...(this.o.topK ? { top_k: this.o.topK } : {}),
      // vLLM's (and lamer serve's) switch to keep the matched stop string: the parsers need the closing tag.
      ...(req.stop.length ? { stop: req.stop, include_stop_str_in_output: true } : {}),
    };
    if (this.o.endpoint === 'completions') {
      const params = { ...common, prompt: req.prompt, ...(this.o.logprobs ? { logprobs: 0 } : {}) };
      return this.client.completions.create(
        params as unknown as OpenAI.CompletionCreateParamsNonStreaming,
      ) as Promise<unknown>;
    }
    const params = {
      ...common,
      messages: [{ role: 'user', content: req.prompt }],
      ...(this.o.logprobs ? { logprobs: true } : {}),
      ...(this.o.disableThinking ? { chat_template_kwargs: { enable_thinking: false } } : {}),
    };
    return this.client.chat.completions.create(
      params as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming,
    ) as Promise<unknown>;
  }

  private parse(body: unknown, req: TextCompletionRequest): Omit<TextCompletion, 'retries'> {
    let text: string;
    let finish: string;
    let stopReason: unknown;
    let tokens: Array<{ token: string; logprob: number }> | undefined;
    if (this.o.endpoint === 'completions') {
      const r = CompletionsResponse.safeParse(body);
      if (!r.success) throw backendError(`${this.where}: malformed response: ${describeIssues(r.error)}`);
      const c = r.data.choices[0];
      text = c.text;
      finish = c.finish_reason ?? 'unknown';
      stopReason = c.stop_reason;
      const lp = c.logprobs;
      if (
        lp?.tokens &&
        lp.token_logprobs &&
        lp.tokens.length === lp.token_logprobs.length &&
        lp.token_logprobs.every((x) => x !== null)
      ) {
        tokens = lp.tokens.map((token, i) => ({ token, logprob: lp.token_logprobs![i] as number }));
      }
    } else {
      const r = ChatResponse.safeParse(body);
      if (!r.success) throw backendError(`${this.where}: malformed response: ${describeIssues(r.error)}`);
      const c = r.data.choices[0];
      text = c.message.content ?? '';
      finish = c.finish_reason ?? 'unknown';
      stopReason = c.stop_reason;
      if (c.logprobs?.content) tokens = c.logprobs.content.map((t) => ({ token: t.token, logprob: t.logprob }));
    }
    // Servers that ignore include_stop_str_in_output but report which stop matched (vLLM's stop_reason): restore it.
    if (
      req.stop.length &&
      !req.stop.some((s) => text.endsWith(s)) &&
      typeof stopReason === 'string' &&
      req.stop.includes(stopReason)
    ) {
      text += stopReason;
    }
    if (tokens && tokens.length === 0 && text.length > 0) tokens = undefined;
    return { text, finish, tokens };
  }
}
