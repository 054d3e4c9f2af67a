/** `lamer plot` — re-draws a run's learning-curve PNG from its metrics.csv, also while the run is going. */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('plot')
    .description("re-draw a run's report (learning-curve.png) from metrics.csv, with smoothed training curves")
    .requiredOption('--run-dir <dir>', 'run directory')
    .option('--out <file>', 'PNG to write (default <run-dir>/learning-curve.png)')
    .action(async (flags: { runDir: string; out?: string }) => {
      const { plotRunDir } = await import('../lib/plots.js');
      process.stdout.write(`${plotRunDir(flags.runDir, flags.out)}\n`);
    });
}
