/**
 * `lamer bench throughput`: synchronous lockstep vs asynchronous actor-learner, for RL (N=1, group 24) and
 * Meta-RL (N=3, group 8), on this machine with the same model, actors and budget. Legs are interleaved
 * (round r runs the four configurations forward, round r+1 backward) so machine drift hits every configuration.
 *
 * Every figure comes from the leg's own metrics.csv between its first and its last policy update (startup, the
 * initial and the final evaluation are excluded): trials, trajectories (episodes), env steps and generated tokens
 * *trained* per second; decode batch fill; learner idle fraction (time waiting for complete groups over wait +
 * update); actor idle fraction (time the actors' engines were not generating); policy lag; publish-to-switch latency.
 *
 * The synchronous legs also give the bound any overlap can reach: with rollout time R and update time U per
 * iteration, a sync iteration costs R + U and a perfectly overlapped one max(R, U), so
 * async/sync <= (R + U) / max(R, U) (one learner, actors on the remaining cores). `overlapBound` reports it from the
 * sync legs' learner idle fraction, and `cpuParallelism` how much parallel CPU the machine actually delivered
 * (overlap needs a second free core).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BarPanel, chartSvg, svgToPng, type Panel } from '../../shared/plot.js';
import { defaultRunDir, readMetricsCsv } from '../../shared/run-dir.js';
import { resolveRun } from '../lib/run-config.js';
import { runTraining } from '../lib/train-job.js';
import { probeParallelism, type CpuProbe } from './cpu-probe.js';

export type Mode = 'sync' | 'async';
export type Algo = 'rl' | 'metarl';

/** Config overrides per algorithm: the paper's RL baseline (one episode, group 24) and LaMer (3 episodes, group 8). */
export const ALGO_SETS: Record<Algo, string[]> = {
  rl: ['env.attempts=1', 'env.groupSize=24', 'env.reflect=false'],
  metarl: ['env.attempts=3', 'env.groupSize=8', 'env.reflect=true'],
};

/**
 * Workloads. `default` is the default training job (behaviour-cloned base model, compact prompts: a few tokens per
 * action, so the learner dominates). `generation` models the paper's regime, where sampling dominates: every turn
 * samples `sampling.maxActionTokens` tokens (a randomly initialised policy rarely emits a stop word) on a small board.
 */
export const WORKLOADS: Record<string, string[]> = {
  default: [],
  generation: [
    'model.init=random',
    'env.options={size: 4, mines: 2}',
    'sampling.maxActionTokens=48',
    'sampling.maxReflectTokens=48',
  ],
};

export interface LegFigures {
  algo: Algo;
  mode: Mode;
  actors: number;
  round: number;
  updates: number;
  seconds: number;
  trialsPerSec: number;
  trajectoriesPerSec: number;
  envStepsPerSec: number;
  tokensPerSec: number;
  batchFill: number;
  learnerIdleFrac: number;
  actorIdleFrac: number;
  policyLagMean: number;
  policyLagMax: number;
  weightSwitchMsP50: number;
  weightSwitchMsMax: number;
  /** Of the switch, the actor-side part: from the weights frame's arrival to the engine's switch (p50 over reports). */
  weightSwapMsP50: number;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** A leg's figures from its metrics.csv (see the file comment for what each one means). */
export function legFigures(
  metricsCsv: string,
  leg: Pick<LegFigures, 'algo' | 'mode' | 'actors' | 'round'>,
): LegFigures {
  const m = readMetricsCsv(metricsCsv);
  const series = (name: string) => m.get(name) ?? [];
  const trials = series('rollout/trials_trained_total');
  if (trials.length < 2) throw new Error(`${metricsCsv}: fewer than two policy updates, nothing to measure`);
  const first = trials[0];
  const last = trials[trials.length - 1];
  const dt = last.wall - first.wall;
  const rate = (name: string) => {
    const s = series(name);
    return s.length >= 2 ? (s[s.length - 1].value - s[0].value) / dt : NaN;
  };
  // Per-update figures after the first update (its wait includes startup and the initial evaluation).
  const inWindow = <T extends { wall: number }>(xs: T[]) =>
    xs.filter((p) => p.wall > first.wall + 1e-9 && p.wall <= last.wall + 1e-9);
  const wait = inWindow(series('perf/learner_wait_ms')).map((p) => p.value);
  const upd = inWindow(series('perf/update_ms')).map((p) => p.value);
  const waitSum = wait.reduce((a, b) => a + b, 0);
  const updSum = upd.reduce((a, b) => a + b, 0);
  const finite = (xs: Array<{ value: number }>) => xs.map((p) => p.value).filter(Number.isFinite);
  // Per-version max over actors: the time until *all* actors switched.
  const byVersion = new Map<number, number>();
  for (const p of series('perf/weight_switch_ms'))
    byVersion.set(p.version, Math.max(byVersion.get(p.version) ?? 0, p.value));
  // Version 0 is the initial load at connect time, not a publish-to-switch hop.
  const switches = [...byVersion.entries()].filter(([v]) => v > 0).map(([, ms]) => ms);
  return {
    ...leg,
    updates: trials.length - 1,
    seconds: dt,
    trialsPerSec: (last.value - first.value) / dt,
    trajectoriesPerSec: rate('rollout/episodes_trained_total'),
    envStepsPerSec: rate('rollout/env_steps_trained_total'),
    tokensPerSec: rate('rollout/tokens_trained_total'),
    batchFill: mean(finite(inWindow(series('rollout/batch_fill')))),
    learnerIdleFrac: waitSum + updSum > 0 ? waitSum / (waitSum + updSum) : NaN,
    actorIdleFrac: mean(finite(inWindow(series('perf/actor_idle_frac')))),
    policyLagMean: mean(inWindow(series('perf/policy_lag_mean')).map((p) => p.value)),
    policyLagMax: Math.max(0, ...inWindow(series('perf/policy_lag_max')).map((p) => p.value)),
    weightSwitchMsP50: quantile(switches, 0.5),
    weightSwitchMsMax: switches.length ? Math.max(...switches) : NaN,
    weightSwapMsP50: quantile(
      series('perf/weight_swap_ms')
        .filter((p) => p.version > 0)
        .map((p) => p.value),
      0.5,
    ),
  };
}

export interface ThroughputOptions {
  /** Policy updates per leg (the budget that is equal across configurations). */
  iterations?: number;
  /** Wall-clock cap per leg in minutes (0 = none); a capped leg still reports its rates. */
  legMinutes?: number;
  rounds?: number;
  /** Actor processes; with more than one value, extra Meta-RL legs measure scaling over actor counts. */
  actors?: number[];
  workload?: string;
  /** Extra config overrides applied to every leg (after the workload's). */
  set?: string[];
  outDir?: string;
  onLeg?: (f: LegFigures) => void;
}

export interface ThroughputResult {
  workload: string;
  outDir: string;
  iterationsPerLeg: number;
  legs: LegFigures[];
  configs: Record<string, Omit<LegFigures, 'round'> & { legs: number }>;
  asyncOverSync: number;
  asyncOverSyncRl: number;
  metaRlOverRlAsync: number;
  metaRlOverRlSync: number;
  overlapBound: number;
  /** Parallel CPU the machine delivered (2 x solo / pair time of a fixed loop) before and after the legs. */
  cpuParallelism: number;
  cpuProbes: CpuProbe[];
  weightSwitchMsP50: number;
  scaling?: Array<{ actors: number; mode: Mode; trialsPerSec: number; trajectoriesPerSec: number }>;
  chart: string;
}

const median = (xs: number[]) => quantile(xs, 0.5);

/** Median over legs of every numeric figure of one configuration. */
function combine(legs: LegFigures[]): Omit<LegFigures, 'round'> & { legs: number } {
  const keys = Object.keys(legs[0]).filter(
    (k) => typeof (legs[0] as unknown as Record<string, unknown>)[k] === 'number' && k !== 'round',
  ) as Array<keyof LegFigures>;
  const out: Record<string, unknown> = {
    algo: legs[0].algo,
    mode: legs[0].mode,
    actors: legs[0].actors,
    legs: legs.length,
  };
  for (const k of keys) if (k !== 'actors') out[k] = median(legs.map((l) => l[k] as number).filter(Number.isFinite));
  return out as Omit<LegFigures, 'round'> & { legs: number };
}

export async function benchThroughput(o: ThroughputOptions = {}): Promise<ThroughputResult> {
  const iterations = o.iterations ?? 10;
  const rounds = o.rounds ?? 2;
  const actorCounts = o.actors?.length ? o.actors : [1];
  const workload = o.workload ?? 'generation';
  if (!Object.hasOwn(WORKLOADS, workload))
    throw new Error(`unknown workload '${workload}' (known: ${Object.keys(WORKLOADS).join(', ')})`);
  const outDir = o.outDir ?? defaultRunDir().replace(/^runs[\\/]/, 'runs/bench-throughput-');
  mkdirSync(outDir, { recursive: true });
  const base = [
    'run.evalEvery=0',
    'run.evalTasks=4',
    'run.evalAttempts=1',
    'run.progressSec=2',
    'log.level=warn',
    ...WORKLOADS[workload],
    ...(o.set ?? []),
  ];
  const main: Array<{ algo: Algo; mode: Mode }> = [
    { algo: 'metarl', mode: 'sync' },
    { algo: 'metarl', mode: 'async' },
    { algo: 'rl', mode: 'sync' },
    { algo: 'rl', mode: 'async' },
  ];
  const legs: LegFigures[] = [];
  const probes: CpuProbe[] = [await probeParallelism()];
  const runLeg = async (algo: Algo, mode: Mode, actors: number, round: number) => {
    const runDir = join(outDir, 'legs', `${algo}-${mode}-a${actors}-r${round}`);
    const set = [...base, ...ALGO_SETS[algo], ...(mode === 'sync' ? ['algo.eta=0'] : [])];
    await runTraining(
      resolveRun({
        runDir,
        fresh: true,
        iterations: String(iterations),
        minutes: String(o.legMinutes ?? 0),
        mode,
        actors: String(actors),
        set,
      }),
      { quiet: true },
    );
    const f = legFigures(join(runDir, 'metrics.csv'), { algo, mode, actors, round });
    legs.push(f);
    o.onLeg?.(f);
  };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? main : [...main].reverse();
    for (const c of order) await runLeg(c.algo, c.mode, actorCounts[0], r);
  }
  // Scaling over actor processes (Meta-RL, both modes, one leg each) for the remaining counts.
  for (const a of actorCounts.slice(1))
    for (const mode of ['sync', 'async'] as const) await runLeg('metarl', mode, a, 0);

  probes.push(await probeParallelism());
  const configs: ThroughputResult['configs'] = {};
  for (const c of main)
    configs[`${c.algo}-${c.mode}`] = combine(
      legs.filter((l) => l.algo === c.algo && l.mode === c.mode && l.actors === actorCounts[0]),
    );
  const C = (k: string) => configs[k];
  // Meta-RL over RL: wall-clock per equal trajectory budget = RL trajectories/s over Meta-RL trajectories/s.
  const result: ThroughputResult = {
    workload,
    outDir,
    iterationsPerLeg: iterations,
    legs,
    configs,
    asyncOverSync: C('metarl-async').trialsPerSec / C('metarl-sync').trialsPerSec,
    asyncOverSyncRl: C('rl-async').trialsPerSec / C('rl-sync').trialsPerSec,
    metaRlOverRlAsync: C('rl-async').trajectoriesPerSec / C('metarl-async').trajectoriesPerSec,
    metaRlOverRlSync: C('rl-sync').trajectoriesPerSec / C('metarl-sync').trajectoriesPerSec,
    overlapBound: 1 / Math.max(C('metarl-sync').learnerIdleFrac, 1 - C('metarl-sync').learnerIdleFrac),
    cpuParallelism: median(probes.map((p) => p.parallelism)),
    cpuProbes: probes,
    weightSwitchMsP50: median(legs.map((l) => l.weightSwitchMsP50).filter(Number.isFinite)),
    chart: join(outDir, 'throughput.png'),
  };
  if (actorCounts.length > 1) {
    result.scaling = actorCounts.flatMap((a) =>
      (['sync', 'async'] as const).map((mode) => {
        const ls = legs.filter((l) => l.actors === a && l.mode === mode && l.algo === 'metarl');
        return {
          actors: a,
          mode,
          trialsPerSec: median(ls.map((l) => l.trialsPerSec)),
          trajectoriesPerSec: median(ls.map((l) => l.trajectoriesPerSec)),
        };
      }),
    );
  }
  writeFileSync(result.chart, svgToPng(chartSvg(throughputPanels(result), { columns: 2 })));
  writeFileSync(join(outDir, 'throughput.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}

const LABELS: Record<string, string> = {
  'metarl-sync': 'Meta-RL sync',
  'metarl-async': 'Meta-RL async',
  'rl-sync': 'RL sync',
  'rl-async': 'RL async',
};

/** Grouped bars per labelled configuration (a categorical comparison), plus the scaling curve when measured. */
export function throughputPanels(r: ThroughputResult): Array<Panel | BarPanel> {
  const names = Object.keys(r.configs);
  const label = (k: string) => LABELS[k] ?? k;
  const algos = ['metarl', 'rl'].filter((a) => names.some((n) => n.startsWith(`${a}-`)));
  const byMode = (f: (c: ThroughputResult['configs'][string]) => number) =>
    (['sync', 'async'] as const).map((mode) => ({
      name: mode,
      values: algos.map((a) => (r.configs[`${a}-${mode}`] ? f(r.configs[`${a}-${mode}`]) : NaN)),
    }));
  const algoLabels = algos.map((a) => (a === 'metarl' ? 'Meta-RL' : 'RL'));
  const panels: Array<Panel | BarPanel> = [
    {
      kind: 'bars',
      title: 'Trials trained/s',
      yLabel: 'trials/s',
      categories: algoLabels,
      series: byMode((c) => c.trialsPerSec),
    },
    {
      kind: 'bars',
      title: 'Trajectories trained/s',
      yLabel: 'episodes/s',
      categories: algoLabels,
      series: byMode((c) => c.trajectoriesPerSec),
    },
    {
      kind: 'bars',
      title: 'Idle fractions',
      yLabel: 'fraction',
      yMin: 0,
      yMax: 1,
      categories: names.map(label),
      series: [
        { name: 'learner', values: names.map((k) => r.configs[k].learnerIdleFrac) },
        { name: 'actors', values: names.map((k) => r.configs[k].actorIdleFrac) },
      ],
    },
    {
      kind: 'bars',
      title: 'Generated tokens/s and env steps/s',
      yLabel: 'per second',
      categories: names.map(label),
      series: [
        { name: 'tokens/s', values: names.map((k) => r.configs[k].tokensPerSec) },
        { name: 'env steps/s', values: names.map((k) => r.configs[k].envStepsPerSec) },
      ],
    },
  ];
  if (r.scaling) {
    panels.push({
      title: 'Meta-RL scaling over actor processes',
      xLabel: 'actors',
      yLabel: 'trials/s',
      yMin: 0,
      series: (['sync', 'async'] as const).map((mode) => ({
        name: mode,
        points: r.scaling!.filter((s) => s.mode === mode).map((s) => [s.actors, s.trialsPerSec] as [number, number]),
      })),
    });
  }
  return panels;
}
