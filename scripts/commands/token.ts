/**
 * `lamer token` — print one actor's token, derived from the run's master key (so a leaked token binds one actor id).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { badInput } from '../../shared/errors.js';

export function register(program: Command): void {
  program
    .command('token')
    .description(
      "print an actor's token (HMAC of its id under the run's master key); give it to the actor as LAMER_TOKEN",
    )
    .requiredOption('--actor-id <id>', 'the actor id the token is for')
    .option('--run-dir <dir>', 'run directory whose secrets/master.key to use')
    .option('--key-file <file>', 'master key file (default <run-dir>/secrets/master.key, or env LAMER_MASTER_KEY)')
    .action(async (o: { actorId: string; runDir?: string; keyFile?: string }) => {
      const { deriveActorToken } = await import('../../learner/auth.js');
      const file = o.keyFile ?? (o.runDir ? join(o.runDir, 'secrets', 'master.key') : undefined);
      const key = file ? readFileSync(file, 'utf8').trim() : process.env.LAMER_MASTER_KEY;
      if (!key) throw badInput('no master key: pass --run-dir, --key-file or set LAMER_MASTER_KEY');
      process.stdout.write(deriveActorToken(key, o.actorId) + '\n');
    });
}
