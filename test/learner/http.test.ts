/**
 * The learner's HTTP side against an observatory fed like a running learner: /metrics parsed by a Prometheus text
 * parser, /healthz, /readyz through the resume transitions, the auth rule, the event stream and static assets.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheus from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { authorizationHeader, createAuthenticator, deriveActorToken } from '../../learner/auth.js';
import { dashboardBusySeconds } from '../../learner/dashboard-cost.js';
import { allowed, type HttpSide, startHttpSide } from '../../learner/http.js';
import { isLoopback } from '../../shared/net.js';
import { Observatory } from '../../learner/observatory.js';
import { resolveConfig } from '../../shared/config.js';
import { RunDir } from '../../shared/run-dir.js';
import { silent } from './components.js';

const MASTER = 'http-test-master-key-0123456789';
const auth = createAuthenticator(MASTER);
let http: HttpSide | null = null;
let obs: Observatory | null = null;

afterEach(async () => {
  await http?.close();
  obs?.close();
  http = null;
  obs = null;
});

async function start(over: string[] = [], maxStreams?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'lamer-http-'));
  const config = resolveConfig({ observe: { stallSec: 1 } }, ...over.map((o) => JSON.parse(o)));
  obs = new Observatory({ config, runDir: new RunDir(join(dir, 'run')), logger: silent, t0: Date.now() });
  const counters = { committed: 0, trained: 0 };
  obs.attach({
    runId: () => 'run-x',
    policyVersion: () => 7,
    groups: () => [],
    trialsCommitted: () => counters.committed,
    trialsTrained: () => counters.trained,
    trialsRejected: () => 2,
    ledgerBytes: () => 4096,
    connections: () => 3,
    lastEval: () => ({ version: 6, pass: [0.25, 0.5] }),
  });
  http = await startHttpSide({
    host: '127.0.0.1',
    port: 0,
    auth,
    observatory: obs,
    logger: silent,
    statusEveryMs: 100,
    maxStreams,
  });
  return { obs, http, counters, dir };
}

const get = (path: string) => fetch(http!.url + path);

describe('learner HTTP side', () => {
  it('serves /metrics in Prometheus text format with the learner series and their values', async () => {
    const { obs, counters } = await start();
    counters.committed = 40;
    counters.trained = 32;
    obs.fanout.log(7, {
      'perf/learner_wait_ms': 1500,
      'perf/update_ms': 250,
      'perf/weight_switch_ms': 40,
      'perf/actor_idle_frac': 0.3,
      'train/clip_frac': 0.05,
      'train/ess': 0.9,
      'train/kl_behav': 0.01,
      'rollout/invalid_frac': 0.1,
      'rollout/invalid_play_frac': 0.2,
      'eval/pass@1': 0.25,
      'eval/pass@3': 0.5,
      'train/loss': 1.25,
    });
    obs.prometheus.observeLags([0, 0, 1, 2]);
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = new Map(parsePrometheus(await res.text()).map((f) => [f.name, f]));
    const value = (name: string, labels: Record<string, string> = {}) =>
      Number(
        families.get(name)!.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))!.value,
      );
    expect(value('lamer_policy_version')).toBe(7);
    expect(families.get('lamer_trials_committed_total')!.type).toBe('COUNTER');
    expect(value('lamer_trials_committed_total')).toBe(40);
    expect(value('lamer_trials_trained_total')).toBe(32);
    expect(value('lamer_trials_rejected_total')).toBe(2);
    expect(value('lamer_ledger_bytes')).toBe(4096);
    expect(value('lamer_connections')).toBe(3);
    expect(value('lamer_actor_idle_fraction')).toBe(0.3);
    expect(value('lamer_is_clip_fraction')).toBe(0.05);
    expect(value('lamer_effective_sample_size')).toBe(0.9);
    expect(value('lamer_kl_behaviour_policy')).toBe(0.01);
    expect(value('lamer_invalid_reply_fraction', { phase: 'all' })).toBe(0.1);
    expect(value('lamer_invalid_reply_fraction', { phase: 'play' })).toBe(0.2);
    expect(value('lamer_eval_pass_at_k', { k: '3' })).toBe(0.5);
    expect(value('lamer_metric', { name: 'train/loss' })).toBe(1.25);
    const lag = families.get('lamer_policy_lag')!;
    expect(lag.type).toBe('HISTOGRAM');
    expect(lag.metrics[0].count).toBe('4');
    expect(lag.metrics[0].buckets!['0']).toBe('2');
    const wait = families.get('lamer_learner_wait_seconds')!;
    expect(wait.type).toBe('HISTOGRAM');
    expect(Number(wait.metrics[0].sum)).toBeCloseTo(1.5);
    expect(Number(families.get('lamer_update_seconds')!.metrics[0].sum)).toBeCloseTo(0.25);
    expect(Number(families.get('lamer_publish_to_switch_seconds')!.metrics[0].sum)).toBeCloseTo(0.04);
    for (const n of [
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
      'lamer_stall_seconds',
    ]) {
      expect(families.has(n), n).toBe(true);
    }
  });

  it('answers /healthz, and /readyz only once resumed, trainer up and accepting; not while stopping', async () => {
    const { obs } = await start();
    expect((await get('/healthz')).status).toBe(200);
    const ready = async () => {
      const r = await get('/readyz');
      return { status: r.status, body: await r.json() };
    };
    expect(await ready()).toMatchObject({
      status: 503,
      body: { ready: false, resumed: false, trainer: false, accepting: false },
    });
    obs.ready.resumed = true;
    expect(await ready()).toMatchObject({ status: 503, body: { resumed: true, trainer: false } });
    obs.ready.trainer = true;
    expect((await ready()).status).toBe(503);
    obs.ready.accepting = true;
    expect(await ready()).toMatchObject({ status: 200, body: { ready: true, phase: 'ready' } });
    obs.markStopping();
    expect(await ready()).toMatchObject({ status: 503, body: { phase: 'stopping' } });
  });

  it('is open on loopback and needs a bearer token of this run from elsewhere', async () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('10.0.0.5')).toBe(false);
    expect(isLoopback('::ffff:10.0.0.5')).toBe(false);
    expect(allowed('10.0.0.5', undefined, auth)).toBe(false);
    expect(
      allowed('10.0.0.5', authorizationHeader('ops', deriveActorToken('another-master-key-0123456789', 'ops')), auth),
    ).toBe(false);
    expect(allowed('10.0.0.5', authorizationHeader('ops', deriveActorToken(MASTER, 'ops')), auth)).toBe(true);
    // observe.openPaths: probes and a token-less scrape reach the listed paths only.
    const openPaths = ['/healthz', '/readyz'];
    expect(allowed('10.0.0.5', undefined, auth, { path: '/readyz', openPaths })).toBe(true);
    expect(allowed('10.0.0.5', undefined, auth, { path: '/healthz', openPaths })).toBe(true);
    expect(allowed('10.0.0.5', undefined, auth, { path: '/metrics', openPaths })).toBe(false);
    expect(allowed('10.0.0.5', undefined, auth, { path: '/status', openPaths })).toBe(false);
    expect(allowed('10.0.0.5', undefined, auth, { path: '/readyz' })).toBe(false);
    await start();
    expect((await get('/status')).status).toBe(200);
    expect((await fetch(http!.url + '/metrics', { method: 'POST' })).status).toBe(405);
    expect((await get('/nope')).status).toBe(404);
  });

  it(
    'serves the dashboard page and uPlot from node_modules, ' + 'and streams metrics and status as server-sent events',
    async () => {
      const { obs } = await start();
      const page = await (await get('/')).text();
      expect(page).toContain('/assets/uPlot.iife.min.js');
      const lib = await get('/assets/uPlot.iife.min.js');
      expect(lib.status).toBe(200);
      expect((await lib.text()).length).toBeGreaterThan(10_000);
      expect((await get('/assets/dashboard.js')).status).toBe(200);

      const ctrl = new AbortController();
      const res = await fetch(http!.url + '/events', { signal: ctrl.signal });
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const reader = res.body!.getReader();
      let text = '';
      const until = async (re: RegExp) => {
        while (!re.test(text)) text += new TextDecoder().decode((await reader.read()).value);
      };
      await until(/event: status\ndata: .*"runId":"run-x"/);
      expect(http!.clients()).toBe(1);
      obs.fanout.log(8, { 'rollout/trials_per_s': 3.5 });
      await until(/event: metrics\ndata: .*"rollout\/trials_per_s":3.5/);
      ctrl.abort();
    },
  );
});

describe('dashboard cost', () => {
  it('times dashboard work (page, history, stream pushes) and not scrapes or probes; /metrics reports it', async () => {
    const { obs } = await start();
    const busy = async () => {
      const fams = parsePrometheus(await (await get('/metrics')).text());
      return Number(fams.find((f) => f.name === 'lamer_dashboard_busy_seconds_total')!.metrics[0].value);
    };
    const before = dashboardBusySeconds();
    await get('/healthz');
    await get('/readyz');
    await busy();
    expect(dashboardBusySeconds()).toBe(before);
    await (await get('/')).text();
    await (await get('/history')).text();
    const afterPage = dashboardBusySeconds();
    expect(afterPage).toBeGreaterThan(before);
    // With a stream open, every logged row is pushed and the push is timed.
    const ctrl = new AbortController();
    const res = await fetch(http!.url + '/events', { signal: ctrl.signal });
    const reader = res.body!.getReader();
    await reader.read();
    const beforePush = dashboardBusySeconds();
    for (let v = 0; v < 50; v++) obs.fanout.log(v, { 'rollout/trials_per_s': v });
    expect(dashboardBusySeconds()).toBeGreaterThan(beforePush);
    ctrl.abort();
    expect(await busy()).toBeCloseTo(dashboardBusySeconds(), 3);
  });
});

describe('event streams', () => {
  it('are bounded: beyond maxStreams a dashboard gets 503 until one closes', async () => {
    await start([], 2);
    const a = new AbortController();
    const b = new AbortController();
    expect((await fetch(http!.url + '/events', { signal: a.signal })).status).toBe(200);
    expect((await fetch(http!.url + '/events', { signal: b.signal })).status).toBe(200);
    const third = await fetch(http!.url + '/events');
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('10');
    a.abort();
    const deadline = Date.now() + 5000;
    while (http!.clients() > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const c = new AbortController();
    expect((await fetch(http!.url + '/events', { signal: c.signal })).status).toBe(200);
    b.abort();
    c.abort();
  });
});
