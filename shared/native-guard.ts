/**
 * Terminating a worker thread while it is inside onnxruntime's native code aborts the whole process: when the
 * native call returns into a terminating thread, the binding throws a C++ `Napi::Error` that nothing can catch
 * ("terminate called after throwing an instance of 'Napi::Error'"). Measured: a decode deadline of a few ms,
 * which terminated the worker mid-decode, aborted the process within 150 calls.
 *
 * So a worker counts the native sections it is in (a shared Int32Array), and whoever wants to terminate it
 * first *claims* it: an atomic swap 0 → −1 succeeds only while no native section runs, and after it none can
 * start. A worker that cannot be claimed is asked to stop at its next native boundary instead (`cancel`), where
 * it throws (a decode task ends) or exits its thread (a trainer being replaced).
 */
import { isMainThread } from 'node:worker_threads';
import { LamerError } from './errors.js';

const ACTIVE = 0; // native sections in flight, or -1 once claimed for termination
const CANCEL = 1; // set: stop at the next native boundary

/** What a worker does at a native boundary once cancelled. */
export type CancelMode = 'throw' | 'exit';

/** The owner's side (main thread): one per worker thread, its buffer handed to the worker. */
export class NativeGuard {
  readonly buffer: SharedArrayBuffer;
  private readonly a: Int32Array;

  constructor(buffer = new SharedArrayBuffer(8)) {
    this.buffer = buffer;
    this.a = new Int32Array(buffer);
  }

  /** Asks the worker to stop at its next native boundary. */
  cancel(): void {
    Atomics.store(this.a, CANCEL, 1);
  }

  /** True if the worker is in no native section and can never enter one again: terminating it is now safe. */
  claim(): boolean {
    const v = Atomics.compareExchange(this.a, ACTIVE, 0, -1);
    return v === 0 || v === -1;
  }
}

let installed: { a: Int32Array; mode: CancelMode } | null = null;

/** Worker side: native sections of this thread are counted in `buffer` from now on. */
export function installNativeGuard(buffer: SharedArrayBuffer, mode: CancelMode): void {
  if (isMainThread) throw new Error('installNativeGuard belongs in a worker thread');
  installed = { a: new Int32Array(buffer), mode };
}

function stop(mode: CancelMode, when: string): never {
  if (mode === 'exit') process.exit(0); // in a worker: ends this thread only
  throw new LamerError('RL_ERR_TIMEOUT', `cancelled ${when} (its deadline passed)`);
}

/**
 * Runs `f` (one call into onnxruntime) as a native section of this thread. `cancel` (element 0 set to 1 by the
 * owner): this call's own flag, which makes it throw at the boundary; without it the guard's flag applies, with
 * the installed mode. Without an installed guard (the main thread, tests) only `cancel` is honoured.
 */
export async function inNative<T>(f: () => Promise<T>, cancel?: Int32Array): Promise<T> {
  const g = installed;
  const check = (when: string) => {
    if (cancel && Atomics.load(cancel, 0) === 1) stop('throw', when);
    if (!cancel && g && Atomics.load(g.a, CANCEL) === 1) stop(g.mode, when);
  };
  if (!g) {
    check('before a native call');
    const r = await f();
    check('after a native call');
    return r;
  }
  for (;;) {
    const v = Atomics.load(g.a, ACTIVE);
    if (v < 0) stop('exit', 'before a native call'); // claimed: termination is on its way
    if (Atomics.compareExchange(g.a, ACTIVE, v, v + 1) === v) break;
  }
  let r: T;
  try {
    check('before a native call');
    r = await f();
  } finally {
    Atomics.sub(g.a, ACTIVE, 1);
  }
  check('after a native call');
  return r;
}
