/**
 * MineSweeper board model (docs/method.md §6.2, §6.5): hidden mines, neighbour counts incl. diagonals, flood-fill
 * reveal, the automatic first click, and the `Row r: ...` rendering (rows from 1).
 */
import { LamerError } from '../../../shared/errors.js';
import { createRng, deriveSeed } from '../../../shared/rng.js';

export const CELL = { hidden: '?', blank: '.', mine: '*' } as const;

/** Static part: where the mines are. Cells are `row * size + col`, 0-indexed internally. */
export interface MineBoard {
  readonly size: number;
  readonly mine: Uint8Array;
  /** Mines among the 8 neighbours of each cell. */
  readonly count: Uint8Array;
  readonly nMines: number;
  /** neighbours[cell] = adjacent cells incl. diagonals. */
  readonly neighbours: ReadonlyArray<readonly number[]>;
}

export interface MineState {
  revealed: Uint8Array;
  revealedCount: number;
  /** The clicked mine after a loss, else -1. */
  exploded: number;
}

export function createBoard(size: number, mineCells: readonly number[]): MineBoard {
  const n = size * size;
  const mine = new Uint8Array(n);
  for (const m of mineCells) mine[m] = 1;
  const neighbours: number[][] = [];
  const count = new Uint8Array(n);
  for (let c = 0; c < n; c++) {
    const r = Math.floor(c / size);
    const k = c % size;
    const list: number[] = [];
    for (let dr = -1; dr <= 1; dr++) {
      for (let dk = -1; dk <= 1; dk++) {
        if (dr === 0 && dk === 0) continue;
        const rr = r + dr;
        const kk = k + dk;
        if (rr >= 0 && rr < size && kk >= 0 && kk < size) list.push(rr * size + kk);
      }
    }
    neighbours.push(list);
    for (const x of list) count[c] += mine[x];
  }
  return { size, mine, count, nMines: mineCells.length, neighbours };
}

export function emptyState(board: MineBoard): MineState {
  return { revealed: new Uint8Array(board.size * board.size), revealedCount: 0, exploded: -1 };
}

export function cloneMineState(s: MineState): MineState {
  return { revealed: s.revealed.slice(), revealedCount: s.revealedCount, exploded: s.exploded };
}

/**
 * Reveals a hidden safe cell in place; a blank (count 0) cascades to all 8 neighbours, recursively.
 * Returns the number of cells that changed.
 */
export function reveal(board: MineBoard, state: MineState, cell: number): number {
  if (state.revealed[cell] || board.mine[cell]) return 0;
  let changed = 0;
  const stack = [cell];
  state.revealed[cell] = 1;
  while (stack.length > 0) {
    const c = stack.pop() as number;
    changed++;
    if (board.count[c] !== 0) continue;
    for (const n of board.neighbours[c]) {
      if (!state.revealed[n] && !board.mine[n]) {
        state.revealed[n] = 1;
        stack.push(n);
      }
    }
  }
  state.revealedCount += changed;
  return changed;
}

export function isWon(board: MineBoard, state: MineState): boolean {
  return state.exploded < 0 && state.revealedCount === board.size * board.size - board.nMines;
}

/** Symbol of one cell as the player sees it. */
export function cellSymbol(board: MineBoard, state: MineState, c: number): string {
  if (c === state.exploded) return CELL.mine;
  if (!state.revealed[c]) return CELL.hidden;
  return board.count[c] === 0 ? CELL.blank : String(board.count[c]);
}

/** `Row 1: ? ? . 1 ? ?` ... one line per row; after a loss only the clicked mine shows `*`. */
export function renderMines(board: MineBoard, state: MineState): string {
  const lines: string[] = [];
  for (let r = 0; r < board.size; r++) {
    let line = `Row ${r + 1}:`;
    for (let k = 0; k < board.size; k++) line += ' ' + cellSymbol(board, state, r * board.size + k);
    lines.push(line);
  }
  return lines.join('\n');
}

/**
 * The task for a seed: first click and mines both derived from it (docs/method.md §9). Mines are the `nMines`
 * smallest of a uniform draw per cell, skipping the first click (the reference's numpy procedure). If the first
 * click already wins, other safe cells are tried in random order, mines unchanged.
 */
export function generateBoard(seed: number, size: number, nMines: number): { board: MineBoard; firstClick: number } {
  const cells = size * size;
  const clickRng = createRng(deriveSeed('minesweeper', 'firstClick', seed));
  const mineRng = createRng(deriveSeed('minesweeper', 'mines', seed));
  const first = clickRng.int(size) * size + clickRng.int(size);
  const draw = Array.from({ length: cells }, (_, c) => ({ c, u: mineRng.next() }));
  draw.sort((a, b) => a.u - b.u || a.c - b.c);
  const mines: number[] = [];
  for (const { c } of draw) {
    if (mines.length === nMines) break;
    if (c !== first) mines.push(c);
  }
  const board = createBoard(size, mines);
  const safe: number[] = [];
  for (let c = 0; c < cells; c++) if (!board.mine[c] && c !== first) safe.push(c);
  const order = [first, ...clickRng.shuffle(safe)];
  for (const c of order) {
    const s = emptyState(board);
    reveal(board, s, c);
    if (!isWon(board, s)) return { board, firstClick: c };
  }
  throw new LamerError(
    'RL_ERR_CONFIG',
    `MineSweeper ${size}x${size} with ${nMines} mines: every first click wins the board`,
  );
}
