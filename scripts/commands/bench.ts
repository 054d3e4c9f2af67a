/**
 * `lamer bench <name> [--json]`: runs one benchmark from the table below; the last stdout line is its JSON
 * result with --json. Add a benchmark by adding an entry to BENCHES.
 */
import type { Command } from 'commander';

/** Options every benchmark receives; each uses the ones that apply to it. */
export interface BenchCliOptions {
  reps?: number;
  threads?: number;
  workers?: number;
}

interface BenchEntry {
  describe: string;
  run(o: BenchCliOptions): Promise<Record<string, unknown>>;
}

const BENCHES: Record<string, BenchEntry> = {
  modes: {
    describe: 'async vs synchronous lockstep training, side by side (trials trained per second; default model and actors)',
    run: async (o) => {
      const { benchModes } = await import('../bench/modes.js');
      return { ...(await benchModes({ rounds: o.reps, actors: o.workers })) };
    },
  },
  engine: {
    describe: 'policy engine: forward vs train step, batched/single decode, weight swap (toy model, batch 32x128)',
    run: async (o) => {
      const { benchEngine } = await import('../bench/engine.js');
      return { ...(await benchEngine({ reps: o.reps, threads: o.threads, workers: o.workers })) };
    },
  },
};

export function register(program: Command): void {
  program
    .command('bench')
    .description(`run a benchmark: ${Object.keys(BENCHES).join(' | ')}`)
    .argument('<name>', Object.entries(BENCHES).map(([k, v]) => `${k}: ${v.describe}`).join('; '))
    .option('--reps <n>', 'timed repetitions (median reported)')
    .option('--threads <n>', 'onnxruntime intra-op threads where a benchmark uses them')
    .option('--workers <n>', 'worker threads where a benchmark uses a pool')
    .option('--json', 'print the result as one JSON line (the last line of stdout)')
    .action(async (name: string, opts: { reps?: string; threads?: string; workers?: string; json?: boolean }) => {
      const { printJson, parseIntOption } = await import('../lib/io.js');
      const { badInput } = await import('../../shared/errors.js');
      const entry = Object.prototype.hasOwnProperty.call(BENCHES, name) ? BENCHES[name] : undefined;
      if (!entry) throw badInput(`unknown benchmark '${name}' (known: ${Object.keys(BENCHES).join(', ')})`);
      const result = await entry.run({
        reps: opts.reps === undefined ? undefined : parseIntOption('reps', 1)(opts.reps),
        threads: opts.threads === undefined ? undefined : parseIntOption('threads', 1)(opts.threads),
        workers: opts.workers === undefined ? undefined : parseIntOption('workers', 1)(opts.workers),
      });
      if (opts.json) printJson(result);
      else process.stdout.write(Object.entries(result).map(([k, v]) => `${k.padEnd(26)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('\n') + '\n');
    });
}
