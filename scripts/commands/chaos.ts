/**
 * `lamer chaos` — a Jepsen-style fault run against real learner and actor processes (scripts/chaos/driver.ts),
 * or with `--soak` a fault-free run that samples memory and reports the RSS slope per process (scripts/chaos/soak.ts).
 * Progress goes to stderr; the last stdout line is the JSON summary. Exit code 1 when an invariant is violated.
 */
import type { Command } from 'commander';
import { badInput } from '../../shared/errors.js';
import { collect, parseIntOption, printJson } from '../lib/io.js';

function parseMinutes(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw badInput(`option --minutes must be a number > 0, got '${v}'`);
  return n;
}

export function register(program: Command): void {
  program
    .command('chaos')
    .description(
      'kill, pause and partition real learner/actor processes while they train; check nothing is lost or duplicated',
    )
    .option('--json', 'print only the JSON summary on stdout')
    .option('--minutes <m>', 'total run time (faults stop --quiet seconds before the end)', parseMinutes, 3)
    .option('--kills <k>', 'actor SIGKILLs', parseIntOption('kills', 0), 30)
    .option(
      '--learner-kills <k>',
      'learner SIGKILLs (during a checkpoint write, after corrupting the newest checkpoint, plain; cycling)',
      parseIntOption('learner-kills', 0),
      4,
    )
    .option(
      '--stops <k>',
      'SIGSTOP/SIGCONT pauses of 2-4 s (actor and learner alternately)',
      parseIntOption('stops', 0),
      4,
    )
    .option(
      '--net-faults <k>',
      'with --netns: partitions, 20% loss and TCP resets of 2-5 s',
      parseIntOption('net-faults', 0),
      6,
    )
    .option('--actors <n>', 'actor processes', parseIntOption('actors', 1), 3)
    .option('--seed <s>', 'seed of the fault schedule and the run', parseIntOption('seed', 0), 1)
    .option('--quiet <seconds>', 'fault-free tail so the run ends normally', parseIntOption('quiet', 5), 30)
    .option(
      '--netns',
      'run actors and learner in separate network namespaces and inject network faults (root; ip, iptables, nft)',
    )
    .option('--dir <dir>', 'work directory (default: a new temp directory; kept, its path is in the summary)')
    .option('--set <key=value>', 'extra learner config override (repeatable)', collect)
    .option('--soak', 'no faults: train and sample RSS every --sample seconds, report the RSS slope per process')
    .option('--sample <seconds>', 'soak: RSS sampling interval', parseIntOption('sample', 1), 5)
    .action(
      async (o: {
        json?: boolean;
        minutes: number;
        kills: number;
        learnerKills: number;
        stops: number;
        netFaults: number;
        actors: number;
        seed: number;
        quiet: number;
        netns?: boolean;
        dir?: string;
        set?: string[];
        soak?: boolean;
        sample: number;
      }) => {
        const say = (line: string) => process.stderr.write(line + '\n');
        // Exit through process.exit so the 'exit' hooks kill the children and delete the namespaces.
        for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
        if (o.soak) {
          const { runSoak } = await import('../chaos/soak.js');
          const r = await runSoak({
            minutes: o.minutes,
            actors: o.actors,
            seed: o.seed,
            sampleSec: o.sample,
            dir: o.dir,
            set: o.set,
            say,
          });
          if (!o.json)
            for (const p of r.processes)
              say(
                `soak ${p.role}: RSS ${p.firstMB} -> ${p.lastMB} MB ` +
                  `(max ${p.maxMB}), slope ${p.slopeMBPerHour.toFixed(1)} ` +
                  `± ${p.slopeStderrMBPerHour.toFixed(1)} MB/h over the second half`,
              );
          printJson(r);
          return;
        }
        const { runChaos } = await import('../chaos/driver.js');
        const r = await runChaos({
          minutes: o.minutes,
          actorKills: o.kills,
          learnerKills: o.learnerKills,
          stops: o.stops,
          netFaults: o.netFaults,
          actors: o.actors,
          seed: o.seed,
          netns: !!o.netns,
          quietSec: o.quiet,
          dir: o.dir,
          set: o.set,
          say,
        });
        if (!o.json) {
          say(
            `completed ${r.completed}  committed ${r.committed}  lost ${r.lost}  duplicated ${r.duplicated}  ` +
              `indeterminate ${r.indeterminate}  rejected ${r.rejected}  pending ${r.pending}`,
          );
          say(
            `actor kills ${r.actorKills}  learner kills ${r.learnerKills}  ` +
              `version mismatches ${r.versionMismatches}  optimizer ` +
              `restored ${r.optimizerRestored}/${r.learnerKills}  corrupt fallbacks ${r.corruptFallbacks}`,
          );
          say(`${r.ok ? 'OK' : 'VIOLATION'}; report: ${r.dir}/report.json`);
        }
        printJson(r);
        if (!r.ok) process.exitCode = 1;
      },
    );
}
