/**
 * A dedicated worker thread with request/response RPC, for stateful engines (the learner's trainer holds a
 * session, parameters and optimizer state, so a pool does not fit). `session.run` blocks its thread; running
 * it here keeps the socket-serving main thread responsive.
 */
import { parentPort, Worker, type TransferListItem } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { DeadlineError } from './deadline.js';
import { LamerError, isLamerError } from './errors.js';
import { installNativeGuard, NativeGuard } from './native-guard.js';
import { tsxUrl } from './tsx-url.js';

interface RpcRequest {
  id: number;
  method: string;
  args: unknown;
}
/** The first message to a worker: its native-section guard (shared/native-guard.ts). */
interface RpcGuard {
  guard: SharedArrayBuffer;
}
interface RpcResponse {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: { code: string; message: string };
}

/**
 * Starts a worker running a TypeScript module. The tsx loader is registered inside the worker, so this works
 * from the CLI, from vitest and from a plain `node` process alike.
 */
export function spawnTsWorker(moduleUrl: URL, workerData?: unknown): Worker {
  const path = fileURLToPath(moduleUrl);
  const api = JSON.stringify(tsxUrl('tsx/esm/api'));
  const boot = `import { register } from ${api}; register(); await import(${JSON.stringify(path)});`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * A worker's methods: each takes one argument (or none) and may be async. `any` here only widens the constraint;
 * the concrete API interface fixes every argument type.
 */
// biome-ignore lint/suspicious/noExplicitAny: each handler declares its own argument type; `unknown` would reject them.
export type RpcApi = Record<string, (args: any) => unknown>;
/** Any interface whose members are all such methods (interfaces have no implicit index signature). */
// biome-ignore lint/suspicious/noExplicitAny: as above.
export type MethodsOf<Api> = { [K in keyof Api]: (args: any) => unknown };

export interface RpcClientOptions {
  /**
   * Deadline of each call in ms (default 0: none), or per method. A call past its deadline rejects with a
   * DeadlineError and the worker is retired: its queue is serial, so every later call would wait behind the
   * stuck one. Retiring terminates the worker once it is outside onnxruntime, or makes it end its own thread
   * when its native call returns (killing a thread inside one aborts the process). The owner replaces it (see
   * learner/trainer-client.ts).
   */
  timeoutMs?: number | ((method: string) => number);
  /** Told once per expired call, before it rejects (log the reason here). */
  onTimeout?: (e: DeadlineError) => void;
}

/**
 * Main-thread side. With an API interface (`new RpcClient<TrainerWorkerApi>(…)`) method names, argument and
 * result types are checked at compile time, so the two sides cannot drift apart by a string.
 */
export class RpcClient<Api extends MethodsOf<Api> = RpcApi> {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  private dead: Error | null = null;
  private readonly guard = new NativeGuard();
  private exited = false;
  private retiring: Promise<void> | null = null;

  constructor(
    private readonly worker: Worker,
    private readonly opts: RpcClientOptions = {},
  ) {
    worker.postMessage({ guard: this.guard.buffer } satisfies RpcGuard);
    worker.on('message', (m: RpcResponse) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.value);
      else
        w.reject(
          new LamerError(isLamerError(m.error) ? m.error.code : 'RL_ERR_INTERNAL', m.error?.message ?? 'worker error'),
        );
    });
    const fail = (e: Error) => {
      this.dead ??= e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      this.exited = true;
      fail(new LamerError('RL_ERR_INTERNAL', `worker exited with code ${code}`));
    });
  }

  call<K extends keyof Api & string>(
    method: K,
    args?: Parameters<Api[K]>[0],
    transfer: TransferListItem[] = [],
  ): Promise<Awaited<ReturnType<Api[K]>>> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    const t = this.opts.timeoutMs;
    const ms = typeof t === 'function' ? t(method) : (t ?? 0);
    return new Promise((resolve, reject) => {
      const timer = ms > 0 && Number.isFinite(ms) ? setTimeout(() => this.expire(id, method, ms), ms) : null;
      const settle =
        <V>(f: (v: V) => void) =>
        (v: V) => {
          if (timer) clearTimeout(timer);
          f(v);
        };
      this.waiting.set(id, { resolve: settle(resolve as (v: unknown) => void), reject: settle(reject) });
      this.worker.postMessage({ id, method, args } satisfies RpcRequest, transfer);
    });
  }

  /** True once the worker died or was terminated after a missed deadline: every call rejects at once. */
  get failed(): boolean {
    return this.dead !== null;
  }

  private expire(id: number, method: string, ms: number): void {
    const w = this.waiting.get(id);
    if (!w) return;
    const e = new DeadlineError(`worker call '${method}'`, ms);
    this.opts.onTimeout?.(e);
    this.waiting.delete(id);
    w.reject(e);
    // Everything else queued behind the stuck call fails too; retiring frees the thread.
    this.dead = e;
    for (const other of this.waiting.values()) other.reject(e);
    this.waiting.clear();
    void this.retire();
  }

  /**
   * Ends the worker without killing it inside onnxruntime: it is asked to exit at its next native boundary, and
   * terminated as soon as it is outside native code. Resolves when the thread has ended.
   */
  retire(): Promise<void> {
    this.retiring ??= (async () => {
      this.guard.cancel();
      while (!this.exited && !this.guard.claim()) await new Promise((r) => setTimeout(r, 20));
      if (!this.exited) await this.worker.terminate();
    })();
    return this.retiring;
  }

  async close(): Promise<void> {
    await this.retire();
  }
}

/** Worker side: answers requests in arrival order (one at a time, so the engine never runs concurrently). */
export function serveRpc<Api extends MethodsOf<Api>>(
  handlers: Api,
  transferOf?: (value: unknown) => TransferListItem[],
): void {
  if (!parentPort) throw new Error('serveRpc must run inside a worker thread');
  const port = parentPort;
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (m: RpcRequest | RpcGuard) => {
    if ('guard' in m) return installNativeGuard(m.guard, 'exit');
    chain = chain.then(async () => {
      const h = (handlers as RpcApi)[m.method];
      try {
        if (!h) throw new LamerError('RL_ERR_INTERNAL', `unknown worker method '${m.method}'`);
        const value = await h(m.args);
        port.postMessage({ id: m.id, ok: true, value } satisfies RpcResponse, transferOf ? transferOf(value) : []);
      } catch (e) {
        const error = isLamerError(e)
          ? { code: e.code, message: e.message }
          : { code: 'RL_ERR_INTERNAL', message: e instanceof Error ? e.message : String(e) };
        port.postMessage({ id: m.id, ok: false, error } satisfies RpcResponse);
      }
    });
  });
}
