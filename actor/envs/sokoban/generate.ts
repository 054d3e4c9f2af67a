/**
 * Seeded Sokoban level generation following the reference procedure (gym_sokoban as patched by LaMer,
 * docs/method.md §6.1): random-walk room topology, player and boxes on targets, reverse play (the player pulls
 * boxes away; the state maximising box swaps x displacement wins), up to 3 random extra player moves, and
 * acceptance only when the BFS shortest solution has between `minSolution` and `maxSolution` moves.
 * Python's `random` + numpy streams are replaced by one seeded stream per attempt, so levels differ from the
 * reference's but come from the same distribution of procedures.
 */
import { LamerError } from '../../../shared/errors.js';
import { createRng, deriveSeed, type Rng } from '../../../shared/rng.js';
import { createLevel, type Move, type SokobanLevel, type SokobanState } from './board.js';
import { solveSokoban } from './solver.js';

export interface GenerateOptions {
  rows: number;
  cols: number;
  boxes: number;
  /** Random-walk steps; the reference uses int(1.7 * (rows + cols)). */
  genSteps: number;
  /** Depth limit of reverse play and of the BFS solution check (reference: 100). */
  searchDepth: number;
  minSolution: number;
  maxSolution: number;
}

export interface GeneratedLevel {
  level: SokobanLevel;
  state: SokobanState;
  /** A shortest solution from `state`. */
  solution: Move[];
  /** Attempt index that produced it (0 = first draw). */
  attempt: number;
}

/** Reference cap on accepted draws before giving up; we keep drawing with derived seeds instead (see below). */
const MAX_ATTEMPTS = 500;
const REVERSE_STATE_CAP = 300_000;
// up, down, left, right as (dRow, dCol)
const DELTAS: ReadonlyArray<readonly [number, number]> = [
  [-1, 0],
  [1, 0],
  [0, -1],
  [0, 1],
];
const MASKS: ReadonlyArray<ReadonlyArray<readonly number[]>> = [
  [
    [0, 0, 0],
    [1, 1, 1],
    [0, 0, 0],
  ],
  [
    [0, 1, 0],
    [0, 1, 0],
    [0, 1, 0],
  ],
  [
    [0, 0, 0],
    [1, 1, 0],
    [0, 1, 0],
  ],
  [
    [0, 0, 0],
    [1, 1, 0],
    [1, 1, 0],
  ],
  [
    [0, 0, 0],
    [0, 1, 1],
    [0, 1, 0],
  ],
];

/** Floor map from a random walk that stamps small masks; the border is always wall. 1 = floor. */
export function roomTopology(rng: Rng, rows: number, cols: number, steps: number): Uint8Array {
  const level = new Uint8Array(rows * cols);
  let dir = rng.pick(DELTAS);
  // randint(1, dim - 1) is inclusive in Python.
  let r = 1 + rng.int(rows - 1);
  let c = 1 + rng.int(cols - 1);
  for (let s = 0; s < steps; s++) {
    if (rng.next() < 0.35) dir = rng.pick(DELTAS);
    r = Math.max(Math.min(r + dir[0], rows - 2), 1);
    c = Math.max(Math.min(c + dir[1], cols - 2), 1);
    const mask = rng.pick(MASKS);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) if (mask[i][j]) level[(r - 1 + i) * cols + (c - 1 + j)] = 1;
  }
  for (let k = 0; k < cols; k++) {
    level[k] = 0;
    level[(rows - 1) * cols + k] = 0;
  }
  for (let i = 0; i < rows; i++) {
    level[i * cols] = 0;
    level[i * cols + cols - 1] = 0;
  }
  return level;
}

interface Reverse {
  player: number;
  /** boxAt[i] = current cell of the box whose origin is target i. */
  boxAt: number[];
}

/**
 * Reverse play: depth-first over pull moves from the solved state; a state scores swaps x total Manhattan
 * displacement, and only counts when every target is free (no box, no player), as in the reference.
 */
function reversePlay(
  floor: Uint8Array,
  targets: readonly number[],
  start: number,
  rows: number,
  cols: number,
  depthLimit: number,
): { player: number; boxes: number[]; displacement: number } | null {
  const cells = rows * cols;
  const isTarget = new Uint8Array(cells);
  for (const t of targets) isTarget[t] = 1;
  const explored = new Set<string>();
  let bestScore = -1;
  let best: Reverse | null = null;
  const displacement = (boxAt: readonly number[]): number => {
    let s = 0;
    for (let i = 0; i < targets.length; i++) {
      s +=
        Math.abs(Math.floor(boxAt[i] / cols) - Math.floor(targets[i] / cols)) +
        Math.abs((boxAt[i] % cols) - (targets[i] % cols));
    }
    return s;
  };
  const occupied = new Uint8Array(cells);
  const dfs = (st: Reverse, swaps: number, lastPull: number, ttlIn: number): void => {
    const ttl = ttlIn - 1;
    if (ttl <= 0 || explored.size >= REVERSE_STATE_CAP) return;
    const key = `${st.player}|${st.boxAt
      .slice()
      .sort((a, b) => a - b)
      .join(',')}`;
    if (explored.has(key)) return;
    let targetsFree = !isTarget[st.player];
    for (const b of st.boxAt) if (isTarget[b]) targetsFree = false;
    const score = targetsFree ? swaps * displacement(st.boxAt) : 0;
    if (score > bestScore) {
      bestScore = score;
      best = { player: st.player, boxAt: st.boxAt.slice() };
    }
    explored.add(key);
    for (let a = 0; a < 4; a++) {
      const [dr, dc] = DELTAS[a];
      const pr = Math.floor(st.player / cols);
      const pc = st.player % cols;
      const next = (pr + dr) * cols + (pc + dc);
      occupied.fill(0);
      for (const b of st.boxAt) occupied[b] = 1;
      const child: Reverse = { player: st.player, boxAt: st.boxAt.slice() };
      let pull = lastPull;
      if (floor[next] && !occupied[next]) {
        child.player = next;
        const behind = (pr - dr) * cols + (pc - dc);
        if (occupied[behind]) {
          const i = child.boxAt.indexOf(behind);
          child.boxAt[i] = st.player;
          pull = i;
        }
      }
      dfs(child, pull !== lastPull ? swaps + 1 : swaps, pull, ttl);
    }
  };
  // The reference's mapping starts with each box on its own target.
  dfs({ player: start, boxAt: targets.slice() }, 0, -1, depthLimit);
  if (!best) return null;
  const b = best as Reverse;
  return { player: b.player, boxes: b.boxAt.slice().sort((x, y) => x - y), displacement: displacement(b.boxAt) };
}

/** Up to `maxSteps` random player moves that never revisit a cell (reference `add_random_player_movement`). */
function randomPlayerMoves(
  rng: Rng,
  floor: Uint8Array,
  boxes: readonly number[],
  player: number,
  cols: number,
  moveProb: number,
): number {
  if (rng.next() > moveProb) return player;
  const visited = [player];
  let steps = 0;
  let p = player;
  while (steps < 3) {
    const options: number[] = [];
    for (const [dr, dc] of DELTAS) {
      const n = (Math.floor(p / cols) + dr) * cols + (p % cols) + dc;
      if (floor[n] && !boxes.includes(n) && !visited.includes(n)) options.push(n);
    }
    if (options.length === 0) break;
    p = rng.pick(options);
    visited.push(p);
    steps++;
    if (steps >= 3 || rng.next() > 0.5) break;
  }
  return p;
}

/** One draw of the reference's `generate_room` (4 topology tries); null where the reference raises. */
function generateRoom(
  rng: Rng,
  o: GenerateOptions,
): { floor: Uint8Array; targets: number[]; player: number; boxes: number[] } | null {
  for (let t = 0; t < 4; t++) {
    const floor = roomTopology(rng, o.rows, o.cols, o.genSteps);
    const free: number[] = [];
    for (let c = 0; c < floor.length; c++) if (floor[c]) free.push(c);
    if (free.length <= o.boxes + 1) return null; // 'not enough free spots'
    const start = rng.pick(free);
    const targets: number[] = [];
    for (let n = 0; n < o.boxes; n++) {
      const spots = free.filter((c) => c !== start && !targets.includes(c));
      targets.push(rng.pick(spots));
    }
    const rev = reversePlay(floor, targets, start, o.rows, o.cols, o.searchDepth);
    if (!rev || rev.displacement === 0) continue;
    const player = randomPlayerMoves(rng, floor, rev.boxes, rev.player, o.cols, rev.displacement === 1 ? 0.8 : 0.5);
    return { floor, targets: targets.slice().sort((a, b) => a - b), player, boxes: rev.boxes };
  }
  return null;
}

/**
 * The level for a task seed. Deterministic in (seed, options). Unlike the reference (which keeps the 10th draw
 * even if its solution length is out of range), draws continue with derived seeds until one is in range.
 */
export function generateLevel(seed: number, o: GenerateOptions): GeneratedLevel {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const rng = createRng(deriveSeed('sokoban', seed, attempt));
    const room = generateRoom(rng, o);
    if (!room) continue;
    const wall = new Uint8Array(room.floor.length);
    const target = new Uint8Array(room.floor.length);
    for (let c = 0; c < wall.length; c++) wall[c] = room.floor[c] ? 0 : 1;
    for (const t of room.targets) target[t] = 1;
    const level = createLevel(o.rows, o.cols, wall, target);
    const state: SokobanState = { player: room.player, boxes: room.boxes };
    // Searching deeper than maxSolution cannot change the verdict (longer solutions are rejected anyway).
    const solution = solveSokoban(level, state, Math.min(o.searchDepth, o.maxSolution));
    if (solution && solution.length >= o.minSolution && solution.length <= o.maxSolution) {
      return { level, state, solution, attempt };
    }
  }
  throw new LamerError(
    'RL_ERR_CONFIG',
    `cannot generate a ${o.rows}x${o.cols} Sokoban level with ${o.boxes} boxes ` +
      `and a ${o.minSolution}..${o.maxSolution}-move solution ` +
      `in ${MAX_ATTEMPTS} draws (seed ${seed}); loosen the options`,
  );
}
