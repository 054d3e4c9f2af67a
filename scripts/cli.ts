/**
 * The one `lamer` CLI. Each command lives in scripts/commands/<name>.ts and exports `register(program)`; heavy
 * modules (onnxruntime, envs) are imported inside the action so `--help` stays fast. Errors print one line
 * (`lamer: error [CODE]: ...`); a stack trace only with `--debug` (or LAMER_DEBUG=1).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { formatCliError } from '../shared/errors.js';

type Registrar = { register(program: Command): void };

/** Commands in the order a user meets them, grouped in `lamer --help`. Add a command by adding its module here. */
const GROUPS: Array<[heading: string, commands: Array<() => Promise<Registrar>>]> = [
  [
    'Train and use a model:',
    [() => import('./commands/train.js'), () => import('./commands/eval.js'), () => import('./commands/serve.js')],
  ],
  ['Experiments:', [() => import('./commands/experiment.js'), () => import('./commands/pretrain.js')]],
  [
    'Actors and learner on several machines:',
    [
      () => import('./commands/learner.js'),
      () => import('./commands/actor.js'),
      () => import('./commands/token.js'),
      () => import('./commands/deploy.js'),
    ],
  ],
  [
    'Benchmarks and fault injection:',
    [() => import('./commands/bench.js'), () => import('./commands/chaos.js'), () => import('./commands/soak.js')],
  ],
  ['Watch a run:', [() => import('./commands/status.js'), () => import('./commands/plot.js')]],
  [
    'Tools:',
    [
      () => import('./commands/config.js'),
      () => import('./commands/replay.js'),
      () => import('./commands/check-env.js'),
      () => import('./commands/advantages.js'),
      () => import('./commands/score.js'),
      () => import('./commands/init-model.js'),
    ],
  ],
];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function buildProgram(): Promise<Command> {
  const program = new Command('lamer')
    .description('Meta-RL (LaMer) for language agents: async actor-learner training over WebSockets')
    .version(version(), '-V, --version')
    .option('--debug', 'print stack traces of unexpected errors')
    // A mistake gets one line and a pointer, not the whole help scrolled over it.
    .showHelpAfterError('(see --help)')
    .configureOutput({
      outputError: (str, write) => write(`lamer: ${str.replace(/\n\(Did you mean (.*)\)/, ' (did you mean $1)')}`),
    })
    .exitOverride();
  for (const [heading, commands] of GROUPS) {
    program.commandsGroup(heading);
    for (const load of commands) (await load()).register(program);
  }
  for (const cmd of program.commands) cmd.showHelpAfterError(`(see lamer ${cmd.name()} --help)`);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = await buildProgram();
  await program.parseAsync(argv);
}

const debug = process.argv.includes('--debug') || process.env.LAMER_DEBUG === '1';
main(process.argv).then(
  () => {
    // Commands that start servers or pools close them themselves; nothing keeps the loop alive otherwise.
  },
  (e: unknown) => {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(formatCliError(e, debug));
    process.exitCode = 1;
  },
);
