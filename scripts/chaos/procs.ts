/**
 * Real `lamer` processes for the chaos driver and the soak: spawn (optionally inside a network namespace), signal,
 * wait for exit, and read their memory from /proc (VmRSS now, VmHWM = peak RSS so far).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { tsxUrl } from '../../shared/tsx-url.js';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));

export interface Proc {
  /** Role name, e.g. `learner` or `a3`. */
  role: string;
  child: ChildProcess;
  pid: number;
  startedAt: number;
  /** Exit code or signal once exited. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: boolean;
  /** Collected stdout (progress lines; the learner's `--json` summary). */
  stdout(): string;
}

export interface SpawnCliOptions {
  role: string;
  args: string[];
  env?: Record<string, string>;
  /** stderr is appended to this file (across restarts). */
  stderrFile: string;
  /** Run inside this network namespace (`ip netns exec NS node ...`; exec keeps the pid). */
  netns?: string;
}

/** Starts `node --import tsx scripts/cli.ts ...args`. */
export function spawnCli(o: SpawnCliOptions): Proc {
  const node = [process.execPath, '--import', tsxUrl('tsx'), CLI, ...o.args];
  // Children inherit the driver's niceness (run it under `nice` on a shared machine).
  const argv = o.netns ? ['ip', 'netns', 'exec', o.netns, ...node] : node;
  const err = openSync(o.stderrFile, 'a');
  const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', err] });
  closeSync(err);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.length > 1 << 20) out = out.slice(-(1 << 19)); // keep the tail only: progress lines are unbounded
  });
  const p: Proc = {
    role: o.role,
    child,
    pid: child.pid ?? -1,
    startedAt: Date.now(),
    exited: false,
    stdout: () => out,
    exit: new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        p.exited = true;
        resolve({ code, signal });
      }),
    ),
  };
  // A spawn failure (missing `ip`) surfaces as an exit, not an unhandled error.
  child.once('error', () => undefined);
  return p;
}

export interface MemSample {
  /** Resident set now, bytes. */
  rss: number;
  /** Peak resident set of the process so far, bytes. */
  hwm: number;
}

/** VmRSS and VmHWM of a live process, or null if it is gone. */
export function readMem(pid: number): MemSample | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  // A zombie (exited, not yet reaped) reports no VmRSS: treat as gone.
  if (!/^VmRSS:/m.test(text)) return null;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Sends a signal if the process is still alive; returns whether it was sent. */
export function signal(p: Proc, sig: NodeJS.Signals): boolean {
  if (p.exited) return false;
  try {
    return p.child.kill(sig);
  } catch {
    return false;
  }
}

/** Waits for exit up to `ms`; SIGKILLs after that. */
export async function waitExit(
  p: Proc,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), ms);
  });
  const r = await Promise.race([p.exit, timeout]);
  clearTimeout(timer);
  if (r !== 'timeout') return { ...r, forced: false };
  signal(p, 'SIGCONT');
  signal(p, 'SIGKILL');
  return { ...(await p.exit), forced: true };
}

/** A TCP port that was free a moment ago on `host` (the learner keeps it across restarts). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
