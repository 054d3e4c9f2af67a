/** `lamer config` — the configuration keys with their defaults (`--help`), or the resolved configuration of a run. */
import type { Command } from 'commander';
import { addConfigOptions, configKeysHelp, resolveRun, type RunFlags } from '../lib/run-config.js';
import { printJson } from '../lib/io.js';

export function register(program: Command): void {
  addConfigOptions(
    program
      .command('config')
      .description(
        'print the resolved configuration (defaults < --config < --set < flags, ' +
          "or a run directory's); --help lists every key",
      ),
  )
    .option('--run-dir <dir>', "start from this run directory's saved config.json (what a resume would use)")
    .option('--json', 'print it as one JSON line')
    .addHelpText('after', `\n${configKeysHelp()}`)
    .action(async (flags: RunFlags & { json?: boolean }) => {
      const { resolveEnvId } = await import('../../actor/envs/registry.js');
      const { stringify } = await import('yaml');
      const { config } = resolveRun({ ...flags, runDir: flags.runDir ?? 'runs/config-unused' }, resolveEnvId);
      config.run.dir = flags.runDir ?? '';
      if (flags.json) return printJson(config);
      process.stdout.write(stringify(config));
    });
}
