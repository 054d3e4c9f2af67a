/**
 * MineSweeper as a text environment (docs/method.md §6.2, §6.5). The first click is automatic at reset and derived
 * from the task seed. Rewards: invalid/out-of-range/no-change click -1 (option `wastedClickReward`; episode goes
 * on), a reveal changing one cell +0.5, more than one +2, the reveal that clears the board +10 (won), a mine -0.1
 * (terminated, lost).
 * No step limit: the number of turns is the trial runner's concern.
 */
import { z } from 'zod';
import { LamerError, badInput } from '../../../shared/errors.js';
import { COMPACT_MAX_NUMBER } from '../compact.js';
import { checkSeed, intIn, parseEnvOptions, templateOption } from '../options.js';
import type { StepResult, Template, TextEnv } from '../types.js';
import {
  cloneMineState,
  createBoard,
  emptyState,
  generateBoard,
  isWon,
  renderMines,
  reveal,
  type MineBoard,
  type MineState,
} from './board.js';
import { clickText, parseMineAction } from './parse.js';

export const MINESWEEPER_ID = 'lamer/MineSweeper-v0';

/** Largest board the compact template accepts (bigger boards do not fit a small model's context anyway). */
export const COMPACT_MAX_SIZE = 16;

const Pair = z.tuple([z.number().int(), z.number().int()]);

export const MineSweeperOptionsSchema = z.strictObject({
  template: templateOption.describe('prompt/response template'),
  size: intIn(2, 30).default(6).describe('board is size x size'),
  mines: intIn(1, 898).default(3).describe('number of mines (random boards)'),
  board: z
    .strictObject({
      mines: z.array(Pair).describe('mine cells [row, col], 1-indexed'),
      firstClick: Pair.describe('the automatic first click [row, col], 1-indexed'),
    })
    .optional()
    .describe('explicit board; reset() then ignores the seed'),
  // The embedded model does not read `mine r c` inside the memory block (it re-opened the fatal cell as often as
  // with no memory); the same fact written on the cell it names is read. Only the policy's own reflection is drawn.
  wastedClickReward: z
    .number()
    .min(-10)
    .max(0)
    .default(-1)
    .describe('reward of a click that changes nothing (an open cell, out of range, unparsable); the reference: -1'),
  memoryOnBoard: z
    .boolean()
    .default(true)
    .describe(
      "compact template: draw the cells the policy's own reflections name as mines onto the current board " +
        "(the word 'mine' on that unopened cell); the full template keeps text memory only",
    ),
});
export type MineSweeperOptions = z.input<typeof MineSweeperOptionsSchema>;

const R_ONE = 0.5;
const R_CASCADE = 2;
const R_WIN = 10;
const R_MINE = -0.1;

function badBoard(msg: string): LamerError {
  return new LamerError('RL_ERR_BAD_STATE', `malformed MineSweeper board: ${msg}`);
}

/** Validates an explicit board (1-indexed pairs) and builds it; errors name the offending cell. */
export function explicitBoard(
  size: number,
  mines: ReadonlyArray<readonly [number, number]>,
  firstClick: readonly [number, number],
): { board: MineBoard; firstClick: number } {
  const inside = ([r, c]: readonly [number, number]) => r >= 1 && r <= size && c >= 1 && c <= size;
  const cells: number[] = [];
  for (const m of mines) {
    if (!inside(m))
      throw badBoard(`mine [${m[0]}, ${m[1]}] is outside the ${size}x${size} board (rows and columns 1..${size})`);
    const cell = (m[0] - 1) * size + (m[1] - 1);
    if (cells.includes(cell)) throw badBoard(`mine [${m[0]}, ${m[1]}] is listed twice`);
    cells.push(cell);
  }
  if (cells.length === 0) throw badBoard('no mines');
  if (cells.length > size * size - 2)
    throw badBoard(`${cells.length} mines leave fewer than 2 safe cells on a ${size}x${size} board`);
  if (!inside(firstClick))
    throw badBoard(`firstClick [${firstClick[0]}, ${firstClick[1]}] is outside the ${size}x${size} board`);
  const first = (firstClick[0] - 1) * size + (firstClick[1] - 1);
  if (cells.includes(first)) throw badBoard(`firstClick [${firstClick[0]}, ${firstClick[1]}] is a mine`);
  const board = createBoard(size, cells);
  const s = emptyState(board);
  reveal(board, s, first);
  if (isWon(board, s)) throw badBoard(`firstClick [${firstClick[0]}, ${firstClick[1]}] already clears the whole board`);
  return { board, firstClick: first };
}

export class MineSweeperEnv implements TextEnv {
  readonly id = MINESWEEPER_ID;
  readonly template: Template;
  readonly params: Readonly<{
    template: Template;
    size: number;
    mines: number;
    explicit: boolean;
    memoryOnBoard: boolean;
  }>;
  private readonly explicit?: { board: MineBoard; firstClick: number };
  private readonly wastedReward: number;
  private board?: MineBoard;
  private initial?: MineState;
  private state?: MineState;
  private firstClick = -1;
  private seed = -1;
  private turns = 0;
  private ret = 0;
  private over = true;
  private closed = false;

  constructor(options: MineSweeperOptions = {}) {
    const o = parseEnvOptions(MINESWEEPER_ID, MineSweeperOptionsSchema, options);
    const raw = (options ?? {}) as Record<string, unknown>;
    if (o.board) {
      if (raw.mines !== undefined)
        throw badInput(`${MINESWEEPER_ID}: pass either 'mines' (a count) or 'board', not both`);
      this.explicit = explicitBoard(
        o.size,
        o.board.mines as Array<[number, number]>,
        o.board.firstClick as [number, number],
      );
    } else if (o.mines > o.size * o.size - 2) {
      throw badInput(
        `${MINESWEEPER_ID}: option 'mines' (${o.mines}) must leave at least 2 safe cells ` +
          `on a ${o.size}x${o.size} board`,
      );
    }
    const mines = this.explicit ? this.explicit.board.nMines : o.mines;
    if (o.template === 'compact' && o.size > COMPACT_MAX_SIZE) {
      throw badInput(
        `${MINESWEEPER_ID}: the compact template supports boards up to ${COMPACT_MAX_SIZE}x${COMPACT_MAX_SIZE}, ` +
          `got size ${o.size}`,
      );
    }
    if (o.template === 'compact' && mines > COMPACT_MAX_NUMBER) {
      throw badInput(
        `${MINESWEEPER_ID}: the compact template states the mine count as a number word ` +
          `(max ${COMPACT_MAX_NUMBER}), got ${mines} mines`,
      );
    }
    this.template = o.template;
    this.wastedReward = o.wastedClickReward;
    this.params = Object.freeze({
      template: o.template,
      size: o.size,
      mines,
      explicit: this.explicit !== undefined,
      memoryOnBoard: o.memoryOnBoard,
    });
  }

  reset(opts: { seed: number }): { obs: string; info: Record<string, unknown> } {
    this.ensureOpen();
    const seed = checkSeed(this.id, opts?.seed);
    const g = this.explicit ?? generateBoard(seed, this.params.size, this.params.mines);
    this.board = g.board;
    this.firstClick = g.firstClick;
    const s = emptyState(g.board);
    reveal(g.board, s, g.firstClick);
    this.initial = s;
    this.seed = seed;
    return this.restart();
  }

  restart(): { obs: string; info: Record<string, unknown> } {
    this.ensureOpen();
    if (!this.board || !this.initial) throw notReset();
    this.state = cloneMineState(this.initial);
    this.turns = 0;
    this.ret = 0;
    this.over = false;
    const size = this.board.size;
    return {
      obs: this.render(),
      info: {
        won: false,
        seed: this.seed,
        firstClick: [Math.floor(this.firstClick / size) + 1, (this.firstClick % size) + 1],
      },
    };
  }

  step(response: string): StepResult {
    this.ensureOpen();
    if (!this.board || !this.state) throw notReset();
    if (this.over)
      throw new LamerError('RL_ERR_INTERNAL', `${this.id}: step() after the episode ended; call restart() or reset()`);
    const board = this.board;
    const state = this.state;
    const size = board.size;
    const click = parseMineAction(String(response), this.template);
    let reward = this.wastedReward;
    let won = false;
    let lost = false;
    let changed = 0;
    if (click.valid && click.row >= 1 && click.row <= size && click.col >= 1 && click.col <= size) {
      const cell = (click.row - 1) * size + (click.col - 1);
      if (!state.revealed[cell]) {
        if (board.mine[cell]) {
          state.exploded = cell;
          lost = true;
          reward = R_MINE;
        } else {
          changed = reveal(board, state, cell);
          if (isWon(board, state)) {
            won = true;
            reward = R_WIN;
          } else {
            reward = changed === 1 ? R_ONE : R_CASCADE;
          }
        }
      }
    }
    this.turns++;
    this.ret = Math.round((this.ret + reward) * 1e6) / 1e6;
    this.over = won || lost;
    return {
      obs: this.render(),
      reward,
      terminated: this.over,
      truncated: false,
      info: {
        won,
        valid: click.valid,
        actionText: clickText(click),
        lost,
        revealed: changed,
        ...(this.over ? { episode: { r: this.ret, l: this.turns } } : {}),
      },
    };
  }

  anchor(): string {
    return this.render();
  }

  render(): string {
    if (!this.board || !this.state) throw notReset();
    return renderMines(this.board, this.state);
  }

  close(): void {
    this.closed = true;
  }

  get episodeOver(): boolean {
    return this.over;
  }

  /** Read-only view for scripted policies, checkers and tests. */
  snapshot(): { board: MineBoard; state: MineState; firstClick: number } {
    if (!this.board || !this.state) throw notReset();
    return { board: this.board, state: cloneMineState(this.state), firstClick: this.firstClick };
  }

  private ensureOpen(): void {
    if (this.closed) throw new LamerError('RL_ERR_INTERNAL', `${this.id}: env is closed`);
  }
}

function notReset(): LamerError {
  return new LamerError('RL_ERR_INTERNAL', `${MINESWEEPER_ID}: call reset({ seed }) first`);
}

/** Explicit-state construction from `{size, mines, firstClick}` (1-indexed), already reset. */
export function minesweeperFromLayout(
  layout: { size: number; mines: Array<[number, number]>; firstClick: [number, number] },
  options: Omit<MineSweeperOptions, 'board' | 'size' | 'mines'> = {},
): MineSweeperEnv {
  const env = new MineSweeperEnv({
    ...options,
    size: layout.size,
    board: { mines: layout.mines, firstClick: layout.firstClick },
  });
  env.reset({ seed: 0 });
  return env;
}
