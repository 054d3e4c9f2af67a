/**
 * Sokoban board model: a static level (walls, targets) plus a dynamic state (player, boxes), the reference's
 * text rendering (rows numbered from 0, docs/method.md §6.5) and its inverse (explicit-state construction).
 */
import { LamerError } from '../../../shared/errors.js';

/** Move words in the reference's action order (gym actions 1..4). */
export const MOVES = ['up', 'down', 'left', 'right'] as const;
export type Move = (typeof MOVES)[number];

/** Rendering symbols (docs/method.md §6.1). */
export const SYMBOLS = {
  wall: '#',
  floor: '_',
  target: 'O',
  boxOnTarget: '√',
  box: 'X',
  player: 'P',
  playerOnTarget: 'S',
} as const;

/** The immovable part of a room. Cells are indexed `row * cols + col`. */
export interface SokobanLevel {
  readonly rows: number;
  readonly cols: number;
  /** 1 where a wall is. */
  readonly wall: Uint8Array;
  /** 1 where a box target is. */
  readonly target: Uint8Array;
  readonly targetCells: readonly number[];
  /** neighbour[cell * 4 + dir] = the adjacent cell in MOVES order, or -1 outside the room. */
  readonly neighbour: Int32Array;
}

/** The movable part. `boxes` is kept sorted ascending so equal states compare equal. */
export interface SokobanState {
  player: number;
  boxes: number[];
}

export function createLevel(rows: number, cols: number, wall: Uint8Array, target: Uint8Array): SokobanLevel {
  const cells = rows * cols;
  const neighbour = new Int32Array(cells * 4);
  for (let c = 0; c < cells; c++) {
    const r = Math.floor(c / cols);
    const k = c % cols;
    neighbour[c * 4] = r > 0 ? c - cols : -1;
    neighbour[c * 4 + 1] = r < rows - 1 ? c + cols : -1;
    neighbour[c * 4 + 2] = k > 0 ? c - 1 : -1;
    neighbour[c * 4 + 3] = k < cols - 1 ? c + 1 : -1;
  }
  const targetCells: number[] = [];
  for (let c = 0; c < cells; c++) if (target[c]) targetCells.push(c);
  return { rows, cols, wall, target, targetCells, neighbour };
}

export function cloneState(s: SokobanState): SokobanState {
  return { player: s.player, boxes: s.boxes.slice() };
}

export function boxesOnTarget(level: SokobanLevel, boxes: readonly number[]): number {
  let n = 0;
  for (const b of boxes) n += level.target[b];
  return n;
}

/** The reference's `text_with_row_numbers` rendering: `0: # # # # # #` ... rows joined by newlines. */
export function renderBoard(level: SokobanLevel, state: SokobanState): string {
  const { rows, cols, wall, target } = level;
  const box = new Uint8Array(rows * cols);
  for (const b of state.boxes) box[b] = 1;
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    let line = `${r}:`;
    for (let k = 0; k < cols; k++) {
      const c = r * cols + k;
      let s: string;
      if (wall[c]) s = SYMBOLS.wall;
      else if (c === state.player) s = target[c] ? SYMBOLS.playerOnTarget : SYMBOLS.player;
      else if (box[c]) s = target[c] ? SYMBOLS.boxOnTarget : SYMBOLS.box;
      else s = target[c] ? SYMBOLS.target : SYMBOLS.floor;
      line += ' ' + s;
    }
    lines.push(line);
  }
  return lines.join('\n');
}

function badBoard(msg: string): LamerError {
  return new LamerError('RL_ERR_BAD_STATE', `malformed Sokoban board: ${msg}`);
}

/**
 * Parses a board as the env renders it (the `N:` row prefixes are optional). Cells outside the board count as
 * walls. Throws RL_ERR_BAD_STATE naming the problem (unknown symbol, ragged rows, player or box/target counts).
 */
export function parseBoard(text: string): { level: SokobanLevel; state: SokobanState } {
  if (typeof text !== 'string') throw badBoard('board must be a string');
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines.length === 0) throw badBoard('board is empty');
  const grid: string[][] = lines.map((line, i) => {
    const m = /^(\d+):\s*(.*)$/.exec(line);
    if (m && Number(m[1]) !== i) throw badBoard(`row label ${m[1]} on line ${i + 1}, expected ${i}`);
    const body = m ? m[2] : line;
    return body.split(/\s+/).filter((s) => s.length > 0);
  });
  const cols = grid[0].length;
  if (cols === 0) throw badBoard('row 0 has no cells');
  grid.forEach((row, r) => {
    if (row.length !== cols) throw badBoard(`row ${r} has ${row.length} cells, expected ${cols}`);
  });
  const rows = grid.length;
  if (rows < 3 || cols < 3) throw badBoard(`board is ${rows}x${cols}, at least 3x3 needed`);
  const wall = new Uint8Array(rows * cols);
  const target = new Uint8Array(rows * cols);
  const boxes: number[] = [];
  const players: number[] = [];
  const known = new Set<string>(Object.values(SYMBOLS));
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const s = grid[r][k];
      const c = r * cols + k;
      if (!known.has(s)) {
        throw badBoard(`unknown symbol '${s}' at row ${r}, column ${k} (allowed: ${[...known].join(' ')})`);
      }
      if (s === SYMBOLS.wall) wall[c] = 1;
      if (s === SYMBOLS.target || s === SYMBOLS.boxOnTarget || s === SYMBOLS.playerOnTarget) target[c] = 1;
      if (s === SYMBOLS.box || s === SYMBOLS.boxOnTarget) boxes.push(c);
      if (s === SYMBOLS.player || s === SYMBOLS.playerOnTarget) players.push(c);
    }
  }
  if (players.length !== 1) throw badBoard(`expected exactly one player (P or S), found ${players.length}`);
  const nTargets = target.reduce((a, b) => a + b, 0);
  if (boxes.length === 0) throw badBoard('no boxes (X or √)');
  if (boxes.length !== nTargets) throw badBoard(`${boxes.length} boxes but ${nTargets} targets; they must match`);
  return {
    level: createLevel(rows, cols, wall, target),
    state: { player: players[0], boxes: boxes.sort((a, b) => a - b) },
  };
}

/**
 * Applies one primitive move in place (gym_sokoban push semantics). Returns whether the state changed; a move
 * into a wall or a push against a wall, another box or the border leaves it unchanged.
 */
export function applyMove(level: SokobanLevel, state: SokobanState, dir: number): boolean {
  const next = level.neighbour[state.player * 4 + dir];
  if (next < 0 || level.wall[next]) return false;
  const bi = state.boxes.indexOf(next);
  if (bi >= 0) {
    const beyond = level.neighbour[next * 4 + dir];
    if (beyond < 0 || level.wall[beyond] || state.boxes.includes(beyond)) return false;
    state.boxes[bi] = beyond;
    state.boxes.sort((a, b) => a - b);
  }
  state.player = next;
  return true;
}
