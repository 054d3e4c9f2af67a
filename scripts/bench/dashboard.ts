/**
 * `lamer bench dashboard`: what watching a run costs. Short training legs with the dashboard closed (the HTTP side
 * listening, nobody connected) and open (a viewer connected for the whole leg), interleaved (round r closed then
 * open, round r+1 the other way round) so machine drift hits both. The viewer is either headless Chromium showing
 * the page (`browser`: the learner's streaming *and* the browser's rendering, on the same machine) or a bare
 * server-sent-events client (`sse`: the learner's side alone). Trials trained/s come from each leg's metrics.csv
 * between its first and last update (legFigures); the result is the open/closed ratio per round and its median.
 */
import { existsSync, mkdirSync } from 'node:fs';
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
  onLeg?(leg: { round: number; open: boolean; trialsPerSec: number }): void;
}

export interface DashboardBenchResult {
  viewer: Viewer;
  workload: string;
  iterationsPerLeg: number;
  actors: number;
  closedTrialsPerSec: number[];
  openTrialsPerSec: number[];
  /** open / closed per round. */
  ratios: number[];
  ratioMedian: number;
  outDir: string;
}

const CHROMIUM = '/usr/bin/chromium';
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A viewer attached to a learner's HTTP side; closing it ends its connection. */
async function attachViewer(kind: Viewer, url: string): Promise<() => Promise<void>> {
  if (kind === 'sse') {
    const ctrl = new AbortController();
    const res = await fetch(`${url}/events`, { signal: ctrl.signal });
    const reader = res.body!.getReader();
    const drain = (async () => {
      try {
        while (!(await reader.read()).done);
      } catch {
        // aborted
      }
    })();
    return async () => {
      ctrl.abort();
      await drain;
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
  return () => browser.close();
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
  for (let r = 0; r < rounds; r++) {
    for (const isOpen of r % 2 === 0 ? [false, true] : [true, false]) {
      const runDir = join(outDir, 'legs', `${isOpen ? 'open' : 'closed'}-r${r}`);
      let detach: (() => Promise<void>) | null = null;
      await runTraining(resolveRun({ runDir, fresh: true, iterations: String(iterations), minutes: '0', actors: String(actors), set }), {
        quiet: true,
        onStarted: async (learner) => {
          if (isOpen) detach = await attachViewer(viewer, learner.httpUrl!);
        },
      });
      await (detach as (() => Promise<void>) | null)?.();
      const tps = legFigures(join(runDir, 'metrics.csv'), { algo: 'metarl', mode: 'async', actors, round: r }).trialsPerSec;
      (isOpen ? open : closed).push(tps);
      o.onLeg?.({ round: r, open: isOpen, trialsPerSec: tps });
    }
  }
  const ratios = open.map((v, i) => v / closed[i]);
  return { viewer, workload, iterationsPerLeg: iterations, actors, closedTrialsPerSec: closed, openTrialsPerSec: open, ratios, ratioMedian: median(ratios), outDir };
}
