/**
 * `lamer train` — the main job: a learner in this process and K local actor processes, a bounded budget,
 * progress lines, periodic evaluation, checkpoints (resume by default), metrics.csv and a learning-curve PNG.
 */
import type { Command } from 'commander';
import { addRunOptions, resolveRun, type RunFlags } from '../lib/run-config.js';
import { printJson } from '../lib/io.js';

export function register(program: Command): void {
  addRunOptions(
    program.command('train').description('train a policy: learner + local actors (the main job; `npm start` runs it)'),
  )
    .option('--json', 'print the final summary as one JSON line')
    .action(async (flags: RunFlags & { json?: boolean }) => {
      const { resolveEnvId } = await import('../../actor/envs/registry.js');
      const { runTraining } = await import('../lib/train-job.js');
      const resolved = resolveRun(flags, resolveEnvId);
      const summary = await runTraining(resolved, { quiet: !!flags.json });
      if (flags.json) printJson(summary);
      (await import('../lib/stop-reason.js')).exitForStop(summary);
    });
}
