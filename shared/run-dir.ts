/**
 * The run directory: config.json, meta.json, metrics.csv (long format: one metric value per line, so new
 * metrics never break the header), logs/, checkpoints/ and plots.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunMeta {
  gitSha: string | null;
  gitDirty: boolean | null;
  argv: string[];
  node: string;
  startedAt: string;
  endedAt: string | null;
  successful: boolean | null;
  resumedFrom?: string | null;
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
    this.meta = {
      gitSha: sha,
      gitDirty: status === null ? null : status.length > 0,
      argv: process.argv.slice(1),
      node: process.version,
      startedAt: new Date().toISOString(),
      endedAt: null,
      successful: null,
    };
    this.writeMeta();
  }

  file(...parts: string[]): string {
    return join(this.path, ...parts);
  }

  writeJson(name: string, value: unknown): void {
    writeFileSync(this.file(name), JSON.stringify(value, null, 2) + '\n');
  }

  finish(successful: boolean): void {
    this.meta.endedAt = new Date().toISOString();
    this.meta.successful = successful;
    this.writeMeta();
  }

  private writeMeta(): void {
    writeFileSync(this.metaPath, JSON.stringify(this.meta, null, 2) + '\n');
  }
}

/** Appends metric values as `wall_s,version,name,value` lines. */
export class MetricsCsv {
  readonly path: string;
  private readonly t0: number;

  constructor(path: string, t0 = Date.now()) {
    this.path = path;
    this.t0 = t0;
    if (!existsSync(path)) writeFileSync(path, 'wall_s,version,name,value\n');
  }

  log(version: number, values: Record<string, number | null | undefined>): void {
    const wall = ((Date.now() - this.t0) / 1000).toFixed(3);
    let out = '';
    for (const [name, v] of Object.entries(values)) {
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      out += `${wall},${version},${name},${v}\n`;
    }
    if (out) appendFileSync(this.path, out);
  }
}

/** Reads a metrics.csv back as name → [{wall, version, value}]. */
export function readMetricsCsv(path: string): Map<string, Array<{ wall: number; version: number; value: number }>> {
  const out = new Map<string, Array<{ wall: number; version: number; value: number }>>();
  // The last element is '' after a complete file, or a line still being written (a running run): never read it.
  const lines = readFileSync(path, 'utf8').split('\n').slice(1, -1);
  for (const line of lines) {
    if (!line) continue;
    const [wall, version, name, value] = line.split(',');
    if (!out.has(name)) out.set(name, []);
    out.get(name)!.push({ wall: Number(wall), version: Number(version), value: Number(value) });
  }
  return out;
}
