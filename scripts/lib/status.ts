/**
 * `lamer status`: asks a running learner's HTTP side for its status snapshot (found through the run directory's
 * endpoints.json, or a URL) and prints it for a terminal: phase, progress, throughput, the stall message if any,
 * the actor table and recent warnings. When the learner is not running it says so and shows the run's summary.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { authorizationHeader, deriveActorToken } from '../../learner/auth.js';
import { readEndpoints } from '../../learner/endpoints.js';
import type { StatusSnapshot } from '../../learner/observatory.js';
import { LamerError } from '../../shared/errors.js';

export interface StatusTarget {
  runDir?: string;
  url?: string;
  /** Authorization header for a non-loopback learner. */
  authorization?: string;
}

export type StatusResult =
  | { running: true; url: string; status: StatusSnapshot }
  | { running: false; reason: string; summary: unknown };

/** The header `lamer status` sends: a token derived from the run's master key (actor id `status`) when it is local. */
export function localAuthorization(runDir: string): string | undefined {
  const key = join(runDir, 'secrets', 'master.key');
  if (!existsSync(key)) return undefined;
  return authorizationHeader('status', deriveActorToken(readFileSync(key, 'utf8').trim(), 'status'));
}

export async function fetchStatus(t: StatusTarget, timeoutMs = 5000): Promise<StatusResult> {
  let url = t.url?.replace(/\/+$/, '');
  let why = '';
  if (!url) {
    if (!t.runDir) throw new LamerError('RL_ERR_BAD_INPUT', 'give --run-dir DIR or --url URL');
    const ep = readEndpoints(t.runDir);
    if (ep.stoppedAt) why = `the learner (pid ${ep.pid}) stopped at ${ep.stoppedAt}`;
    else if (!ep.http) why = `the learner (pid ${ep.pid}) has no HTTP side (observe.listen is 'off')`;
    url = ep.http ?? undefined;
  }
  const summaryFile = t.runDir ? join(t.runDir, 'summary.json') : null;
  const summary = summaryFile && existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, 'utf8')) : null;
  if (why || !url) return { running: false, reason: why, summary };
  try {
    const res = await fetch(`${url}/status`, {
      headers: t.authorization ? { authorization: t.authorization } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status === 401)
      throw new LamerError(
        'RL_ERR_BAD_INPUT',
        `${url} wants a bearer token: set LAMER_TOKEN (and --actor-id) or run on the learner's machine`,
      );
    if (!res.ok) throw new LamerError('RL_ERR_BAD_INPUT', `${url}/status answered ${res.status}`);
    return { running: true, url, status: (await res.json()) as StatusSnapshot };
  } catch (e) {
    if (e instanceof LamerError) throw e;
    const err = e as Error & { cause?: { code?: string } };
    const why = err.cause ? String(err.cause.code ?? err.message) : err.message;
    return { running: false, reason: `no answer from ${url} (${why}): the learner is not running`, summary };
  }
}

const num = (v: number | undefined, d: number) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));
const ago = (s: number) =>
  s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;

export function formatStatus(r: StatusResult): string {
  if (!r.running) {
    const s = r.summary as { policyVersion?: number; trialsTrained?: number; stoppedBy?: string } | null;
    return [
      `not running: ${r.reason}`,
      ...(s
        ? [`last summary: policy v${s.policyVersion}, ${s.trialsTrained} trials trained, stopped by ${s.stoppedBy}`]
        : []),
    ].join('\n');
  }
  const st = r.status;
  const L = st.latest;
  const idle = L['perf/actor_idle_frac'];
  const lastEval = st.lastEval
    ? `v${st.lastEval.version} ${st.lastEval.pass.map((p, k) => `p@${k + 1} ${(100 * p).toFixed(1)}%`).join(' ')}`
    : '-';
  const lines = [
    `run ${st.runId} (pid ${st.pid}) ${st.phase} at ${r.url}: ` +
      `policy v${st.policyVersion}${st.iterations ? `/${st.iterations}` : ''}, ` +
      `${st.trialsTrained} trials trained, ${st.trialsCommitted} committed, ${st.connections} ` +
      `actor${st.connections === 1 ? '' : 's'} connected, up ${ago(st.uptimeSec)}`,
    `  ${num(L['rollout/trials_per_s'], 2)} trials/s, ${num(L['rollout/tokens_per_s'], 0)} ` +
      `tok/s | lag ${num(L['perf/policy_lag_mean'], 2)}/${num(L['perf/policy_lag_max'], 0)} | ` +
      `actor idle ${idle === undefined ? '-' : `${Math.round(100 * idle)}%`} | eval ${lastEval}`,
  ];
  if (st.stall) lines.push(`  STALLED: ${st.stall.message}`);
  if (!st.ready.resumed || !st.ready.trainer || !st.ready.accepting) {
    lines.push(
      `  not ready: ${Object.entries(st.ready)
        .filter(([, v]) => !v)
        .map(([k]) => k)
        .join(', ')} pending`,
    );
  }
  if (st.actors.length) {
    lines.push('  actor        state       policy  trials/s  last seen  leased  outbox  idle');
    for (const a of st.actors) {
      lines.push(
        `  ${a.actorId.padEnd(12)} ${(a.connected ? 'connected' : `gone ${ago(a.goneSec ?? 0)}`).padEnd(11)}` +
          ` ${(a.version < 0 ? '-' : `v${a.version}`).padStart(6)}  ` +
          `${num(a.trialsPerSec, 2).padStart(8)}  ${`${ago(a.lastSeenSec)} ago`.padStart(9)}  ` +
          `${String(a.leased).padStart(6)}  ${(a.outbox === undefined ? '-' : String(a.outbox)).padStart(6)}  ` +
          `${a.idleFrac === undefined ? '-' : `${Math.round(100 * a.idleFrac)}%`}`,
      );
    }
  }
  for (const f of st.sinkFailures) lines.push(`  metric sink ${f.sink} failed ${f.failures}x: ${f.lastError}`);
  for (const w of st.warnings.slice(-5)) lines.push(`  warning ${w.at.slice(11, 19)} ${w.message}`);
  return lines.join('\n');
}
