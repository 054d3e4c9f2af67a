/**
 * MineSweeper solver working only from what the player sees (the rendered board and the mine count): exact mine
 * probabilities by enumerating the frontier (independent components combined with the binomial weight of the
 * unconstrained cells), then a safe cell if one exists, else the least risky guess. Safe cells and ties prefer
 * cells whose hidden neighbours look mine-free, since those tend to open cascades (fewer turns).
 */
import { LamerError } from '../../../shared/errors.js';

/**
 * What the player sees: -1 hidden, -2 exploded mine, -3 hidden but known to be a mine (remembered), 0..8 revealed
 * counts.
 */
export interface MineView {
  size: number;
  cells: Int8Array;
  nMines: number;
}

/** Parses the env's `Row r: ...` rendering into a view. */
export function parseMineObs(obs: string, nMines: number): MineView {
  const lines = obs.split('\n').filter((l) => l.trim().length > 0);
  const size = lines.length;
  const cells = new Int8Array(size * size);
  lines.forEach((line, r) => {
    const m = /^Row (\d+):((?: \S)+)$/.exec(line.trim());
    if (!m || Number(m[1]) !== r + 1) throw new LamerError('RL_ERR_BAD_STATE', `not a MineSweeper row: '${line}'`);
    const syms = m[2].trim().split(' ');
    if (syms.length !== size)
      throw new LamerError('RL_ERR_BAD_STATE', `row ${r + 1} has ${syms.length} cells, expected ${size}`);
    syms.forEach((s, k) => {
      cells[r * size + k] = s === '?' ? -1 : s === '*' ? -2 : s === '.' ? 0 : Number(s);
    });
  });
  return { size, cells, nMines };
}

function neighboursOf(size: number, c: number): number[] {
  const r = Math.floor(c / size);
  const k = c % size;
  const out: number[] = [];
  for (let dr = -1; dr <= 1; dr++) {
    for (let dk = -1; dk <= 1; dk++) {
      if ((dr || dk) && r + dr >= 0 && r + dr < size && k + dk >= 0 && k + dk < size)
        out.push((r + dr) * size + k + dk);
    }
  }
  return out;
}

/** log C(n, k); -Infinity outside 0 <= k <= n. */
function logChoose(n: number, k: number): number {
  if (k < 0 || k > n) return -Infinity;
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log((n - k + i) / i);
  return s;
}

interface Constraint {
  cells: number[];
  need: number;
}

/** Budget of search nodes per component before falling back to local estimates (only huge boards hit it). */
const NODE_BUDGET = 2_000_000;

/**
 * Mine probability of every hidden cell (NaN for revealed cells). Exact unless a frontier component exceeds the
 * node budget, in which case that component uses local density estimates.
 */
export function mineProbabilities(view: MineView): Float64Array {
  const { size, cells } = view;
  const n = size * size;
  const KNOWN = -3;
  let nMines = view.nMines;
  for (let c = 0; c < n; c++) if (cells[c] === KNOWN) nMines--;
  const prob = new Float64Array(n).fill(NaN);
  const hidden: number[] = [];
  for (let c = 0; c < n; c++) if (cells[c] === -1) hidden.push(c);
  const constraints: Constraint[] = [];
  const onFrontier = new Uint8Array(n);
  for (let c = 0; c < n; c++) {
    if (cells[c] < 0) continue;
    const around = neighboursOf(size, c);
    const hn = around.filter((x) => cells[x] === -1);
    if (hn.length === 0) continue;
    // A known mine next to a number accounts for one of its count.
    constraints.push({ cells: hn, need: Math.max(0, cells[c] - around.filter((x) => cells[x] === KNOWN).length) });
    for (const x of hn) onFrontier[x] = 1;
  }
  // Components: frontier cells linked by shared constraints.
  const compOf = new Int32Array(n).fill(-1);
  const comps: number[][] = [];
  for (const start of hidden) {
    if (!onFrontier[start] || compOf[start] >= 0) continue;
    const id = comps.length;
    const members = [start];
    compOf[start] = id;
    for (let i = 0; i < members.length; i++) {
      for (const con of constraints) {
        if (!con.cells.includes(members[i])) continue;
        for (const x of con.cells)
          if (compOf[x] < 0) {
            compOf[x] = id;
            members.push(x);
          }
      }
    }
    comps.push(members);
  }
  const others = hidden.filter((c) => !onFrontier[c]);

  // Per component: cnt[k] = #assignments with k mines, cellCnt[i][k] = #those with member i a mine.
  interface Enum {
    members: number[];
    cnt: number[];
    cellCnt: number[][];
    exact: boolean;
  }
  const enums: Enum[] = comps.map((members) => {
    const cons = constraints.filter((con) => con.cells.some((x) => compOf[x] === compOf[members[0]]));
    const index = new Map(members.map((c, i) => [c, i]));
    const conIdx = cons.map((con) => con.cells.map((x) => index.get(x) as number));
    const byCell: number[][] = members.map(() => []);
    conIdx.forEach((ci, j) => ci.forEach((i) => byCell[i].push(j)));
    const mines = new Int32Array(cons.length);
    const unknown = conIdx.map((ci) => ci.length);
    const assign = new Int8Array(members.length);
    const cnt: number[] = new Array(members.length + 1).fill(0);
    const cellCnt: number[][] = members.map(() => new Array(members.length + 1).fill(0));
    let nodes = 0;
    let exact = true;
    const rec = (i: number, k: number): void => {
      if (!exact) return;
      if (++nodes > NODE_BUDGET) {
        exact = false;
        return;
      }
      if (i === members.length) {
        cnt[k]++;
        for (let m = 0; m < members.length; m++) if (assign[m]) cellCnt[m][k]++;
        return;
      }
      for (const v of [0, 1]) {
        let ok = true;
        for (const j of byCell[i]) {
          const mm = mines[j] + v;
          const left = unknown[j] - 1;
          if (mm > cons[j].need || mm + left < cons[j].need) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        assign[i] = v;
        for (const j of byCell[i]) {
          mines[j] += v;
          unknown[j]--;
        }
        rec(i + 1, k + v);
        for (const j of byCell[i]) {
          mines[j] -= v;
          unknown[j]++;
        }
      }
      assign[i] = 0;
    };
    rec(0, 0);
    return { members, cnt, cellCnt, exact };
  });

  if (enums.some((e) => !e.exact)) return localEstimates({ ...view, nMines }, constraints, hidden);

  // Combine components: total weight over k-vectors times C(|others|, M - sum k), in log space to stay finite.
  const conv = (a: number[], b: number[]): number[] => {
    const out = new Array(a.length + b.length - 1).fill(0);
    for (let i = 0; i < a.length; i++) if (a[i]) for (let j = 0; j < b.length; j++) out[i + j] += a[i] * b[j];
    return out;
  };
  let all = [1];
  for (const e of enums) all = conv(all, e.cnt);
  // Scale by the largest binomial to avoid overflow: only ratios matter.
  const logs = all.map((_, s) => logChoose(others.length, nMines - s));
  const top = Math.max(...logs.filter((x) => Number.isFinite(x)));
  if (!Number.isFinite(top)) return localEstimates({ ...view, nMines }, constraints, hidden);
  const w = (s: number) => {
    const l = logChoose(others.length, nMines - s);
    return Number.isFinite(l) ? Math.exp(l - top) : 0;
  };
  let total = 0;
  let otherMines = 0;
  all.forEach((cnt, s) => {
    if (!cnt) return;
    total += cnt * w(s);
    otherMines += cnt * w(s) * (nMines - s);
  });
  if (!(total > 0)) return localEstimates({ ...view, nMines }, constraints, hidden);
  enums.forEach((e, ei) => {
    let rest = [1];
    enums.forEach((o, oi) => {
      if (oi !== ei) rest = conv(rest, o.cnt);
    });
    e.members.forEach((cell, m) => {
      let mw = 0;
      e.cellCnt[m].forEach((c, k) => {
        if (!c) return;
        rest.forEach((r, s) => {
          if (r) mw += c * r * w(k + s);
        });
      });
      prob[cell] = mw / total;
    });
  });
  const pOther = others.length > 0 ? otherMines / total / others.length : 0;
  for (const c of others) prob[c] = pOther;
  return prob;
}

/** Fallback for enormous frontiers: the largest local ratio need/hidden around each cell, else global density. */
function localEstimates(view: MineView, constraints: Constraint[], hidden: number[]): Float64Array {
  const prob = new Float64Array(view.size * view.size).fill(NaN);
  const density = view.nMines / Math.max(1, hidden.length);
  for (const c of hidden) prob[c] = density;
  const touched = new Set<number>();
  for (const con of constraints) {
    const p = con.need / con.cells.length;
    for (const x of con.cells) {
      prob[x] = touched.has(x) ? Math.max(prob[x], p) : p;
      touched.add(x);
    }
  }
  return prob;
}

export interface MineChoice {
  /** 0-indexed cell. */
  cell: number;
  /** 1-indexed row and column, as actions write them. */
  row: number;
  col: number;
  risk: number;
  /** True when the cell is provably safe. */
  safe: boolean;
}

const EPS = 1e-12;

/** The solver's move: a provably safe cell if any, else the least risky one. Deterministic. */
export function chooseMineCell(view: MineView): MineChoice {
  const prob = mineProbabilities(view);
  const { size } = view;
  let best = -1;
  let bestRisk = Infinity;
  let bestOpen = Infinity;
  for (let c = 0; c < size * size; c++) {
    if (view.cells[c] !== -1) continue;
    const risk = prob[c];
    // Expected mines among hidden neighbours: low means a likely blank, i.e. a cascade.
    let open = 0;
    for (const x of neighboursOf(size, c)) if (view.cells[x] === -1) open += prob[x];
    const better = risk < bestRisk - EPS || (Math.abs(risk - bestRisk) <= EPS && open < bestOpen - EPS);
    if (better) {
      best = c;
      bestRisk = risk;
      bestOpen = open;
    }
  }
  if (best < 0) throw new LamerError('RL_ERR_INTERNAL', 'MineSweeper solver: no hidden cell left');
  return {
    cell: best,
    row: Math.floor(best / size) + 1,
    col: (best % size) + 1,
    risk: bestRisk,
    safe: bestRisk <= EPS,
  };
}
