/**
 * onnxruntime-node session helpers: CPU execution provider only, explicit thread counts (pools use one
 * intra-op thread per worker), and typed feeds/fetches.
 */
import ort from 'onnxruntime-node';
import { LamerError } from '../errors.js';
import { inNative } from '../native-guard.js';

export type Session = ort.InferenceSession;
export const OrtTensor = ort.Tensor;
export type OrtTensor = ort.Tensor;

export interface SessionOptions {
  /** Intra-op threads (default 1: pools run one session per worker thread). */
  threads?: number;
  /** Keep ORT's CPU memory arena (faster repeated runs, more memory). Default true. */
  memArena?: boolean;
  /**
   * ORT's memory pattern: plan each run's buffers from an earlier run of the same input shapes (ORT keeps one plan
   * per shape combination it has seen). Default: onnxruntime's own default (on).
   */
  memPattern?: boolean;
  /** Graph optimisation level (default 'all'). Lower levels create sessions faster but run slower. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Let idle intra-op threads spin (default false). Spinning speeds up an idle machine a little but, on a
   * shared one (actors, learner and other work on few cores), spinning threads steal the cores the others need:
   * measured on 2 busy cores, a two-thread PPO train step took 1.3-2.7x longer with spinning (idle: ~10% faster).
   */
  spin?: boolean;
  /** onnxruntime graph transformers to skip by name (e.g. a fusion whose kernel is slower for a given graph). */
  disabledOptimizers?: readonly string[];
  /** Write onnxruntime's per-node profile (JSON) to files starting with this prefix; see `session.endProfiling`. */
  profilePrefix?: string;
}

/** Creates a session from ONNX bytes. Session creation and `run` block the calling thread. */
export async function createSession(bytes: Uint8Array, o: SessionOptions = {}): Promise<Session> {
  const threads = o.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`threads must be a positive integer, got ${threads}`);
  try {
    return await inNative(() =>
      ort.InferenceSession.create(bytes, {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: o.optimization ?? 'all',
        enableCpuMemArena: o.memArena ?? true,
        ...(o.memPattern !== undefined ? { enableMemPattern: o.memPattern } : {}),
        ...(o.profilePrefix ? { enableProfiling: true, profileFilePrefix: o.profilePrefix } : {}),
        logSeverityLevel: 3,
        extra: {
          session: { intra_op: { allow_spinning: o.spin ? '1' : '0' } },
          ...(o.disabledOptimizers?.length
            ? { optimization: { disable_specified_optimizers: o.disabledOptimizers.join(';') } }
            : {}),
        },
      }),
    );
  } catch (e) {
    throw new LamerError('RL_ERR_INTERNAL', `onnxruntime could not load the generated graph: ${(e as Error).message}`);
  }
}

/**
 * Runs a session; returns the named outputs. Every run is a native section of its thread (shared/native-guard.ts):
 * `cancel` (element 0 set by the owner) makes it throw RL_ERR_TIMEOUT at the boundary instead of going on.
 */
export async function runSession(
  s: Session,
  feeds: Record<string, OrtTensor>,
  cancel?: Int32Array,
): Promise<Record<string, OrtTensor>> {
  return (await inNative(() => s.run(feeds), cancel)) as Record<string, OrtTensor>;
}

/** Releases a session's native memory (a native section, like a run). */
export async function releaseSession(s: Session): Promise<void> {
  await inNative(() => s.release());
}
