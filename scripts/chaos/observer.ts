/**
 * Observer hooks of a chaos run: the fleet and the fault injector report what happened through these, and the
 * tally, the memory sampler and the progress lines listen (scripts/chaos/driver.ts wires them).
 */
import type { Proc } from './procs.js';
import type { RestartRecord } from './schedule.js';

export interface ChaosObserver {
  /** A process was started (first start or restart). */
  spawned?(p: Proc): void;
  /** The driver is about to kill `p` (last chance to read its memory); its exit is not a crash. */
  killing?(p: Proc): void;
  /** An actor was SIGKILLed; `how` is the kill mode, with `-timeout` when its trigger never fired. */
  actorKilled?(actorId: string, how: string): void;
  /** The learner was killed and restarted; fields of `rec` filled later (resume, optimizer) land in the same object. */
  learnerKilled?(rec: RestartRecord): void;
  /** A process was paused with SIGSTOP and continued. */
  stopped?(p: Proc): void;
  /** Scheduled faults not injected: the target was already gone, or the fault window ran out. */
  skipped?(n: number, why: 'target gone' | 'out of time'): void;
  /** A process exited during the fault window without being killed by the driver. */
  crashed?(what: string): void;
}

type Hook = keyof ChaosObserver;

/** One observer that forwards every hook to each of `observers`, in order. */
export function fanOut(observers: readonly ChaosObserver[]): Required<ChaosObserver> {
  const each =
    <K extends Hook>(k: K) =>
    (...args: Parameters<Required<ChaosObserver>[K]>) => {
      for (const o of observers) (o[k] as ((...a: unknown[]) => void) | undefined)?.call(o, ...args);
    };
  return {
    spawned: each('spawned'),
    killing: each('killing'),
    actorKilled: each('actorKilled'),
    learnerKilled: each('learnerKilled'),
    stopped: each('stopped'),
    skipped: each('skipped'),
    crashed: each('crashed'),
  };
}
