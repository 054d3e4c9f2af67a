/**
 * Discovery: `<run>/endpoints.json` names where a running learner listens — `{"ws": ..., "http": ..., "pid": ...}` —
 * written as soon as each listener is up (the HTTP side first, so health and readiness can be watched during a
 * resume) and marked with `stoppedAt` when the learner closes. `lamer status`, tests and scrapers read it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { badInput } from '../shared/errors.js';
import { atomicWriteSync } from '../shared/fsutil.js';

export const ENDPOINTS_FILE = 'endpoints.json';

export const EndpointsSchema = z.strictObject({
  ws: z.string().nullable(),
  http: z.string().nullable(),
  pid: z.number().int(),
  runId: z.string().nullable(),
  startedAt: z.string(),
  stoppedAt: z.string().nullable(),
});
export type Endpoints = z.infer<typeof EndpointsSchema>;

export class EndpointsFile {
  private value: Endpoints;

  constructor(private readonly runDir: string) {
    this.value = {
      ws: null,
      http: null,
      pid: process.pid,
      runId: null,
      startedAt: new Date().toISOString(),
      stoppedAt: null,
    };
  }

  update(patch: Partial<Endpoints>): void {
    this.value = { ...this.value, ...patch };
    atomicWriteSync(join(this.runDir, ENDPOINTS_FILE), JSON.stringify(this.value, null, 2) + '\n');
  }
}

/** Reads `<runDir>/endpoints.json`, with a clear error when it is missing or malformed. */
export function readEndpoints(runDir: string): Endpoints {
  const file = join(runDir, ENDPOINTS_FILE);
  if (!existsSync(file))
    throw badInput(
      `${file} does not exist: no learner has listened in this run directory (is it the right --run-dir?)`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw badInput(`${file} is not JSON: ${(e as Error).message}`);
  }
  const r = EndpointsSchema.safeParse(raw);
  if (!r.success)
    throw badInput(`${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}
