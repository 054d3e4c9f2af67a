/**
 * The one `lamer` CLI. Each command lives in scripts/commands/<name>.ts and exports
 * `register(program)`; heavy modules (onnxruntime, envs) are imported inside the action
 * so `--help` stays fast.
 */
import { Command, CommanderError } from 'commander';
import { isLamerError } from '../shared/errors.js';

type Registrar = { register(program: Command): void };

// Add a command by adding its module here.
const COMMANDS: Array<() => Promise<Registrar>> = [
  () => import('./commands/score.js'),
  () => import('./commands/init-model.js'),
  () => import('./commands/bench.js'),
  () => import('./commands/advantages.js'),
  () => import('./commands/replay.js'),
  () => import('./commands/check-env.js'),
  () => import('./commands/train.js'),
  () => import('./commands/actor.js'),
  () => import('./commands/pretrain.js'),
  () => import('./commands/learner.js'),
  () => import('./commands/eval.js'),
  () => import('./commands/token.js'),
  () => import('./commands/chaos.js'),
  () => import('./commands/serve.js'),
  () => import('./commands/experiment.js'),
  () => import('./commands/status.js'),
  () => import('./commands/plot.js'),
];

async function main(argv: string[]): Promise<void> {
  const program = new Command('lamer')
    .description('Meta-RL (LaMer) for language agents: async actor-learner training over WebSockets')
    .showHelpAfterError()
    .exitOverride();
  for (const load of COMMANDS) (await load()).register(program);
  await program.parseAsync(argv);
}

main(process.argv).then(
  () => {
    // Commands that start servers or pools close them themselves; nothing keeps the loop alive otherwise.
  },
  (e: unknown) => {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    if (isLamerError(e)) {
      process.stderr.write(`lamer: error [${e.code}]: ${e.message}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`lamer: unexpected error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
