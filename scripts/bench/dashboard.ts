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
 * machine takes from training).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultRunDir } from '../../shared/run-dir.js';
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
  /** The viewer process tree's CPU seconds per wall second while attached (0.1 = a tenth of a core). */
  viewerCpuPerSec: number[];
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
    for (let p = procs.get(pid)?.ppid, hops = 0; p !== undefined && hops < 64; p = procs.get(p)?.ppid, hops++) if (p === root) return true;
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
      close: () => new Promise((resolve) => {
        curl.once('exit', () => resolve());
        curl.kill('SIGTERM');
      }),
    };
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or --viewer sse)`);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  await page.goto(`${url}/`);
  return { cpu: () => descendantCpuSeconds(process.pid, ['chromium', 'chrome']), close: () => browser.close() };
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
  for (let r = 0; r < rounds; r++) {
    for (const isOpen of r % 2 === 0 ? [false, true] : [true, false]) {
      const runDir = join(outDir, 'legs', `${isOpen ? 'open' : 'closed'}-r${r}`);
      let attached: { viewer: AttachedViewer; t0: number } | null = null;
      const cpu0 = process.cpuUsage();
      const summary = await runTraining(resolveRun({ runDir, fresh: true, iterations: String(iterations), minutes: '0', actors: String(actors), set }), {
        quiet: true,
        onStarted: async (learner) => {
          if (isOpen) attached = { viewer: await attachViewer(viewer, learner.httpUrl!), t0: Date.now() };
        },
      });
      const used = process.cpuUsage(cpu0);
      const a = attached as { viewer: AttachedViewer; t0: number } | null;
      if (a) {
        viewerCpuPerSec.push(a.viewer.cpu() / ((Date.now() - a.t0) / 1000));
        await a.viewer.close();
      }
      const tps = legFigures(join(runDir, 'metrics.csv'), { algo: 'metarl', mode: 'async', actors, round: r }).trialsPerSec;
      (isOpen ? open : closed).push(tps);
      (isOpen ? cpu.open : cpu.closed).push((used.user + used.system) / 1e6 / summary.trialsTrained);
      o.onLeg?.({ round: r, open: isOpen, trialsPerSec: tps, cpuPerTrial: (isOpen ? cpu.open : cpu.closed).at(-1)! });
    }
  }
  const ratios = open.map((v, i) => v / closed[i]);
  const cpuRatios = cpu.open.map((v, i) => v / cpu.closed[i]);
  return {
    viewer, workload, iterationsPerLeg: iterations, actors, closedTrialsPerSec: closed, openTrialsPerSec: open, ratios, ratioMedian: median(ratios),
    closedCpuPerTrial: cpu.closed, openCpuPerTrial: cpu.open, cpuRatios, cpuRatioMedian: median(cpuRatios), viewerCpuPerSec, outDir,
  };
}
