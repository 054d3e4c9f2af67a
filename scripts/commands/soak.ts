/**
 * `lamer soak` — a long run with faults at a low rate that measures what grows (scripts/chaos/soak-run.ts):
 * per process RSS, heap, open fds and event-loop lag, run-directory disk use, learner start-up time, trials/s,
 * each as its slope over the second half, plus the chaos checker's counts and a PNG plot. Progress goes to
 * stderr; the last stdout line is the JSON report. Exit code 1 if a record was lost or duplicated, or a process
 * exited on its own (a crash, a budget spent early, an actor told to stop by a learner that was only restarting).
 */
import type { Command } from 'commander';
import { badInput } from '../../shared/errors.js';
import { collect, parseIntOption, printJson } from '../lib/io.js';

function positive(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw badInput(`option --${name} must be a number > 0, got '${v}'`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('soak')
    .description(
      'long run with actor kills and learner restarts; ' +
        'reports the slopes of memory, fds, disk, start-up time and throughput',
    )
    .option('--json', 'print only the JSON report on stdout')
    .option('--minutes <m>', 'run length (the target soak is 120)', positive('minutes'), 120)
    .option('--actors <n>', 'actor processes', parseIntOption('actors', 1), 2)
    .option('--seed <s>', 'seed of the run', parseIntOption('seed', 0), 1)
    .option('--sample <seconds>', 'sampling interval', parseIntOption('sample', 1), 10)
    .option(
      '--actor-kill-every <min>',
      'minutes between actor SIGKILLs (default min(3, minutes/6))',
      positive('actor-kill-every'),
    )
    .option(
      '--learner-restart-every <min>',
      'minutes between learner restarts (default min(20, minutes/3))',
      positive('learner-restart-every'),
    )
    .option(
      '--steady-actors <n>',
      'the last n actors are never killed, so their memory is measured over the whole run (default 1 if actors >= 2)',
      parseIntOption('steady-actors', 0),
    )
    .option('--dir <dir>', 'work directory (default: a new temp directory; kept, its path is in the report)')
    .option('--set <key=value>', 'extra learner config override (repeatable)', collect)
    .action(
      async (o: {
        json?: boolean;
        minutes: number;
        actors: number;
        seed: number;
        sample: number;
        actorKillEvery?: number;
        learnerRestartEvery?: number;
        steadyActors?: number;
        dir?: string;
        set?: string[];
      }) => {
        const say = (line: string) => process.stderr.write(line + '\n');
        // Exit through process.exit so the 'exit' hook kills the children.
        for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
        const { runLongSoak } = await import('../chaos/soak-run.js');
        const r = await runLongSoak({
          minutes: o.minutes,
          actors: o.actors,
          seed: o.seed,
          sampleSec: o.sample,
          actorKillEveryMin: o.actorKillEvery,
          learnerRestartEveryMin: o.learnerRestartEvery,
          steadyActors: o.steadyActors,
          dir: o.dir,
          set: o.set,
          say,
        });
        if (!o.json) {
          say(
            `${r.label}: lost ${r.lost}  duplicated ${r.duplicated}  actor kills ${r.faults.actorKills}  ` +
              `learner restarts ${r.faults.learnerRestarts} (+${r.faults.learnerSelfExits} on its own)  ` +
              `actor exits on their own ${r.faults.actorSelfExits}  ` +
              `compactions ${r.compactions}`,
          );
          say(
            `RSS slope MB/h ${JSON.stringify(r.rss)}  fd slope /h ${JSON.stringify(r.fd)}  ` +
              `disk slope MB/h ${r.disk.run}  start-up s ${r.startup.seconds.join(', ')}`,
          );
          say(`plot: ${r.plot}`);
        }
        printJson(r);
        if (r.lost > 0 || r.duplicated > 0 || r.faults.learnerSelfExits > 0 || r.faults.actorSelfExits > 0)
          process.exitCode = 1;
      },
    );
}
