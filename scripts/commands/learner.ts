/** `lamer learner` — a learner alone, for actors on other machines (`lamer actor --learner ws://HOST:PORT`). */
import type { Command } from 'commander';
import { badInput } from '../../shared/errors.js';
import { addRunOptions, resolveRun, type RunFlags } from '../lib/run-config.js';
import { printJson } from '../lib/io.js';

type LearnerFlags = RunFlags & {
  listen: string;
  tlsKey?: string;
  tlsCert?: string;
  json?: boolean;
  runId?: string;
  keyFile?: string;
};

export function register(program: Command): void {
  addRunOptions(
    program
      .command('learner')
      .description('run only the learner; start actors elsewhere with `lamer actor` (tokens: `lamer token`)'),
  )
    .requiredOption('--listen <host:port>', 'address to listen on, e.g. 0.0.0.0:7070')
    .option('--tls-key <file>', 'PEM private key: serve wss://')
    .option('--tls-cert <file>', 'PEM certificate for --tls-key')
    .option('--json', 'print the final summary as one JSON line')
    .option(
      '--run-id <id>',
      'the run id of a new run directory, known to the actors in advance (default random, or env LAMER_RUN_ID); ' +
        'an existing run directory must have this id',
    )
    .option(
      '--key-file <file>',
      "the run's master key from this file (e.g. a mounted Kubernetes Secret) instead of <run-dir>/secrets/master.key",
    )
    .action(async (flags: LearnerFlags) => {
      const m = /^(.*):(\d+)$/.exec(flags.listen);
      if (!m) throw badInput(`--listen must be HOST:PORT, got '${flags.listen}'`);
      if (!!flags.tlsKey !== !!flags.tlsCert) throw badInput('--tls-key and --tls-cert go together');
      const { resolveEnvId } = await import('../../actor/envs/registry.js');
      const { runTraining } = await import('../lib/train-job.js');
      const { readFileSync } = await import('node:fs');
      const resolved = resolveRun({ ...flags, actors: '0' }, resolveEnvId);
      resolved.config.learner.host = m[1];
      resolved.config.learner.port = Number(m[2]);
      const runId = flags.runId ?? process.env.LAMER_RUN_ID;
      if (runId) (await import('../lib/run-id.js')).pinRunId(resolved.runDir, runId);
      const masterKey = flags.keyFile
        ? (await import('../../learner/auth.js')).loadMasterKey({ file: flags.keyFile })
        : undefined;
      const tls = flags.tlsKey ? { key: readFileSync(flags.tlsKey), cert: readFileSync(flags.tlsCert!) } : undefined;
      const summary = await runTraining(resolved, { quiet: !!flags.json, tls, masterKey });
      if (flags.json) printJson(summary);
      (await import('../lib/stop-reason.js')).exitForStop(summary);
    });
}
