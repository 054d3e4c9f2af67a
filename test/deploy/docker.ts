/** The Docker CLI for the container test: build the image, run containers on the host network, measure them. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readMem } from '../../scripts/chaos/procs.js';

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

export function docker(args: string[], timeoutMs = 120_000): Promise<Exec> {
  return new Promise((resolve) => {
    execFile('docker', args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code !== 0 ? String(err.message) : '') });
    });
  });
}

/** docker with a zero exit, or an error carrying its output. */
export async function dockerOk(args: string[], timeoutMs?: number): Promise<string> {
  const r = await docker(args, timeoutMs);
  if (r.code !== 0)
    throw new Error(
      `docker ${args.slice(0, 3).join(' ')} ... failed (${r.code}): ${(r.stdout + r.stderr).trim().slice(-1500)}`,
    );
  return r.stdout.trim();
}

export interface RunSpec {
  name: string;
  image: string;
  args: string[];
  /** host path -> container path (`:ro` appended for read-only). */
  mounts: Array<[host: string, container: string, readOnly?: boolean]>;
  env?: Record<string, string>;
  /** `--user uid:gid` (non-root test runs); default: the image's user. */
  user?: string;
}

/**
 * Starts a detached container on the host network (loopback only: no bridge traffic), with a read-only root
 * file system and a tmpfs /tmp, as the Kubernetes manifests run it.
 */
export async function runDetached(s: RunSpec): Promise<string> {
  const args = ['run', '-d', '--name', s.name, '--network', 'host', '--read-only', '--tmpfs', '/tmp'];
  if (s.user) args.push('--user', s.user);
  for (const [h, c, ro] of s.mounts) args.push('-v', `${h}:${c}${ro ? ':ro' : ''}`);
  for (const [k, v] of Object.entries(s.env ?? {})) args.push('-e', `${k}=${v}`);
  return dockerOk([...args, s.image, ...s.args]);
}

/** `docker wait` with a deadline: the exit code, or null when it was still running. */
export async function waitExit(name: string, ms: number): Promise<number | null> {
  const r = await docker(['wait', name], ms);
  return r.code === 0 ? Number(r.stdout.trim()) : null;
}

export async function isRunning(name: string): Promise<boolean> {
  const r = await docker(['inspect', '-f', '{{.State.Running}}', name]);
  return r.code === 0 && r.stdout.trim() === 'true';
}

/**
 * Peak resident memory (VmHWM, bytes) and CPU time (user + system, s) of a running container's main process, read
 * from /proc on the host (the container shares the host's kernel); null when it is gone.
 */
export async function usage(name: string): Promise<{ peakRss: number; cpuSeconds: number } | null> {
  const pid = Number((await docker(['inspect', '-f', '{{.State.Pid}}', name])).stdout.trim());
  if (!pid) return null;
  const mem = readMem(pid);
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command name: utime and stime are the 12th and 13th (clock ticks, 100 per second on Linux).
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  return mem ? { peakRss: mem.hwm, cpuSeconds: ticks / 100 } : null;
}
