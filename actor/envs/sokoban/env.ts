/**
 * Sokoban as a text environment (docs/method.md §6.1, §6.5, §9). Rewards per primitive move: -0.1, +1 box
 * onto a target, -1 box off a target, +10 when all boxes are placed. A turn may hold several moves: their rewards
 * are summed and the turn stops at the first terminal move (the reference returns only the last move's reward and
 * keeps moving after a win). Terminated: won, or a dead end (no solution reachable). Truncated: the move limit.
 */
import { z } from 'zod';
import { LamerError, badInput } from '../../../shared/errors.js';
import { checkSeed, intIn, parseEnvOptions, templateOption } from '../options.js';
import type { StepResult, Template, TextEnv } from '../types.js';
import {
  MOVES,
  applyMove,
  boxesOnTarget,
  cloneState,
  parseBoard,
  renderBoard,
  type SokobanLevel,
  type SokobanState,
} from './board.js';
import { generateLevel } from './generate.js';
import { parseSokobanAction } from './parse.js';
import { isSolvable, solveSokoban } from './solver.js';

export const SOKOBAN_ID = 'lamer/Sokoban-v0';

export const SokobanOptionsSchema = z.strictObject({
  template: templateOption.describe('prompt/response template'),
  size: z
    .union([intIn(4, 16), z.tuple([intIn(4, 16), intIn(4, 16)])])
    .default(6)
    .describe('room size: n for n x n, or [rows, cols]'),
  boxes: intIn(1, 8).default(2).describe('boxes (and targets)'),
  maxMoves: intIn(1, 10_000).default(30).describe('primitive moves per episode before truncation'),
  minSolution: intIn(1, 1000).default(5).describe('shortest accepted solution length of a generated level'),
  maxSolution: intIn(1, 1000).default(21).describe('longest accepted solution length of a generated level'),
  searchDepth: intIn(1, 1000).default(100).describe('depth of reverse play and of the solution BFS in generation'),
  movesPerTurn: intIn(1, 5).optional().describe('moves one turn may hold (default 3 full, 1 compact)'),
  board: z.string().optional().describe('explicit level as the env renders it; reset() then ignores the seed'),
});
export type SokobanOptions = z.input<typeof SokobanOptionsSchema>;

const STEP_PENALTY = -0.1;
const BOX_ON = 1;
const BOX_OFF = -1;
const FINISHED = 10;

/** Rounds away float noise from summing -0.1s, so rewards compare and serialise cleanly. */
const tidy = (x: number) => Math.round(x * 1e6) / 1e6;

export class SokobanEnv implements TextEnv {
  readonly id = SOKOBAN_ID;
  readonly template: Template;
  readonly params: Readonly<{
    template: Template;
    rows: number;
    cols: number;
    boxes: number;
    maxMoves: number;
    movesPerTurn: number;
    minSolution: number;
    maxSolution: number;
    searchDepth: number;
    explicit: boolean;
  }>;
  private readonly explicit?: { level: SokobanLevel; state: SokobanState };
  private level?: SokobanLevel;
  private initial?: SokobanState;
  private state?: SokobanState;
  private initialSolution: string[] | null = null;
  private seed = -1;
  private moves = 0;
  private turns = 0;
  private ret = 0;
  private over = true;
  private closed = false;

  constructor(options: SokobanOptions = {}) {
    const o = parseEnvOptions(SOKOBAN_ID, SokobanOptionsSchema, options);
    const raw = (options ?? {}) as Record<string, unknown>;
    if (o.board !== undefined && (raw.size !== undefined || raw.boxes !== undefined)) {
      throw badInput(`${SOKOBAN_ID}: option 'board' fixes the room; do not also pass 'size' or 'boxes'`);
    }
    if (o.minSolution > o.maxSolution) {
      throw badInput(`${SOKOBAN_ID}: option 'minSolution' (${o.minSolution}) exceeds 'maxSolution' (${o.maxSolution})`);
    }
    let rows: number;
    let cols: number;
    let boxes: number;
    if (o.board !== undefined) {
      this.explicit = parseBoard(o.board);
      rows = this.explicit.level.rows;
      cols = this.explicit.level.cols;
      boxes = this.explicit.state.boxes.length;
    } else {
      [rows, cols] = typeof o.size === 'number' ? [o.size, o.size] : o.size;
      boxes = o.boxes;
      const interior = (rows - 2) * (cols - 2);
      if (boxes + 1 >= interior) {
        throw badInput(`${SOKOBAN_ID}: ${boxes} boxes do not fit a ${rows}x${cols} room (${interior} interior cells)`);
      }
    }
    this.template = o.template;
    this.params = Object.freeze({
      template: o.template,
      rows,
      cols,
      boxes,
      maxMoves: o.maxMoves,
      movesPerTurn: o.movesPerTurn ?? (o.template === 'compact' ? 1 : 3),
      minSolution: o.minSolution,
      maxSolution: o.maxSolution,
      searchDepth: o.searchDepth,
      explicit: this.explicit !== undefined,
    });
  }

  reset(opts: { seed: number }): { obs: string; info: Record<string, unknown> } {
    this.ensureOpen();
    const seed = checkSeed(this.id, opts?.seed);
    if (this.explicit) {
      this.level = this.explicit.level;
      this.initial = cloneState(this.explicit.state);
      this.initialSolution = solveSokoban(this.level, this.initial, Math.max(this.params.searchDepth, 1000));
    } else {
      const p = this.params;
      const g = generateLevel(seed, {
        rows: p.rows,
        cols: p.cols,
        boxes: p.boxes,
        genSteps: Math.floor(1.7 * (p.rows + p.cols)),
        searchDepth: p.searchDepth,
        minSolution: p.minSolution,
        maxSolution: p.maxSolution,
      });
      this.level = g.level;
      this.initial = g.state;
      this.initialSolution = g.solution;
    }
    this.seed = seed;
    return this.restart();
  }

  restart(): { obs: string; info: Record<string, unknown> } {
    this.ensureOpen();
    if (!this.level || !this.initial) throw notReset();
    this.state = cloneState(this.initial);
    this.moves = 0;
    this.turns = 0;
    this.ret = 0;
    this.over = false;
    return {
      obs: this.render(),
      info: { won: false, seed: this.seed, solutionLength: this.initialSolution?.length ?? null },
    };
  }

  step(response: string): StepResult {
    this.ensureOpen();
    if (!this.level || !this.state) throw notReset();
    if (this.over)
      throw new LamerError('RL_ERR_INTERNAL', `${this.id}: step() after the episode ended; call restart() or reset()`);
    const level = this.level;
    const state = this.state;
    const nBoxes = state.boxes.length;
    const parsed = parseSokobanAction(String(response), this.template, this.params.movesPerTurn);
    const executed: string[] = [];
    let reward = 0;
    let won = false;
    let deadEnd = false;
    let truncated = false;
    for (const word of parsed.moves) {
      executed.push(word);
      if (word === 'still') {
        reward += STEP_PENALTY; // a no-op costs a step but is not counted as a move
        continue;
      }
      const before = boxesOnTarget(level, state.boxes);
      applyMove(level, state, MOVES.indexOf(word));
      this.moves++;
      const after = boxesOnTarget(level, state.boxes);
      reward += STEP_PENALTY + (after > before ? BOX_ON : after < before ? BOX_OFF : 0);
      if (after === nBoxes) {
        reward += FINISHED;
        won = true;
        break;
      }
      if (!isSolvable(level, state)) {
        deadEnd = true;
        break;
      }
      if (this.moves >= this.params.maxMoves) {
        truncated = true;
        break;
      }
    }
    reward = tidy(reward);
    this.turns++;
    this.ret = tidy(this.ret + reward);
    const terminated = won || deadEnd;
    this.over = terminated || truncated;
    return {
      obs: this.render(),
      reward,
      terminated,
      truncated,
      info: {
        won,
        valid: parsed.valid,
        actionText: executed.join(', '),
        deadEnd,
        moves: this.moves,
        boxesOnTarget: boxesOnTarget(level, state.boxes),
        ...(this.over ? { episode: { r: this.ret, l: this.turns } } : {}),
      },
    };
  }

  anchor(): string {
    return this.render();
  }

  render(): string {
    if (!this.level || !this.state) throw notReset();
    return renderBoard(this.level, this.state);
  }

  close(): void {
    this.closed = true;
  }

  /** True once the current episode ended (terminated or truncated). */
  get episodeOver(): boolean {
    return this.over;
  }

  /** Read-only view for scripted policies, checkers and tests. */
  snapshot(): {
    level: SokobanLevel;
    state: SokobanState;
    initial: SokobanState;
    moves: number;
    solution: string[] | null;
  } {
    if (!this.level || !this.state || !this.initial) throw notReset();
    return {
      level: this.level,
      state: cloneState(this.state),
      initial: cloneState(this.initial),
      moves: this.moves,
      solution: this.initialSolution ? this.initialSolution.slice() : null,
    };
  }

  private ensureOpen(): void {
    if (this.closed) throw new LamerError('RL_ERR_INTERNAL', `${this.id}: env is closed`);
  }
}

function notReset(): LamerError {
  return new LamerError('RL_ERR_INTERNAL', `${SOKOBAN_ID}: call reset({ seed }) first`);
}

/** Explicit-state construction: a Sokoban env fixed to `board` (as the env renders it), already reset. */
export function sokobanFromBoard(
  board: string,
  options: Omit<SokobanOptions, 'board' | 'size' | 'boxes'> = {},
): SokobanEnv {
  const env = new SokobanEnv({ ...options, board });
  env.reset({ seed: 0 });
  return env;
}
