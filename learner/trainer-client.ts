/**
 * Main-thread handle of the trainer worker: the `TrainerApi` the update uses, plus weights/optimizer access.
 *
 * Watchdog: every call has a deadline (`callTimeoutMs`). A call past it (or a worker that dies) makes the
 * client terminate the worker and start a new one from the last state the main thread holds: the weights of
 * the last `params()` answer (what was published) and the optimizer state of the last `optimizerState()`
 * answer (the last checkpoint; Adam moments since then are lost). The failed call still rejects, so the
 * caller (trainer-loop) knows the update was interrupted and reruns it on the same groups.
 */
import type { Worker } from 'node:worker_threads';
import { type DeadlineError, withDeadline } from '../shared/deadline.js';
import type { Logger } from '../shared/logger.js';
import type { AdamWOptions, AdamWState } from '../shared/model/adamw.js';
import type { ModelConfig } from '../shared/model/config.js';
import type { PolicyTrainerOptions, PpoMinibatch, PpoStepSummary } from '../shared/model/trainer.js';
import { RpcClient, spawnTsWorker } from '../shared/worker-rpc.js';
import type { BcMinibatch, TrainerWorkerApi } from './trainer-api.js';
import type { TrainerApi } from './update.js';

export interface TrainerClientOptions {
  config: ModelConfig;
  params: Float32Array;
  optimizer: AdamWOptions;
  optimizerState?: AdamWState;
  batchSize: number;
  seqLen: number;
  padId: number;
  threads?: number;
  /** ORT memory settings of the worker's sessions (default: the trainer's). */
  memory?: PolicyTrainerOptions['memory'];
  /**
   * Run every bucket shape in the background after start (and after a watchdog restart), so the worker's memory
   * reaches its ceiling in the first minute instead of stepping up when a rare shape first arrives hours later
   * (trainer.worker.ts `prewarm`).
   */
  prewarm?: boolean;
  /** Deadline of every worker call in ms (0 = none). */
  callTimeoutMs?: number;
  logger?: Logger;
  /** Starts the worker (tests inject a fake); default: trainer.worker.ts. */
  spawn?: () => Worker;
}

type InitArgs = Parameters<TrainerWorkerApi['init']>[0];
const INIT_TIMEOUT_MS = 120_000;

export class TrainerClient implements TrainerApi {
  private lastParams: Float32Array;
  private lastOptimizer: AdamWState | undefined;
  private restarting: Promise<void> | null = null;
  /** Settles when the current worker's background prewarm has finished or failed (at once without `prewarm`). */
  warmed: Promise<void> = Promise.resolve();
  /** Workers started after the first one (watchdog restarts). */
  restarts = 0;

  private constructor(
    private rpc: RpcClient<TrainerWorkerApi>,
    readonly batchSize: number,
    readonly seqLen: number,
    private readonly o: TrainerClientOptions,
  ) {
    this.lastParams = o.params;
    this.lastOptimizer = o.optimizerState;
  }

  private static async boot(o: TrainerClientOptions, params: Float32Array, optimizerState: AdamWState | undefined) {
    const timeoutMs = o.callTimeoutMs ?? 0;
    const rpc = new RpcClient<TrainerWorkerApi>(
      o.spawn ? o.spawn() : spawnTsWorker(new URL('./trainer.worker.ts', import.meta.url)),
      {
        // Starting a worker (loader, module graph, session) may take far longer than a call on a busy machine.
        timeoutMs: (m) =>
          (m === 'init' || m === 'prewarm') && timeoutMs > 0 ? Math.max(timeoutMs, INIT_TIMEOUT_MS) : timeoutMs,
        onTimeout: (e: DeadlineError) =>
          o.logger?.error({ what: e.what, ms: e.ms }, 'trainer worker missed a deadline; replacing it'),
      },
    );
    const { spawn: _s, logger: _l, callTimeoutMs: _c, prewarm, ...init } = o;
    try {
      const shape = await rpc.call('init', { ...init, params, optimizerState } satisfies InitArgs);
      // In the background: it takes seconds to tens of seconds, and the learner can ingest meanwhile (the first
      // update simply runs after it in the worker).
      const warmed = prewarm
        ? rpc.call('prewarm').then(
            (w) => void o.logger?.info(w, 'trainer worker prewarmed every bucket shape'),
            (e: Error) => void o.logger?.warn({ err: e.message }, 'trainer worker prewarm did not finish'),
          )
        : Promise.resolve();
      return { rpc, shape, warmed };
    } catch (e) {
      await rpc.close();
      throw e;
    }
  }

  static async start(o: TrainerClientOptions): Promise<TrainerClient> {
    const { rpc, shape, warmed } = await TrainerClient.boot(o, o.params, o.optimizerState);
    const t = new TrainerClient(rpc, shape.batchSize, shape.seqLen, o);
    t.warmed = warmed;
    return t;
  }

  /** Runs a call; if the worker failed (deadline, crash), starts a replacement before rethrowing. */
  private async call<T>(f: (rpc: RpcClient<TrainerWorkerApi>) => Promise<T>): Promise<T> {
    if (this.restarting) await this.restarting;
    const rpc = this.rpc;
    try {
      return await f(rpc);
    } catch (e) {
      if (rpc.failed) await this.replace(rpc, e as Error);
      throw e;
    }
  }

  private replace(failed: RpcClient<TrainerWorkerApi>, cause: Error): Promise<void> {
    if (this.rpc !== failed) return this.restarting ?? Promise.resolve();
    this.restarting ??= (async () => {
      // Not awaited: a worker stuck inside onnxruntime ends only when that call returns (see RpcClient.retire).
      void failed.close().catch(() => undefined);
      const { rpc, warmed } = await TrainerClient.boot(this.o, this.lastParams, this.lastOptimizer);
      this.rpc = rpc;
      this.warmed = warmed;
      this.restarts++;
      this.o.logger?.warn(
        { cause: cause.message, restarts: this.restarts },
        'trainer worker restarted from the last published weights and the last checkpointed optimizer state',
      );
    })().finally(() => {
      this.restarting = null;
    });
    return this.restarting;
  }

  score(tokens: Int32Array, B: number, T: number): Promise<Float32Array> {
    return this.call((r) => r.call('score', { tokens, B, T }));
  }

  scoreWithValues(tokens: Int32Array, B: number, T: number): Promise<{ logp: Float32Array; values: Float32Array }> {
    return this.call((r) => r.call('scoreWithValues', { tokens, B, T }));
  }

  ppoStep(b: PpoMinibatch): Promise<PpoStepSummary> {
    return this.call((r) => r.call('ppoStep', b));
  }

  bcStep(b: BcMinibatch) {
    return this.call((r) => r.call('bcStep', b));
  }

  async params(): Promise<Float32Array> {
    const p = await this.call((r) => r.call('params'));
    this.lastParams = p.slice();
    return p;
  }

  async optimizerState(): Promise<AdamWState> {
    const s = await this.call((r) => r.call('optimizerState'));
    this.lastOptimizer = { step: s.step, m: s.m.slice(), v: s.v.slice() };
    return s;
  }

  async close(): Promise<void> {
    if (this.restarting) await this.restarting.catch(() => undefined);
    try {
      if (!this.rpc.failed)
        await withDeadline(this.rpc.call('close'), this.o.callTimeoutMs ?? 0, 'trainer worker close');
    } finally {
      await this.rpc.close();
    }
  }
}
