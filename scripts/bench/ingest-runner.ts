/**
 * `lamer bench ingest`: runs scripts/bench/ingest.ts (learner in one process, actor connections in a child, so
 * the two sides do not share an event loop) and returns its JSON line.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface IngestBenchOptions {
  connections?: number;
  seconds?: number;
  size?: number;
  window?: number;
  client?: string;
}

export async function runIngestBench(o: IngestBenchOptions = {}): Promise<Record<string, unknown>> {
  const script = fileURLToPath(new URL('./ingest.ts', import.meta.url));
  const args = ['--import', 'tsx', script];
  for (const [k, v] of Object.entries(o)) if (v !== undefined) args.push(`--${k}`, String(v));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`ingest benchmark failed (exit ${code})`);
  return JSON.parse(line) as Record<string, unknown>;
}
