/**
 * `lamer bench <name> [--json]`: runs one benchmark from the table below; the last stdout line is its JSON
 * result with --json. Add a benchmark by adding an entry to BENCHES.
 */
import type { Command } from 'commander';
import { collect } from '../lib/io.js';

/** Options every benchmark receives; each uses the ones that apply to it. */
export interface BenchCliOptions {
  reps?: number;
  threads?: number;
  workers?: number;
  /** Training benchmarks: policy updates per leg, wall-clock cap, actor counts, workload, output dir, overrides. */
  iterations?: number;
  minutes?: number;
  actors?: number[];
  workload?: string;
  runDir?: string;
  set?: string[];
  seconds?: number;
  /** Ingest: connections, record bytes, credit window, client kind. */
  connections?: number;
  size?: number;
  window?: number;
  client?: string;
  /** Hosts: egress rate cap of the actor namespace (tc tbf), e.g. 100mbit. */
  rate?: string;
  log(line: string): void;
}

interface BenchEntry {
  describe: string;
  run(o: BenchCliOptions): Promise<Record<string, unknown>>;
}

const BENCHES: Record<string, BenchEntry> = {
  throughput: {
    describe:
      'sync vs async x RL (N=1, group 24) vs Meta-RL (N=3, group 8): trials/trajectories/env ' +
      'steps/tokens trained per second, idle fractions, lag, weight switch; JSON + PNG in the run dir',
    run: async (o) => {
      const { benchThroughput } = await import('../bench/throughput.js');
      const legs = 4 * (o.reps ?? 2) + 2 * Math.max(0, (o.actors?.length ?? 1) - 1);
      const r = await benchThroughput({
        iterations: o.iterations,
        rounds: o.reps,
        actors: o.actors,
        workload: o.workload,
        set: o.set,
        outDir: o.runDir,
        legMinutes: o.minutes !== undefined ? o.minutes / legs : undefined,
        onLeg: (f) =>
          o.log(
            `leg ${f.algo}-${f.mode} actors ${f.actors} round ${f.round}: ${f.trialsPerSec.toFixed(2)} ` +
              `trials/s, ${f.trajectoriesPerSec.toFixed(2)} trajectories/s, ` +
              `learner idle ${f.learnerIdleFrac.toFixed(2)}, actor idle ${f.actorIdleFrac.toFixed(2)}`,
          ),
      });
      const { legs: _legs, ...summary } = r;
      return summary;
    },
  },
  dashboard: {
    describe:
      'trials/s with the live dashboard open (headless Chromium, ' +
      'or --client sse) vs closed, interleaved legs; the open/closed ratio',
    run: async (o) => {
      const { benchDashboard } = await import('../bench/dashboard.js');
      const r = await benchDashboard({
        iterations: o.iterations,
        rounds: o.reps,
        actors: o.actors?.[0],
        workload: o.workload,
        set: o.set,
        outDir: o.runDir,
        viewer: o.client === 'sse' ? 'sse' : 'browser',
        onLeg: (l) =>
          o.log(
            `leg round ${l.round} dashboard ${l.open ? 'open' : 'closed'}: ${l.trialsPerSec.toFixed(3)} ` +
              `trials/s, learner ${(1000 * l.cpuPerTrial).toFixed(1)} CPU ms/trial`,
          ),
      });
      return { ...r };
    },
  },
  'dashboard-stream': {
    describe:
      'the learner-side CPU of streaming the dashboard (0, 1, 4 SSE viewers) ' +
      'in an idle learner with a realistic load, free of training noise',
    run: async (o) => {
      const { streamCost } = await import('../bench/dashboard.js');
      return { ...(await streamCost(o.seconds)) };
    },
  },
  hosts: {
    describe:
      'learner and actors in two network namespaces joined by ' +
      'veth (needs root): Meta-RL sync vs async across a real NIC',
    run: async (o) => {
      const { benchHosts } = await import('../bench/hosts.js');
      const r = await benchHosts({
        actors: o.actors?.[0],
        iterations: o.iterations,
        rounds: o.reps,
        workload: o.workload,
        set: o.set,
        outDir: o.runDir,
        rate: o.rate,
        onLeg: (f) =>
          o.log(
            `leg ${f.mode} round ${f.round}: ${f.trialsPerSec.toFixed(2)} trials/s, ` +
              `learner idle ${f.learnerIdleFrac.toFixed(2)}, switch p50 ${f.weightSwitchMsP50.toFixed(1)} ms`,
          ),
      });
      return r as unknown as Record<string, unknown>;
    },
  },
  decode: {
    describe:
      "engine batched-decode peak vs the actor pipeline's generated " +
      'tokens/s in a real rollout (same model, threads, batch limit)',
    run: async (o) => {
      const { benchDecode } = await import('../bench/decode.js');
      return { ...(await benchDecode({ workload: o.workload, seconds: o.seconds, reps: o.reps, set: o.set })) };
    },
  },
  ingest: {
    describe: 'learner ingest of ~50 KB trial records with durability on, from many connections (records/s, ack p99)',
    run: async (o) => {
      const { runIngestBench } = await import('../bench/ingest-runner.js');
      return runIngestBench({
        connections: o.connections,
        seconds: o.seconds,
        size: o.size,
        window: o.window,
        client: o.client,
      });
    },
  },
  engine: {
    describe: 'policy engine: forward vs train step, batched/single decode, weight swap (toy model, batch 32x128)',
    run: async (o) => {
      const { benchEngine } = await import('../bench/engine.js');
      return { ...(await benchEngine({ reps: o.reps, threads: o.threads, workers: o.workers })) };
    },
  },
  serve: {
    describe:
      'OpenAI backend against `lamer serve` (a child process): requests/s, ' +
      'latency, CPU per request, decode batch at 1/4/16/64 clients',
    run: async (o) => {
      const { benchServe } = await import('../bench/serve.js');
      return benchServe({ threads: o.threads });
    },
  },
};

export function register(program: Command): void {
  program
    .command('bench')
    .description(`run a benchmark: ${Object.keys(BENCHES).join(' | ')}`)
    .argument(
      '<name>',
      Object.entries(BENCHES)
        .map(([k, v]) => `${k}: ${v.describe}`)
        .join('; '),
    )
    .option('--reps <n>', 'timed repetitions (median reported)')
    .option('--threads <n>', 'onnxruntime intra-op threads where a benchmark uses them')
    .option('--workers <n>', 'worker threads where a benchmark uses a pool')
    .option('--iterations <n>', 'throughput: policy updates per leg (default 10)')
    .option('--minutes <m>', 'throughput: wall-clock budget for all legs together (split evenly; default: none)')
    .option('--actors <list>', 'throughput: actor processes, e.g. 1 or 1,2,4 (extra counts add Meta-RL scaling legs)')
    .option(
      '--workload <name>',
      'throughput/decode: generation (default; sampling-dominated, ' +
        'like the paper) or default (the default training job)',
    )
    .option('--run-dir <dir>', 'throughput: output directory (default runs/bench-throughput-<timestamp>)')
    .option('--set <key=value>', 'config override for every leg (repeatable)', collect)
    .option('--seconds <s>', 'decode: pipeline window; ingest: duration')
    .option('--connections <n>', 'ingest: actor connections (default 32)')
    .option('--size <bytes>', 'ingest: record size (default 50000)')
    .option('--window <n>', 'ingest: credit window per connection (default 8)')
    .option('--client <kind>', 'ingest: real (LearnerClients), raw (pre-encoded frames) or ledger (disk path only)')
    .option('--rate <rate>', 'hosts: cap the actor namespace egress (tc tbf), e.g. 100mbit')
    .option('--json', 'print the result as one JSON line (the last line of stdout)')
    .action(
      async (
        name: string,
        opts: {
          reps?: string;
          threads?: string;
          workers?: string;
          json?: boolean;
          iterations?: string;
          minutes?: string;
          actors?: string;
          workload?: string;
          runDir?: string;
          set?: string[];
          seconds?: string;
          connections?: string;
          size?: string;
          window?: string;
          client?: string;
          rate?: string;
        },
      ) => {
        const { printJson, parseIntOption } = await import('../lib/io.js');
        const { badInput } = await import('../../shared/errors.js');
        const positive = (flag: string, v: string): number => {
          const n = Number(v);
          if (!(n > 0)) throw badInput(`--${flag} must be a positive number, got '${v}'`);
          return n;
        };
        const entry = Object.hasOwn(BENCHES, name) ? BENCHES[name] : undefined;
        if (!entry) throw badInput(`unknown benchmark '${name}' (known: ${Object.keys(BENCHES).join(', ')})`);
        const result = await entry.run({
          reps: opts.reps === undefined ? undefined : parseIntOption('reps', 1)(opts.reps),
          threads: opts.threads === undefined ? undefined : parseIntOption('threads', 1)(opts.threads),
          workers: opts.workers === undefined ? undefined : parseIntOption('workers', 1)(opts.workers),
          iterations: opts.iterations === undefined ? undefined : parseIntOption('iterations', 2)(opts.iterations),
          minutes: opts.minutes === undefined ? undefined : positive('minutes', opts.minutes),
          actors:
            opts.actors === undefined
              ? undefined
              : opts.actors.split(',').map((a) => parseIntOption('actors', 1)(a.trim())),
          workload: opts.workload,
          runDir: opts.runDir,
          set: opts.set,
          seconds: opts.seconds === undefined ? undefined : positive('seconds', opts.seconds),
          connections: opts.connections === undefined ? undefined : parseIntOption('connections', 1)(opts.connections),
          size: opts.size === undefined ? undefined : parseIntOption('size', 2000)(opts.size),
          window: opts.window === undefined ? undefined : parseIntOption('window', 1)(opts.window),
          client: opts.client,
          rate: opts.rate,
          log: (line) => process.stderr.write(line + '\n'),
        });
        if (opts.json) printJson(result);
        else
          process.stdout.write(
            Object.entries(result)
              .map(([k, v]) => `${k.padEnd(26)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
              .join('\n') + '\n',
          );
      },
    );
}
