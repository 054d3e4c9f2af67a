/**
 * Sokoban search: the shortest solution in primitive moves (BFS, used for level generation and the scripted
 * policy) and an exact solvability test for the env's dead-end check (push-level search with dead-square
 * pruning and a per-level memo, so repeated checks of known states cost one flood fill).
 */
import { MOVES, type Move, type SokobanLevel, type SokobanState } from './board.js';

type Key = number | string;

/** Builds a state key: numeric while cells^(boxes+1) fits in a double's integer range, else a string. */
function keyer(cells: number, nBoxes: number): (player: number, boxes: readonly number[]) => Key {
  if (cells ** (nBoxes + 1) < Number.MAX_SAFE_INTEGER) {
    return (player, boxes) => {
      let k = player;
      for (const b of boxes) k = k * cells + b;
      return k;
    };
  }
  return (player, boxes) => `${player}:${boxes.join(',')}`;
}

function allOnTargets(level: SokobanLevel, boxes: readonly number[]): boolean {
  for (const b of boxes) if (!level.target[b]) return false;
  return true;
}

/**
 * Shortest move sequence that puts every box on a target (BFS over player+box states), or null if none exists
 * within `maxDepth` moves (the reference's search depth is 100). `[]` when already solved.
 */
export function solveSokoban(level: SokobanLevel, state: SokobanState, maxDepth = 100): Move[] | null {
  if (allOnTargets(level, state.boxes)) return [];
  const cells = level.rows * level.cols;
  const nb = state.boxes.length;
  const width = nb + 1; // one state = [player, ...sorted boxes] in a flat growing buffer
  const key = keyer(cells, nb);
  let store = new Int32Array(width * 1024);
  let parent = new Int32Array(1024);
  let moveOf = new Uint8Array(1024);
  let depth = new Uint16Array(1024);
  let count = 0;
  const push = (player: number, boxes: ArrayLike<number>, par: number, mv: number, dp: number) => {
    if (count === parent.length) {
      const grow = <T extends Int32Array | Uint8Array | Uint16Array>(a: T, n: number): T => {
        const b = new (a.constructor as new (n: number) => T)(n);
        b.set(a);
        return b;
      };
      store = grow(store, store.length * 2);
      parent = grow(parent, parent.length * 2);
      moveOf = grow(moveOf, moveOf.length * 2);
      depth = grow(depth, depth.length * 2);
    }
    const o = count * width;
    store[o] = player;
    for (let i = 0; i < nb; i++) store[o + 1 + i] = boxes[i];
    parent[count] = par;
    moveOf[count] = mv;
    depth[count] = dp;
    return count++;
  };
  push(state.player, state.boxes, -1, 0, 0);
  const seen = new Set<Key>([key(state.player, state.boxes)]);
  const { neighbour, wall, target } = level;
  const boxes = new Array<number>(nb);
  const occupied = new Uint8Array(cells);
  for (let head = 0; head < count; head++) {
    if (depth[head] >= maxDepth) break;
    const o = head * width;
    const p = store[o];
    for (let i = 0; i < nb; i++) occupied[store[o + 1 + i]] = 1;
    for (let d = 0; d < 4; d++) {
      const next = neighbour[p * 4 + d];
      if (next < 0 || wall[next]) continue;
      for (let i = 0; i < nb; i++) boxes[i] = store[o + 1 + i];
      let pushed = false;
      if (occupied[next]) {
        const beyond = neighbour[next * 4 + d];
        if (beyond < 0 || wall[beyond] || occupied[beyond]) continue;
        // Move the pushed box and keep the list sorted (insertion step).
        let i = boxes.indexOf(next);
        boxes[i] = beyond;
        while (i > 0 && boxes[i - 1] > boxes[i]) {
          const t = boxes[i - 1];
          boxes[i - 1] = boxes[i];
          boxes[i] = t;
          i--;
        }
        while (i < nb - 1 && boxes[i + 1] < boxes[i]) {
          const t = boxes[i + 1];
          boxes[i + 1] = boxes[i];
          boxes[i] = t;
          i++;
        }
        pushed = true;
      }
      const k = key(next, boxes);
      if (seen.has(k)) continue;
      seen.add(k);
      const idx = push(next, boxes, head, d, depth[head] + 1);
      if (pushed && boxes.every((b) => target[b])) {
        const path: Move[] = [];
        for (let j = idx; parent[j] >= 0; j = parent[j]) path.push(MOVES[moveOf[j]]);
        for (let i = 0; i < nb; i++) occupied[store[o + 1 + i]] = 0;
        return path.reverse();
      }
    }
    for (let i = 0; i < nb; i++) occupied[store[o + 1 + i]] = 0;
  }
  return null;
}

interface Analysis {
  /** 1 where a lone box could still be pushed onto some target. */
  live: Uint8Array;
  memo: Map<Key, boolean>;
  key: (player: number, boxes: readonly number[]) => Key;
  /** Flood-fill scratch: stamp[c] === gen marks c reached in the current fill. */
  stamp: Uint32Array;
  gen: number;
  stack: Int32Array;
}

const analyses = new WeakMap<SokobanLevel, Map<number, Analysis>>();

function analyse(level: SokobanLevel, nBoxes: number): Analysis {
  let byCount = analyses.get(level);
  if (!byCount) analyses.set(level, (byCount = new Map()));
  const found = byCount.get(nBoxes);
  if (found) return found;
  const cells = level.rows * level.cols;
  const live = new Uint8Array(cells);
  const queue: number[] = [];
  for (const t of level.targetCells) {
    live[t] = 1;
    queue.push(t);
  }
  // Reverse pushes: a box reaches q from p = q - d when the player can stand at p - d.
  for (let i = 0; i < queue.length; i++) {
    const q = queue[i];
    for (let d = 0; d < 4; d++) {
      const p = level.neighbour[q * 4 + (d ^ 1)];
      if (p < 0 || level.wall[p] || live[p]) continue;
      const stand = level.neighbour[p * 4 + (d ^ 1)];
      if (stand < 0 || level.wall[stand]) continue;
      live[p] = 1;
      queue.push(p);
    }
  }
  const a: Analysis = {
    live,
    memo: new Map(),
    key: keyer(cells, nBoxes),
    stamp: new Uint32Array(cells),
    gen: 0,
    stack: new Int32Array(cells),
  };
  byCount.set(nBoxes, a);
  return a;
}

/** Marks the player's reachable cells in `a.stamp` (value a.gen) and returns the smallest reachable cell. */
function reach(level: SokobanLevel, a: Analysis, player: number, boxMark: Uint8Array): number {
  a.gen++;
  if (a.gen === 0xffffffff) {
    a.stamp.fill(0);
    a.gen = 1;
  }
  const { stamp, stack } = a;
  const gen = a.gen;
  let top = 0;
  stack[top++] = player;
  stamp[player] = gen;
  let min = player;
  while (top > 0) {
    const c = stack[--top];
    if (c < min) min = c;
    for (let d = 0; d < 4; d++) {
      const n = level.neighbour[c * 4 + d];
      if (n < 0 || level.wall[n] || boxMark[n] || stamp[n] === gen) continue;
      stamp[n] = gen;
      stack[top++] = n;
    }
  }
  return min;
}

/**
 * Can every box still reach a target from this state? Exact (no depth limit), unlike the reference's 100-move
 * BFS, which only differs on rooms far larger than the defaults. Results are memoised per level.
 */
export function isSolvable(level: SokobanLevel, state: SokobanState): boolean {
  if (allOnTargets(level, state.boxes)) return true;
  const a = analyse(level, state.boxes.length);
  for (const b of state.boxes) if (!a.live[b]) return false;
  const cells = level.rows * level.cols;
  const boxMark = new Uint8Array(cells);
  for (const b of state.boxes) boxMark[b] = 1;
  const rootKey = a.key(reach(level, a, state.player, boxMark), state.boxes);
  const cached = a.memo.get(rootKey);
  if (cached !== undefined) return cached;

  // Iterative DFS over push states; a frame holds its (normalised) key and its not-yet-tried successors.
  interface Frame {
    key: Key;
    children: Array<{ player: number; boxes: number[] }>;
    next: number;
  }
  const visited = new Set<Key>();
  const frames: Frame[] = [];
  const expand = (player: number, boxes: number[], key: Key): Frame => {
    // Reach is recomputed here because `key` may have come from a cached fill for a different state.
    boxMark.fill(0);
    for (const b of boxes) boxMark[b] = 1;
    reach(level, a, player, boxMark);
    const children: Frame['children'] = [];
    for (let i = 0; i < boxes.length; i++) {
      const b = boxes[i];
      for (let d = 0; d < 4; d++) {
        const stand = level.neighbour[b * 4 + (d ^ 1)];
        if (stand < 0 || a.stamp[stand] !== a.gen) continue;
        const dest = level.neighbour[b * 4 + d];
        if (dest < 0 || level.wall[dest] || boxMark[dest] || !a.live[dest]) continue;
        const nb = boxes.slice();
        nb[i] = dest;
        nb.sort((x, y) => x - y);
        children.push({ player: b, boxes: nb });
      }
    }
    return { key, children, next: 0 };
  };
  visited.add(rootKey);
  frames.push(expand(state.player, state.boxes.slice(), rootKey));
  while (frames.length > 0) {
    const top = frames[frames.length - 1];
    if (top.next >= top.children.length) {
      frames.pop();
      continue;
    }
    const child = top.children[top.next++];
    if (allOnTargets(level, child.boxes)) {
      for (const f of frames) a.memo.set(f.key, true);
      return true;
    }
    boxMark.fill(0);
    for (const b of child.boxes) boxMark[b] = 1;
    const k = a.key(reach(level, a, child.player, boxMark), child.boxes);
    if (visited.has(k)) continue;
    const known = a.memo.get(k);
    if (known === true) {
      for (const f of frames) a.memo.set(f.key, true);
      return true;
    }
    if (known === false) continue;
    visited.add(k);
    frames.push(expand(child.player, child.boxes, k));
  }
  // Exhausted: nothing reachable from any visited state solves the level.
  for (const k of visited) a.memo.set(k, false);
  return false;
}
