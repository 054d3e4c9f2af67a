/**
 * Generation in worker threads. `session.run` blocks the thread that calls it, so nothing that serves sockets may
 * run it: PolicyPool keeps one decode session per piscina worker (1 intra-op thread each) and the caller's event
 * loop free. Weight swaps build the new session next to the old one in every worker; a running generation
 * finishes with the version it started with (reported in each result).
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { LamerError, isLamerError } from '../errors.js';
import { NativeGuard } from '../native-guard.js';
import { parseModelConfig, type ModelConfig } from './config.js';
import { checkGenRequests, type GenRequest, type GenResult } from './generate.js';
import { buildManifest, checkParams } from './manifest.js';
import type { GenerateTask, PolicyWorkerData, PoolMessage, PublishedWeights } from './policy.worker.js';

export type { GenRequest, GenResult };

export interface PolicyPoolOptions {
  config: ModelConfig;
  params: Float32Array;
  version: number;
  /** Worker threads (default min(2, cores)); each runs one session with one intra-op thread. */
  threads?: number;
  /** Milliseconds to wait for workers to start or acknowledge new weights (default 60 000). */
  timeoutMs?: number;
  /**
   * Deadline of one batched decode call in ms (default 300 000; 0 = none). Past it the call rejects with
   * RL_ERR_TIMEOUT and the decode is cancelled at its next step. A worker that still has not stopped after
   * `killGraceMs` more is terminated and replaced (a watchdog for a stuck decode), but only while it is outside
   * onnxruntime: killing a thread inside a native call aborts the process (shared/native-guard.ts).
   */
  decodeTimeoutMs?: number;
  /** See decodeTimeoutMs (default 10 000). Also how long close() waits for cancelled decodes to stop. */
  killGraceMs?: number;
}

function shared(params: Float32Array): SharedArrayBuffer {
  const buf = new SharedArrayBuffer(params.byteLength);
  new Float32Array(buf).set(params);
  return buf;
}

export class PolicyPool {
  readonly config: ModelConfig;
  readonly threads: number;
  private readonly pool: Piscina;
  private readonly bc: BroadcastChannel;
  private latest: PublishedWeights;
  private current: number;
  private readonly acked = new Map<number, number>();
  private readonly waiters = new Set<() => void>();
  private readonly timeoutMs: number;
  private readonly decodeTimeoutMs: number;
  private readonly killGraceMs: number;
  private readonly guards = new Map<number, NativeGuard>();
  private readonly inFlight = new Set<{ ticket: Int32Array; done: Promise<unknown> }>();
  private closed = false;

  private constructor(o: PolicyPoolOptions, config: ModelConfig) {
    this.config = config;
    this.threads = o.threads ?? Math.max(1, Math.min(2, availableParallelism()));
    if (!Number.isInteger(this.threads) || this.threads < 1)
      throw new RangeError(`threads must be a positive integer, got ${o.threads}`);
    this.timeoutMs = o.timeoutMs ?? 60_000;
    this.decodeTimeoutMs = o.decodeTimeoutMs ?? 300_000;
    this.killGraceMs = o.killGraceMs ?? 10_000;
    this.current = o.version;
    this.latest = { seq: 0, version: o.version, buffer: shared(o.params) };
    const channel = `lamer-policy-${randomUUID()}`;
    this.bc = new BroadcastChannel(channel);
    this.bc.onmessage = (ev: unknown) => {
      const m = (ev as { data: PoolMessage }).data;
      if (m?.type !== 'ack') return;
      if (!this.guards.has(m.threadId)) {
        this.forgetDeadThreads();
        this.guards.set(m.threadId, new NativeGuard(m.guard));
      }
      if (m.error) this.failure = new LamerError('RL_ERR_INTERNAL', `policy worker ${m.threadId}: ${m.error}`);
      this.acked.set(m.threadId, Math.max(this.acked.get(m.threadId) ?? -1, m.seq));
      // A worker that started after the last broadcast (e.g. respawned by piscina) is behind: resend.
      if (!m.error && m.seq < this.latest.seq)
        this.bc.postMessage({ type: 'weights', weights: this.latest } satisfies PoolMessage);
      for (const w of [...this.waiters]) w();
    };
    const workerData: PolicyWorkerData = { config, weights: this.latest, channel, intraOpThreads: 1 };
    this.pool = new Piscina({
      filename: new URL('./policy-worker.mjs', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 1,
      // Workers must keep their event loop running between tasks to receive weight broadcasts.
      atomics: 'disabled',
      workerData,
    });
  }

  private failure: LamerError | null = null;
  /** Decode calls that missed their deadline (each cancelled). */
  timeouts = 0;
  /** Workers terminated because a cancelled decode did not stop within killGraceMs. */
  killed = 0;
  private appliedSeq = 0;

  /** Starts the workers and resolves once every one has its session ready. */
  static async create(o: PolicyPoolOptions): Promise<PolicyPool> {
    const config = parseModelConfig(o.config);
    checkParams(buildManifest(config), o.params);
    if (!Number.isInteger(o.version)) throw new RangeError(`version must be an integer, got ${o.version}`);
    const p = new PolicyPool(o, config);
    try {
      await p.waitForAcks(0, 'start');
    } catch (e) {
      await p.close();
      throw e;
    }
    return p;
  }

  /** A respawned worker is a new thread id: drop what was kept for ended ones, so a run of days does not grow. */
  private forgetDeadThreads(): void {
    const live = new Set(this.pool.threads.map((t) => t.threadId));
    for (const id of [...this.guards.keys()]) if (!live.has(id)) this.guards.delete(id);
    for (const id of [...this.acked.keys()]) if (!live.has(id)) this.acked.delete(id);
  }

  /** Worker threads the pool keeps state for (guards, acks); at most `threads` once respawns have acked. */
  get trackedThreads(): number {
    return new Set([...this.guards.keys(), ...this.acked.keys()]).size;
  }

  /** Policy version that generations started from now will use. */
  get version(): number {
    return this.current;
  }

  private waitForAcks(seq: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.failure) return finish(this.failure);
        const ids = this.pool.threads.map((t) => t.threadId);
        if (ids.length >= this.threads && ids.every((id) => (this.acked.get(id) ?? -1) >= seq)) finish();
      };
      const timer = setTimeout(
        () => finish(new LamerError('RL_ERR_TIMEOUT', `policy workers did not ${what} within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      const finish = (err?: Error) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      this.waiters.add(check);
      check();
    });
  }

  /**
   * One batched KV-cache decode run for all requests (variable-length prompts) on one worker. Each result's
   * `logprobs` are log μ under the sampling distribution actually used (temperature/top-p); `rawLogprobs` under
   * the plain model distribution.
   */
  async generate(reqs: GenRequest[], opts: { timeoutMs?: number } = {}): Promise<GenResult[]> {
    if (this.closed) throw new LamerError('RL_ERR_INTERNAL', 'PolicyPool is closed');
    checkGenRequests(this.config, reqs);
    if (reqs.length === 0) return [];
    const ms = opts.timeoutMs ?? this.decodeTimeoutMs;
    const ticket = new Int32Array(new SharedArrayBuffer(8));
    const kill = new AbortController();
    const task = this.pool.run({ reqs, weights: this.latest, ticket: ticket.buffer } satisfies GenerateTask, {
      signal: kill.signal,
    }) as Promise<GenResult[]>;
    const entry = { ticket, done: task.catch(() => undefined) };
    this.inFlight.add(entry);
    void entry.done.then(() => this.inFlight.delete(entry));
    const failed = (e: unknown): LamerError => {
      if (isLamerError(e)) return new LamerError(e.code, e.message);
      return new LamerError('RL_ERR_INTERNAL', `policy worker failed: ${(e as Error)?.message ?? String(e)}`);
    };
    if (!(ms > 0)) return task.catch((e: unknown) => Promise.reject(failed(e)));
    return new Promise<GenResult[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.timeouts++;
        Atomics.store(ticket, 1, 1); // the worker stops at its next decode step
        this.watch(entry, kill);
        reject(
          new LamerError(
            'RL_ERR_TIMEOUT',
            `decode of ${reqs.length} requests did not finish within ${ms} ms; it was cancelled`,
          ),
        );
      }, ms);
      task.then(
        (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(failed(e));
        },
      );
    });
  }

  /**
   * A cancelled decode that has not stopped within killGraceMs: its worker is stuck. Terminate it once it is
   * outside onnxruntime (claimed), polling; piscina starts a replacement.
   */
  private watch(entry: { ticket: Int32Array; done: Promise<unknown> }, kill: AbortController): void {
    let settled = false;
    void entry.done.then(() => {
      settled = true;
    });
    const poll = (delay: number) =>
      setTimeout(() => {
        if (settled || this.closed) return;
        const guard = this.guards.get(Atomics.load(entry.ticket, 0));
        if (guard?.claim()) {
          this.killed++;
          kill.abort();
        } else poll(100);
      }, delay).unref();
    poll(this.killGraceMs);
  }

  /**
   * Swaps in new weights in every worker (each builds the new session next to its old one) and resolves when
   * all have switched. Generation in a worker pauses only while its new session is created.
   */
  async setWeights(params: Float32Array, version: number): Promise<void> {
    checkParams(buildManifest(this.config), params);
    if (!Number.isInteger(version)) throw new RangeError(`version must be an integer, got ${version}`);
    this.latest = { seq: this.latest.seq + 1, version, buffer: shared(params) };
    const done = this.waitForAcks(this.latest.seq, 'switch weights');
    const seq = this.latest.seq;
    this.bc.postMessage({ type: 'weights', weights: this.latest } satisfies PoolMessage);
    await done;
    // Overlapping swaps may resolve together: the newest one wins.
    if (seq > this.appliedSeq) {
      this.appliedSeq = seq;
      this.current = version;
    }
  }

  /**
   * Cancels running decodes, waits (up to killGraceMs) for them to stop and for every worker to be outside
   * onnxruntime, then ends the workers.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const e of this.inFlight) Atomics.store(e.ticket, 1, 1);
    const until = Date.now() + this.killGraceMs;
    await Promise.race([Promise.all([...this.inFlight].map((e) => e.done)), sleep(this.killGraceMs)]);
    for (const t of this.pool.threads) {
      const guard = this.guards.get(t.threadId);
      while (guard && !guard.claim() && Date.now() < until) await sleep(20);
    }
    this.bc.close();
    await this.pool.destroy();
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
