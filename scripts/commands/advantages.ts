/**
 * `lamer advantages --in FILE [--json]`: returns and advantages of a recorded batch (an offline tool; other
 * tools rely on the JSON shape). Input and output shapes: README "Algorithms", shared/rl/input.ts.
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('advantages')
    .description('compute cross-episode returns and advantages (GiGPO/GRPO/RLOO) of a recorded batch')
    .requiredOption(
      '--in <file>',
      'JSON file: {"options": {...}, "groups": [{"groupId", "trials": [{"trialId", "rows": [...]}]}]}',
    )
    .option(
      '--json',
      'print {"groups": [{"groupId", "trials": [{"trialId", ' +
        '"rows": [{"G", "episodeReward", "advantage"}]}]}]} on stdout',
    )
    .action(async (opts: { in: string; json?: boolean }) => {
      const { readJsonFile, printJson } = await import('../lib/io.js');
      const { parseAdvantagesInput } = await import('../../shared/rl/input.js');
      const { computeAdvantages } = await import('../../shared/rl/advantages.js');
      const { ESTIMATORS } = await import('../../shared/rl/estimators/index.js');
      const input = parseAdvantagesInput(readJsonFile(opts.in, 'advantages input'), `'${opts.in}'`);
      const groups = computeAdvantages(input.groups, input.options);
      if (opts.json) {
        printJson({ groups });
        return;
      }
      const o = input.options;
      const lines = [
        `estimator ${o.estimator}  norm ${o.norm}  returns ${o.returns}  gammaStep ${o.gammaStep}  ` +
          `gammaTraj ${o.gammaTraj}  omega ${o.omega}  invalidPenalty ${o.invalidPenalty}` +
          (ESTIMATORS[o.estimator].critic ? `  gaeLambda ${o.gaeLambda}` : ''),
      ];
      lines.push(['group', 'trial', 'row', 'phase', 'ep', 'turn', 'G', 'episodeReward', 'advantage'].join('\t'));
      groups.forEach((g, gi) =>
        g.trials.forEach((t, ti) =>
          t.rows.forEach((r, ri) => {
            const row = input.groups[gi].trials[ti].rows[ri];
            lines.push(
              [
                g.groupId,
                t.trialId,
                ri,
                row.phase,
                row.episode,
                row.turn,
                r.G.toFixed(4),
                r.episodeReward.toFixed(4),
                r.advantage.toFixed(4),
              ].join('\t'),
            );
          }),
        ),
      );
      process.stdout.write(lines.join('\n') + '\n');
    });
}
