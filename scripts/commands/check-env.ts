/**
 * `lamer check-env --env ID --episodes N [--json]`: runs the env checker (determinism, exact restart, reward and
 * termination rules against a replayed scripted solution) and reports solver/random success and speed.
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('check-env')
    .description('check an environment over N seeds: determinism, restart, rules; solver/random success; steps/s')
    .requiredOption('--env <id>', 'environment id or alias (sokoban, minesweeper, webshop, alfworld)')
    .option('--episodes <n>', 'number of seeds to check', '1000')
    .option('--seed-start <n>', 'first seed', '0')
    .option('--max-turns <n>', 'turn budget for the ...WithinTurns success numbers', '7')
    .option('--options <json>', 'env options as JSON, e.g. \'{"template":"compact","mines":5}\'', '{}')
    .option(
      '--json',
      'print one JSON object: {deterministic, restartExact, rulesConsistent, ' +
        'solverSuccess, randomSuccess, meanSolutionLength, stepsPerSec, ...}',
    )
    .action(
      async (opts: {
        env: string;
        episodes: string;
        seedStart: string;
        maxTurns: string;
        options: string;
        json?: boolean;
      }) => {
        const { printJson, parseIntOption } = await import('../lib/io.js');
        const { badInput } = await import('../../shared/errors.js');
        const { checkEnv } = await import('../../actor/envs/check-env.js');
        const episodes = parseIntOption('episodes', 1)(opts.episodes);
        const seedStart = parseIntOption('seed-start', 0)(opts.seedStart);
        const maxTurns = parseIntOption('max-turns', 1)(opts.maxTurns);
        let options: unknown;
        try {
          options = JSON.parse(opts.options);
        } catch (e) {
          throw badInput(`option --options is not valid JSON: ${(e as Error).message}`);
        }
        if (typeof options !== 'object' || options === null || Array.isArray(options))
          throw badInput('option --options must be a JSON object');
        // Rates and means to 3 decimals: more digits are noise at these sample sizes.
        const report = roundFloats(
          checkEnv(opts.env, { episodes, seedStart, maxTurns, options: options as Record<string, unknown> }),
        );
        if (opts.json) printJson(report);
        else {
          const lines = Object.entries(report).map(
            ([k, v]) =>
              `${k.padEnd(26)} ${Array.isArray(v) ? (v.length ? v.join('\n' + ' '.repeat(27)) : '-') : String(v)}`,
          );
          process.stdout.write(lines.join('\n') + '\n');
        }
        if (!report.ok) process.exitCode = 1;
      },
    );
}

/** Non-integer numbers rounded to 3 decimals, recursively (integers and strings untouched). */
export function roundFloats<T>(v: T): T {
  if (typeof v === 'number') return (Number.isInteger(v) || !Number.isFinite(v) ? v : Number(v.toFixed(3))) as T;
  if (Array.isArray(v)) return v.map(roundFloats) as T;
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, roundFloats(x)])) as T;
  return v;
}
