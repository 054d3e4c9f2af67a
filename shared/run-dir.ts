/**
 * The run directory: config.json, meta.json, metrics.csv (long format: one metric value per line, so new
 * metrics never break the header), logs/, checkpoints/ and plots.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RotatingAppender, rotatedPieces, type RotationOptions } from './rotating-file.js';

/** How one invocation of a run directory ended. `died`: it never recorded an end (killed, power loss). */
export type InvocationStatus = 'running' | 'finished' | 'interrupted' | 'failed' | 'died';

/** One `lamer train` / `lamer learner` process that used the run directory. */
export interface Invocation {
  argv: string[];
  gitSha: string | null;
  gitDirty: boolean | null;
  node: string;
  startedAt: string;
  endedAt: string | null;
  status: InvocationStatus;
  /** What ended it: the iterations or minutes budget, a signal (Ctrl-C, SIGTERM), or an error. */
  stoppedBy?: 'iterations' | 'minutes' | 'signal' | 'budget-spent' | 'error';
  fromVersion?: number;
  toVersion?: number;
  error?: string;
}

/**
 * meta.json: the latest invocation's fields at the top (as before) plus `invocations`, the history of every process
 * that used the directory; a resume appends to it instead of overwriting it.
 */
export interface RunMeta {
  gitSha: string | null;
  gitDirty: boolean | null;
  argv: string[];
  node: string;
  /** When the run directory was first used. */
  startedAt: string;
  endedAt: string | null;
  /** True only when the latest invocation reached its budget; false after a signal or an error. */
  successful: boolean | null;
  status: InvocationStatus;
  invocations: Invocation[];
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** `runs/<UTC timestamp>` relative to the working directory. */
export function defaultRunDir(now = new Date()): string {
  return join('runs', now.toISOString().replace(/[:]/g, '-').replace(/\..+$/, ''));
}

/** Earlier invocations from an existing meta.json (older files without a history count as one invocation). */
function earlierInvocations(path: string): { startedAt: string | null; invocations: Invocation[] } {
  if (!existsSync(path)) return { startedAt: null, invocations: [] };
  let m: Partial<RunMeta>;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Partial<RunMeta>;
  } catch {
    return { startedAt: null, invocations: [] }; // unreadable: start a new history rather than refuse to train
  }
  const list: Invocation[] = Array.isArray(m.invocations)
    ? m.invocations
    : m.startedAt
      ? [
          {
            argv: m.argv ?? [],
            gitSha: m.gitSha ?? null,
            gitDirty: m.gitDirty ?? null,
            node: m.node ?? '',
            startedAt: m.startedAt,
            endedAt: m.endedAt ?? null,
            status: m.successful === true ? 'finished' : m.successful === false ? 'failed' : 'died',
          },
        ]
      : [];
  for (const inv of list) if (inv.status === 'running') inv.status = 'died';
  return { startedAt: list[0]?.startedAt ?? m.startedAt ?? null, invocations: list };
}

export class RunDir {
  readonly path: string;
  private readonly metaPath: string;
  private meta: RunMeta;

  constructor(path: string) {
    this.path = path;
    mkdirSync(join(path, 'logs'), { recursive: true });
    mkdirSync(join(path, 'checkpoints'), { recursive: true });
    this.metaPath = join(path, 'meta.json');
    const sha = git(['rev-parse', 'HEAD']);
    const status = git(['status', '--porcelain', '--untracked-files=no']);
    const now = new Date().toISOString();
    const current: Invocation = {
      argv: process.argv.slice(1),
      gitSha: sha,
      gitDirty: status === null ? null : status.length > 0,
      node: process.version,
      startedAt: now,
      endedAt: null,
      status: 'running',
    };
    const earlier = earlierInvocations(this.metaPath);
    this.meta = {
      gitSha: current.gitSha,
      gitDirty: current.gitDirty,
      argv: current.argv,
      node: current.node,
      startedAt: earlier.startedAt ?? now,
      endedAt: null,
      successful: null,
      status: 'running',
      invocations: [...earlier.invocations, current],
    };
    this.writeMeta();
  }

  /** Invocations before this one (read from meta.json when the directory was opened). */
  get history(): readonly Invocation[] {
    return this.meta.invocations.slice(0, -1);
  }

  file(...parts: string[]): string {
    return join(this.path, ...parts);
  }

  writeJson(name: string, value: unknown): void {
    writeFileSync(this.file(name), JSON.stringify(value, null, 2) + '\n');
  }

  /** Records how this invocation ended: `true` = reached its budget; or the details (a signal is `interrupted`). */
  finish(
    outcome:
      | boolean
      | { stoppedBy: NonNullable<Invocation['stoppedBy']>; fromVersion?: number; toVersion?: number; error?: string },
  ): void {
    const o = typeof outcome === 'boolean' ? { stoppedBy: outcome ? undefined : ('error' as const) } : outcome;
    const inv = this.meta.invocations[this.meta.invocations.length - 1];
    const status: InvocationStatus =
      o.stoppedBy === 'signal' ? 'interrupted' : o.stoppedBy === 'error' ? 'failed' : 'finished';
    Object.assign(inv, { ...o, endedAt: new Date().toISOString(), status });
    this.meta.endedAt = inv.endedAt;
    this.meta.status = status;
    this.meta.successful = status === 'finished';
    this.writeMeta();
  }

  private writeMeta(): void {
    writeFileSync(this.metaPath, JSON.stringify(this.meta, null, 2) + '\n');
  }
}

/** Appends metric values as `wall_s,version,name,value` lines. */
const METRICS_HEADER = 'wall_s,version,name,value\n';

export class MetricsCsv {
  readonly path: string;
  private readonly t0: number;
  private readonly file: RotatingAppender;

  /** `rotate`: split into `<path>.1` … pieces, each with the header (readMetricsCsv reads them all). */
  constructor(path: string, t0 = Date.now(), rotate: RotationOptions = { maxBytes: 0, keep: 0 }) {
    this.path = path;
    this.t0 = t0;
    this.file = new RotatingAppender(path, rotate, METRICS_HEADER);
  }

  /** `wallSeconds`: the caller's clock (a metrics fan-out shares one across its sinks); default: this file's own. */
  log(version: number, values: Record<string, number | null | undefined>, wallSeconds?: number): void {
    const wall = (wallSeconds ?? (Date.now() - this.t0) / 1000).toFixed(3);
    let out = '';
    for (const [name, v] of Object.entries(values)) {
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      out += `${wall},${version},${name},${v}\n`;
    }
    this.file.append(out);
  }
}

/**
 * Reads a metrics.csv back (with its rotated pieces, oldest first) as name → [{wall, version, value}].
 * `tailBytes`: read only about the newest this many bytes (a dashboard's seed: its cost must not grow with the run).
 */
export function readMetricsCsv(
  path: string,
  o: { tailBytes?: number } = {},
): Map<string, Array<{ wall: number; version: number; value: number }>> {
  const out = new Map<string, Array<{ wall: number; version: number; value: number }>>();
  const pieces = rotatedPieces(path);
  // The last element of the newest piece is '' after a complete file, or a line still being written (a running
  // run): never read it.
  const lines = (pieces.length ? tailPieces(pieces, o.tailBytes ?? Infinity) : [readFileSync(path, 'utf8')]).flatMap(
    (text) => text.split('\n').slice(1, -1),
  );
  for (const line of lines) {
    if (!line) continue;
    const [wall, version, name, value] = line.split(',');
    if (!out.has(name)) out.set(name, []);
    out.get(name)!.push({ wall: Number(wall), version: Number(version), value: Number(value) });
  }
  return out;
}

/**
 * The text of the newest pieces, oldest first, up to about `budget` bytes. A piece read only in part starts at
 * its cut, which stands in for the header line every caller drops.
 */
function tailPieces(pieces: string[], budget: number): string[] {
  const texts: string[] = [];
  for (let i = pieces.length - 1; i >= 0 && budget > 0; i--) {
    const size = statSync(pieces[i]).size;
    if (size <= budget) {
      texts.unshift(readFileSync(pieces[i], 'utf8'));
    } else {
      const fd = openSync(pieces[i], 'r');
      try {
        const buf = Buffer.alloc(Math.floor(budget));
        const n = readSync(fd, buf, 0, buf.length, size - buf.length);
        texts.unshift(buf.subarray(0, n).toString('utf8'));
      } finally {
        closeSync(fd);
      }
    }
    budget -= size;
  }
  return texts;
}
