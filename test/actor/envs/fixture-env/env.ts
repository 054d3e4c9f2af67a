/**
 * A tiny test env, `test/Line-v0`: walk a one-row line to the goal. It exists to show that a new env is one folder
 * (this env and its spec.ts) plus one `registerEnv` call, and that such an env passes the same checks and runs
 * through the same trial path as the real ones (test/actor/envs/new-env.test.ts).
 *
 * The row is `_ _ P _ G` (player `P`, goal `G`; `*` once the player stands on the goal). Each turn moves one cell:
 * `left` or `right` (full: `<action>right</action>`; compact: `right </action>`). Every move costs -0.1 (also an
 * invalid reply or a move into the end of the line); reaching the goal pays +1 instead and terminates; the move
 * limit truncates. The seed fixes where the player starts and on which end the goal lies.
 */
import { z } from 'zod';
import { LamerError } from '../../../../shared/errors.js';
import { createRng, deriveSeed } from '../../../../shared/rng.js';
import { checkSeed, intIn, parseEnvOptions, templateOption } from '../../../../actor/envs/options.js';
import { between, compactWords } from '../../../../actor/envs/tags.js';
import type { StepResult, Template, TextEnv } from '../../../../actor/envs/types.js';

export const LINE_ID = 'test/Line-v0';
export const LINE_MOVES = ['left', 'right'] as const;

const LineOptions = z.strictObject({
  template: templateOption,
  length: intIn(3, 12).default(6),
  maxMoves: intIn(1, 100).default(8),
});

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export class LineEnv implements TextEnv {
  readonly id: string = LINE_ID;
  readonly template: Template;
  readonly params: Readonly<{ template: Template; length: number; maxMoves: number }>;
  private start = 0;
  private goal = 0;
  private at = 0;
  private moves = 0;
  private ret = 0;
  private over = true;

  constructor(options: Record<string, unknown> = {}) {
    this.params = parseEnvOptions(LINE_ID, LineOptions, options);
    this.template = this.params.template;
  }

  reset(opts: { seed: number }) {
    const seed = checkSeed(LINE_ID, opts.seed);
    const rng = createRng(deriveSeed('line', seed));
    const n = this.params.length;
    this.goal = rng.next() < 0.5 ? 0 : n - 1;
    // Anywhere but on the goal.
    this.start = this.goal === 0 ? 1 + rng.int(n - 1) : rng.int(n - 1);
    return this.restart();
  }

  restart() {
    this.at = this.start;
    this.moves = 0;
    this.ret = 0;
    this.over = false;
    return { obs: this.render(), info: { distance: Math.abs(this.goal - this.start) } };
  }

  step(response: string): StepResult {
    if (this.over) throw new LamerError('RL_ERR_BAD_INPUT', `${LINE_ID}: step() after the episode ended`);
    const word =
      this.template === 'compact'
        ? (compactWords(response, '</action>') ?? []).join(' ')
        : (between(response, '<action>', '</action>', 'first', 'first') ?? '').trim().toLowerCase();
    const valid = (LINE_MOVES as readonly string[]).includes(word);
    if (valid) this.at = Math.min(this.params.length - 1, Math.max(0, this.at + (word === 'left' ? -1 : 1)));
    this.moves++;
    const won = this.at === this.goal;
    const reward = won ? 1 : -0.1;
    this.ret = round(this.ret + reward);
    const truncated = !won && this.moves >= this.params.maxMoves;
    this.over = won || truncated;
    return {
      obs: this.render(),
      reward,
      terminated: won,
      truncated,
      info: {
        won,
        valid,
        actionText: valid ? word : 'invalid',
        ...(this.over ? { episode: { r: this.ret, l: this.moves } } : {}),
      },
    };
  }

  anchor(): string {
    return this.render();
  }

  render(): string {
    return Array.from({ length: this.params.length }, (_, i) =>
      i === this.at ? (i === this.goal ? '*' : 'P') : i === this.goal ? 'G' : '_',
    ).join(' ');
  }

  close(): void {}
}
