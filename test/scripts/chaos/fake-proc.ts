/** A stand-in for a spawned `lamer` process: signals are recorded; SIGKILL/SIGTERM make it exit. */
import type { ChildProcess } from 'node:child_process';
import type { SpawnCliOptions } from '../../../scripts/chaos/procs.js';
import type { Proc } from '../../../scripts/chaos/procs.js';

export interface FakeProc extends Proc {
  signals: string[];
  spawnedWith: SpawnCliOptions;
  /** Exits as if it crashed (`code`) without being signalled. */
  crash(code: number): void;
}

let nextPid = 1000;

export function fakeProc(o: SpawnCliOptions, pid = nextPid++): FakeProc {
  let resolveExit!: (r: { code: number | null; signal: NodeJS.Signals | null }) => void;
  const child = { exitCode: null as number | null, signalCode: null as NodeJS.Signals | null };
  const signals: string[] = [];
  const exitWith = (code: number | null, sig: NodeJS.Signals | null) => {
    if (p.exited) return;
    child.exitCode = code;
    child.signalCode = sig;
    p.exited = true;
    resolveExit({ code, signal: sig });
  };
  const p: FakeProc = {
    role: o.role,
    pid,
    startedAt: Date.now(),
    exited: false,
    signals,
    spawnedWith: o,
    stdout: () => '',
    exit: new Promise((r) => {
      resolveExit = r;
    }),
    child: {
      ...child,
      get exitCode() {
        return child.exitCode;
      },
      get signalCode() {
        return child.signalCode;
      },
      kill(sig: NodeJS.Signals) {
        signals.push(sig);
        if (sig === 'SIGKILL' || sig === 'SIGTERM') exitWith(null, sig);
        return true;
      },
    } as unknown as ChildProcess,
    crash: (code) => exitWith(code, null),
  };
  return p;
}

/** A spawn function for the fleet that records every process it "starts". */
export function fakeSpawner(): { spawn: (o: SpawnCliOptions) => FakeProc; started: FakeProc[] } {
  const started: FakeProc[] = [];
  return {
    started,
    spawn: (o) => {
      const p = fakeProc(o);
      started.push(p);
      return p;
    },
  };
}
