/**
 * Piscina worker body of PolicyPool: one DecodeEngine (one ORT session, 1 intra-op thread) per worker thread.
 * New weights arrive on a BroadcastChannel (eager swap, acknowledged to the pool) and with every task (so a
 * respawned worker can never generate with stale weights).
 */
import { BroadcastChannel, threadId, workerData } from 'node:worker_threads';
import { isLamerError } from '../errors.js';
import { installNativeGuard } from '../native-guard.js';
import type { ModelConfig } from './config.js';
import { DecodeEngine, type GenRequest, type GenResult } from './generate.js';

/** Weights as published by the pool: `seq` orders updates, `version` is the policy version reported. */
export interface PublishedWeights {
  seq: number;
  version: number;
  buffer: SharedArrayBuffer;
}

export interface PolicyWorkerData {
  config: ModelConfig;
  weights: PublishedWeights;
  channel: string;
  intraOpThreads: number;
}

export type PoolMessage =
  | { type: 'weights'; weights: PublishedWeights }
  /** `guard`: this worker's native-section counter (shared/native-guard.ts), so the pool never kills it mid-call. */
  | { type: 'ack'; threadId: number; seq: number; error?: string; guard: SharedArrayBuffer };

export interface GenerateTask {
  reqs: GenRequest[];
  weights: PublishedWeights;
  /** Int32Array(2) over shared memory: [0] the worker writes its threadId, [1] the pool sets 1 to cancel. */
  ticket: SharedArrayBuffer;
}

const wd = workerData as PolicyWorkerData;
const guard = new SharedArrayBuffer(8);
installNativeGuard(guard, 'throw');
let seq = wd.weights.seq;
const engine = DecodeEngine.create(
  wd.config,
  new Float32Array(wd.weights.buffer),
  wd.weights.version,
  wd.intraOpThreads,
);
const bc = new BroadcastChannel(wd.channel);
let chain: Promise<unknown> = engine;

/** Swaps to `w` unless this worker already has it or something newer; updates are applied in order. */
function ensure(w: PublishedWeights): Promise<unknown> {
  const next = chain.then(async () => {
    if (w.seq <= seq) return;
    await (await engine).setWeights(new Float32Array(w.buffer), w.version);
    seq = w.seq;
  });
  // One failed swap must not poison every later one.
  chain = next.catch(() => undefined);
  return next;
}

function ack(error?: string): void {
  bc.postMessage({ type: 'ack', threadId, seq, error, guard } satisfies PoolMessage);
}

bc.onmessage = (ev: unknown) => {
  const m = (ev as { data: PoolMessage }).data;
  if (m?.type === 'weights')
    ensure(m.weights).then(
      () => ack(),
      (e: unknown) => ack(String((e as Error)?.message ?? e)),
    );
};
engine.then(
  () => ack(),
  (e: unknown) => ack(String((e as Error)?.message ?? e)),
);

/** The task: one batched decode run. Errors cross the thread boundary as plain `{ code, message }`. */
export default async function generateTask(t: GenerateTask): Promise<GenResult[]> {
  const ticket = new Int32Array(t.ticket);
  Atomics.store(ticket, 0, threadId);
  try {
    await ensure(t.weights);
    return await (await engine).generate(t.reqs, { cancel: ticket.subarray(1, 2) });
  } catch (e) {
    throw isLamerError(e)
      ? { code: e.code, message: e.message }
      : { code: 'RL_ERR_INTERNAL', message: (e as Error)?.message ?? String(e) };
  }
}
