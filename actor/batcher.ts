/**
 * Packs generation requests from every in-flight trial — whatever episode or phase each is in — into batched
 * decode calls (continuous batching at request granularity). Async mode dispatches whenever a decode worker is
 * free; lockstep mode (the synchronous baseline) waits until every live trial of the cohort is waiting.
 */
import type { GenRequest, GenResult } from '../shared/model/generate.js';

/** A generation request: the engine's own request type (prompt ids, stop ids, sampling settings, seed). */
export type BatchRequest = GenRequest;

/** What a trial needs back from the engine (its `rawLogprobs` are not used here). */
export type BatchResult = Pick<GenResult, 'tokens' | 'logprobs' | 'finish' | 'policyVersion'>;

export interface Generator {
  generate(reqs: BatchRequest[]): Promise<BatchResult[]>;
}

export interface BatcherStats {
  batches: number;
  requests: number;
  tokens: number;
  /** Sum over batches of batch size / maxBatch (mean fill = fillSum / batches). */
  fillSum: number;
  busyMs: number;
}

interface Pending {
  req: BatchRequest;
  resolve(r: BatchResult): void;
  reject(e: unknown): void;
}

export class Batcher {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private live = 0;
  private scheduled = false;
  /** Lockstep: trials parked at a phase barrier (they count as waiting, like queued requests). */
  private parked: Array<() => void> = [];
  private busySince = 0;
  readonly stats: BatcherStats = { batches: 0, requests: 0, tokens: 0, fillSum: 0, busyMs: 0 };

  constructor(
    private readonly generator: Generator,
    private readonly opts: { maxBatch: number; concurrency: number; lockstep: boolean },
  ) {}

  /** Lockstep mode needs to know how many trials are alive to decide when "everyone is waiting". */
  trialStarted(): void {
    this.live++;
  }

  trialFinished(): void {
    this.live--;
    this.schedule();
  }

  /**
   * Lockstep only: park until every live trial is parked, then release all together, so a trial whose episode
   * ended early idles until the slowest trial of the cohort finishes the phase (the reference's schedule).
   * In async mode it resolves at once.
   */
  phaseBarrier(): Promise<void> {
    if (!this.opts.lockstep) return Promise.resolve();
    return new Promise((resolve) => {
      this.parked.push(resolve);
      this.schedule();
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  generate(req: BatchRequest): Promise<BatchResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.schedule();
    });
  }

  /** Deferred so that every trial continuation released by the last batch has enqueued its next request. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (
      this.opts.lockstep &&
      this.parked.length > 0 &&
      this.parked.length >= this.live &&
      this.inFlight === 0 &&
      this.queue.length === 0
    ) {
      const release = this.parked;
      this.parked = [];
      for (const r of release) r();
      return;
    }
    while (this.queue.length > 0 && this.inFlight < this.opts.concurrency) {
      if (this.opts.lockstep && (this.inFlight > 0 || this.queue.length + this.parked.length < this.live)) return;
      const take = this.opts.lockstep ? this.queue.length : Math.min(this.queue.length, this.opts.maxBatch);
      this.dispatch(this.queue.splice(0, take));
    }
  }

  private dispatch(items: Pending[]): void {
    if (this.inFlight === 0) this.busySince = performance.now();
    this.inFlight++;
    // Lockstep may exceed maxBatch when the cohort is larger: split into chunks run one after another.
    const chunks: Pending[][] = [];
    for (let i = 0; i < items.length; i += this.opts.maxBatch) chunks.push(items.slice(i, i + this.opts.maxBatch));
    const run = async () => {
      for (const chunk of chunks) {
        const results = await this.generator.generate(chunk.map((p) => p.req));
        this.stats.batches++;
        this.stats.requests += chunk.length;
        this.stats.fillSum += chunk.length / this.opts.maxBatch;
        chunk.forEach((p, i) => {
          this.stats.tokens += results[i].tokens.length;
          p.resolve(results[i]);
        });
      }
    };
    run()
      .catch((e) => {
        for (const p of items) p.reject(e);
      })
      .finally(() => {
        this.inFlight--;
        if (this.inFlight === 0) this.stats.busyMs += performance.now() - this.busySince;
        this.schedule();
      });
  }
}
