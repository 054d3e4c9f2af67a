/**
 * `lamer bench dashboard`: what watching a run costs. Short training legs with the dashboard closed (the HTTP side
 * listening, nobody connected) and open (a viewer connected for the whole leg), interleaved (round r closed then
 * open, round r+1 the other way round) so machine drift hits both. The viewer is either headless Chromium showing
 * the page (`browser`: the learner's streaming *and* the browser's rendering, on the same machine) or a bare
 * server-sent-events client (`sse`: curl in its own process, so only the learner's side is measured). Trials
 * trained/s come from each leg's metrics.csv between its first and last update (legFigures); the result is the
 * open/closed ratio per round and its median.
 *
 * On a shared, oversubscribed machine wall-clock throughput moves by more than the effect being measured, so the
 * bench also reports CPU time: the learner process's CPU seconds (main thread, trainer worker, HTTP side) per
 * trained trial, open vs closed, and the viewer's own CPU seconds per wall second (what a browser on the same
 * machine takes from training). And, free of training noise, the learner-side cost of streaming alone
 * (`stream`): an idle observatory with a realistic load (8 actors, 150 versions of 60 metrics, one metrics row per
 * second) and its HTTP side, process CPU per second with 0, 1 and 4 SSE viewers attached
 * (`lamer bench dashboard-stream`). Within each open leg the learner also times its own dashboard work
 * (learner/dashboard-cost.ts); that share of the learner's CPU is the figure machine load does not blur.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { createAuthenticator } from '../../learner/auth.js';
import { dashboardBusySeconds } from '../../learner/dashboard-cost.js';
import { startHttpSide } from '../../learner/http.js';
import { Observatory } from '../../learner/observatory.js';
import type { Trial } from '../../proto/messages.js';
import { resolveConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { defaultRunDir, RunDir } from '../../shared/run-dir.js';
import { resolveRun } from '../lib/run-config.js';
import { runTraining } from '../lib/train-job.js';
import { legFigures, WORKLOADS } from './throughput.js';

export type Viewer = 'browser' | 'sse';

export interface DashboardBenchOptions {
  iterations?: number;
  rounds?: number;
  actors?: number;
  workload?: string;
  viewer?: Viewer;
  set?: string[];
  outDir?: string;
  onLeg?(leg: { round: number; open: boolean; trialsPerSec: number; cpuPerTrial: number }): void;
}

export interface DashboardBenchResult {
  viewer: Viewer;
  workload: string;
  iterationsPerLeg: number;
  actors: number;
  closedTrialsPerSec: number[];
  openTrialsPerSec: number[];
  /** open / closed trials/s per round. */
  ratios: number[];
  ratioMedian: number;
  /** Learner-process CPU seconds per trained trial (whole leg), per round. */
  closedCpuPerTrial: number[];
  openCpuPerTrial: number[];
  /** open / closed learner CPU per trial, per round, and its median. */
  cpuRatios: number[];
  cpuRatioMedian: number;
  /**
   * Per open leg: the learner's time in dashboard work (learner/dashboard-cost.ts) as a share of the learner
   * process's CPU seconds in that leg. Measured inside the process, so machine load does not blur it the way it
   * blurs the trials/s ratio; an upper bound (preemption inside a timed section counts).
   */
  dashboardBusyShare: number[];
  dashboardBusyShareMax: number;
  /** The viewer process tree's CPU seconds per wall second while attached (0.1 = a tenth of a core). */
  viewerCpuPerSec: number[];
  stream: StreamCost;
  outDir: string;
}

const CHROMIUM = '/usr/bin/chromium';
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** CPU seconds (user + system) of the live processes below `root` whose command name is in `names`. */
function descendantCpuSeconds(root: number, names: readonly string[]): number {
  const procs = new Map<number, { ppid: number; comm: string; ticks: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' '); // f[0] = state (field 3), so field n is f[n - 3]
      procs.set(Number(d), { ppid: Number(f[1]), comm, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // exited meanwhile
    }
  }
  const below = (pid: number): boolean => {
    for (let p = procs.get(pid)?.ppid, hops = 0; p !== undefined && hops < 64; p = procs.get(p)?.ppid, hops++)
      if (p === root) return true;
    return false;
  };
  let ticks = 0;
  for (const [pid, p] of procs) if (names.includes(p.comm) && below(pid)) ticks += p.ticks;
  return ticks / 100; // USER_HZ
}

interface AttachedViewer {
  /** CPU seconds the viewer's processes used so far. */
  cpu(): number;
  close(): Promise<void>;
}

/** A viewer attached to a learner's HTTP side; closing it ends its connection. */
async function attachViewer(kind: Viewer, url: string): Promise<AttachedViewer> {
  if (kind === 'sse') {
    const curl = spawn('curl', ['-sN', '-o', '/dev/null', `${url}/events`], { stdio: 'ignore' });
    return {
      cpu: () => descendantCpuSeconds(process.pid, ['curl']),
      // curl may be gone already (the learner closed its stream at the end of the leg): waiting for an 'exit'
      // that has happened would leave nothing pending, and Node would end the bench without a word.
      close: () =>
        new Promise((resolve) => {
          if (curl.exitCode !== null || curl.signalCode !== null) return resolve();
          curl.once('exit', () => resolve());
          curl.kill('SIGTERM');
        }),
    };
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or --viewer sse)`);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  await page.goto(`${url}/`);
  return { cpu: () => descendantCpuSeconds(process.pid, ['chromium', 'chrome']), close: () => browser.close() };
}

export interface StreamCost {
  seconds: number;
  /** Learner-process CPU ms per wall second with 0, 1 and 4 event-stream viewers. */
  cpuMsPerSec: { viewers0: number; viewers1: number; viewers4: number };
  /** (1 viewer - 0 viewers): the CPU one open dashboard costs the learner, in ms per second (1000 = one core). */
  oneViewerMsPerSec: number;
}

/** The HTTP side's streaming cost in an otherwise idle learner process (see the file comment). */
export async function streamCost(seconds = 10): Promise<StreamCost> {
  const dir = mkdtempSync(join(tmpdir(), 'lamer-stream-'));
  const config = resolveConfig({ observe: { sinks: [] } });
  const logger = createLogger({ level: 'silent' });
  const obs = new Observatory({ config, runDir: new RunDir(join(dir, 'run')), logger, t0: Date.now() });
  obs.attach({
    runId: () => 'run-bench',
    policyVersion: () => 150,
    groups: () => [],
    trialsCommitted: () => 1e4,
    trialsTrained: () => 1e4,
    trialsRejected: () => 0,
    ledgerBytes: () => 1e9,
    connections: () => 8,
    lastEval: () => ({ version: 150, pass: [0.3, 0.5, 0.6] }),
  });
  for (let a = 0; a < 8; a++) obs.fleet.connected({ actorId: `a${a}`, incarnation: 'i' });
  const row = (v: number) =>
    Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`bench/metric_${i}`, Math.sin(v + i)]));
  for (let v = 0; v < 150; v++) obs.fanout.log(v, row(v));
  const http = await startHttpSide({
    host: '127.0.0.1',
    port: 0,
    auth: createAuthenticator('stream-bench-master-key-0123'),
    observatory: obs,
    logger,
  });
  let v = 150;
  const ticker = setInterval(() => {
    obs.fanout.log(v++, row(v));
    for (let a = 0; a < 8; a++)
      obs.noteTrial({
        key: { actorId: `a${a}`, incarnation: 'i', seq: v },
        rows: [{ policyVersion: v }],
        stats: { envSteps: 1, genTokens: 1 },
      } as unknown as Trial);
  }, 1000);
  const measure = async (viewers: number) => {
    const attached = await Promise.all(Array.from({ length: viewers }, () => attachViewer('sse', http.url)));
    await new Promise((r) => setTimeout(r, 1000)); // connected and past the first status push
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000 / ((performance.now() - t0) / 1000);
    await Promise.all(attached.map((a) => a.close()));
    return ms;
  };
  try {
    const viewers0 = await measure(0);
    const viewers1 = await measure(1);
    const viewers4 = await measure(4);
    return { seconds, cpuMsPerSec: { viewers0, viewers1, viewers4 }, oneViewerMsPerSec: viewers1 - viewers0 };
  } finally {
    clearInterval(ticker);
    await http.close();
    obs.close();
  }
}

export async function benchDashboard(o: DashboardBenchOptions = {}): Promise<DashboardBenchResult> {
  const iterations = o.iterations ?? 12;
  const rounds = o.rounds ?? 3;
  const actors = o.actors ?? 1;
  const viewer = o.viewer ?? 'browser';
  const workload = o.workload ?? 'generation';
  const outDir = o.outDir ?? defaultRunDir().replace(/^runs\//, 'runs/bench-dashboard-');
  mkdirSync(outDir, { recursive: true });
  const set = [...WORKLOADS[workload], 'run.evalEvery=0', 'run.evalTasks=4', 'log.level=warn', ...(o.set ?? [])];
  const closed: number[] = [];
  const open: number[] = [];
  const cpu = { open: [] as number[], closed: [] as number[] };
  const viewerCpuPerSec: number[] = [];
  const busyShare: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const isOpen of r % 2 === 0 ? [false, true] : [true, false]) {
      const runDir = join(outDir, 'legs', `${isOpen ? 'open' : 'closed'}-r${r}`);
      let attached: { viewer: AttachedViewer; t0: number } | null = null;
      const cpu0 = process.cpuUsage();
      const busy0 = dashboardBusySeconds();
      const summary = await runTraining(
        resolveRun({ runDir, fresh: true, iterations: String(iterations), minutes: '0', actors: String(actors), set }),
        {
          quiet: true,
          onStarted: async (learner) => {
            if (isOpen) attached = { viewer: await attachViewer(viewer, learner.httpUrl!), t0: Date.now() };
          },
        },
      );
      const used = process.cpuUsage(cpu0);
      if (isOpen) busyShare.push((dashboardBusySeconds() - busy0) / ((used.user + used.system) / 1e6));
      const a = attached as { viewer: AttachedViewer; t0: number } | null;
      if (a) {
        viewerCpuPerSec.push(a.viewer.cpu() / ((Date.now() - a.t0) / 1000));
        await a.viewer.close();
      }
      const tps = legFigures(join(runDir, 'metrics.csv'), {
        algo: 'metarl',
        mode: 'async',
        actors,
        round: r,
      }).trialsPerSec;
      (isOpen ? open : closed).push(tps);
      (isOpen ? cpu.open : cpu.closed).push((used.user + used.system) / 1e6 / summary.trialsTrained);
      o.onLeg?.({ round: r, open: isOpen, trialsPerSec: tps, cpuPerTrial: (isOpen ? cpu.open : cpu.closed).at(-1)! });
    }
  }
  const stream = await streamCost();
  const ratios = open.map((v, i) => v / closed[i]);
  const cpuRatios = cpu.open.map((v, i) => v / cpu.closed[i]);
  return {
    viewer,
    workload,
    iterationsPerLeg: iterations,
    actors,
    closedTrialsPerSec: closed,
    openTrialsPerSec: open,
    ratios,
    ratioMedian: median(ratios),
    closedCpuPerTrial: cpu.closed,
    openCpuPerTrial: cpu.open,
    cpuRatios,
    cpuRatioMedian: median(cpuRatios),
    dashboardBusyShare: busyShare,
    dashboardBusyShareMax: Math.max(...busyShare),
    viewerCpuPerSec,
    stream,
    outDir,
  };
}
