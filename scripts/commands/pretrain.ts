/** `lamer pretrain` — build the base model by behaviour cloning on scripted demonstrations. */
import type { Command } from 'commander';
import { addConfigOptions, resolveRun, type RunFlags } from '../lib/run-config.js';
import { printJson } from '../lib/io.js';

export function register(program: Command): void {
  addConfigOptions(
    program
      .command('pretrain')
      .description(
        'build the base model: behaviour cloning on noisy scripted demonstrations with template reflections',
      ),
  )
    .option('--out <dir>', 'model directory to write (default: the cache directory lamer train uses)')
    .option('--force', 'rebuild even if the cached base model exists')
    .option('--json', 'print the report as one JSON line')
    .action(async (flags: RunFlags & { out?: string; force?: boolean; json?: boolean }) => {
      const { resolveEnvId } = await import('../../actor/envs/registry.js');
      const { runPretrain } = await import('../lib/pretrain-job.js');
      const { config } = resolveRun({ ...flags, runDir: flags.runDir ?? 'runs/pretrain-unused' }, resolveEnvId);
      const report = await runPretrain(config, {
        out: flags.out,
        force: flags.force,
        log: flags.json ? undefined : (l) => process.stdout.write(l + '\n'),
      });
      if (flags.json) printJson(report);
      else
        process.stdout.write(
          `base model ${report.cached ? '(cached) ' : ''}in ${report.dir}: ` +
            `pass@k ${report.basePass.map((p) => (100 * p).toFixed(1)).join('/')}% (${report.evalName})\n`,
        );
    });
}
