/** `lamer status` — what a running learner is doing, from outside: progress, stall reason, actors, warnings. */
import type { Command } from 'commander';
import { printJson } from '../lib/io.js';

export function register(program: Command): void {
  program
    .command('status')
    .description("a learner's live status (via its HTTP side): progress, stall reason, actor table, warnings")
    .option('--run-dir <dir>', 'run directory (its endpoints.json names the learner)')
    .option('--url <url>', 'the learner HTTP side, e.g. http://host:9100 (instead of --run-dir)')
    .option(
      '--actor-id <id>',
      'actor id whose token is in $LAMER_TOKEN (only for a learner not on this machine)',
      'status',
    )
    .option('--json', 'print the status snapshot as one JSON line')
    .action(async (flags: { runDir?: string; url?: string; actorId: string; json?: boolean }) => {
      const { authorizationHeader } = await import('../../learner/auth.js');
      const { fetchStatus, formatStatus, localAuthorization } = await import('../lib/status.js');
      const token = process.env.LAMER_TOKEN;
      const authorization = token
        ? authorizationHeader(flags.actorId, token)
        : flags.runDir
          ? localAuthorization(flags.runDir)
          : undefined;
      const r = await fetchStatus({ runDir: flags.runDir, url: flags.url, authorization });
      if (flags.json) printJson(r);
      else process.stdout.write(formatStatus(r) + '\n');
      if (!r.running) process.exitCode = 3;
    });
}
