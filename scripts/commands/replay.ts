/**
 * `lamer replay --env sokoban|minesweeper --state FILE [--json]`: replays actions from an explicit state.
 * FILE: sokoban `{"board": "<rendered board>", "actions": ["up", "left, down", ...]}`; minesweeper
 * `{"size": 6, "mines": [[r, c], ...], "firstClick": [r, c], "actions": ["(2, 3)", ...]}` (1-indexed); webshop/alfworld
 * `{"seed": S, "options": {...}?, "actions": ["search[red shirt]", "click[buy now]"] | ["go to fridge 1", ...]}`.
 * JSON output:
 * `{"initial", "steps": [{"action", "reward", "terminated", "truncated", "won", "valid", "observation"}]}`.
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('replay')
    .description(
      'replay actions on an explicit Sokoban board or MineSweeper layout, ' +
        'or a WebShop/ALFWorld task seed, and show every step',
    )
    .requiredOption('--env <id>', 'environment id or alias (sokoban, minesweeper, webshop, alfworld)')
    .requiredOption(
      '--state <file>',
      'JSON state file with the board/layout and "actions" (each what goes inside <action>)',
    )
    .option(
      '--json',
      'print {"initial", "steps": [{"action", "reward", "terminated", "truncated", "won", "valid", "observation"}]}',
    )
    .action(async (opts: { env: string; state: string; json?: boolean }) => {
      const { readJsonFile, printJson } = await import('../lib/io.js');
      const { replayActions } = await import('../../actor/envs/replay.js');
      const result = replayActions(opts.env, readJsonFile(opts.state, 'state file'), `state file '${opts.state}'`);
      if (opts.json) {
        printJson(result);
        return;
      }
      const lines = ['initial:', result.initial];
      result.steps.forEach((s, i) => {
        const flags = [
          s.valid ? 'valid' : 'INVALID',
          s.won ? 'won' : '',
          s.terminated ? 'terminated' : '',
          s.truncated ? 'truncated' : '',
        ]
          .filter(Boolean)
          .join(' ');
        lines.push('', `step ${i + 1}: ${s.action}  reward ${s.reward}  ${flags}`, s.observation);
      });
      process.stdout.write(lines.join('\n') + '\n');
    });
}
