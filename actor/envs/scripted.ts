/**
 * Scripted policies: test oracles, the source of behaviour-cloning demonstrations and a ceiling reference.
 * Each works from what the player sees (the rendered board) plus the env's parameters, never from hidden state.
 * `noise` is the hook for weaker demonstrations: each primitive action is replaced by a uniformly random valid
 * one with that probability.
 */
import { LamerError, badInput } from '../../shared/errors.js';
import { createRng, type Rng } from '../../shared/rng.js';
import { ALFWORLD_ID } from './alfworld/env.js';
import { alfworldScripted } from './alfworld/scripted.js';
import { MINESWEEPER_ID } from './minesweeper/env.js';
import { chooseMineCell, parseMineObs } from './minesweeper/solver.js';
import { resolveEnvId } from './registry.js';
import {
  MOVES,
  applyMove,
  cloneState,
  parseBoard,
  type Move,
  type SokobanLevel,
  type SokobanState,
} from './sokoban/board.js';
import { SOKOBAN_ID } from './sokoban/env.js';
import { isSolvable, solveSokoban } from './sokoban/solver.js';
import { compactReflectionValidator } from './prompt.js';
import type { EpisodeLog, Template, TextEnv } from './types.js';
import { WEBSHOP_ID } from './webshop/env.js';
import { webshopScripted } from './webshop/scripted.js';

export interface ScriptedOptions {
  /** Probability in [0, 1] of replacing each primitive action with a random valid one. Default 0. */
  noise?: number;
  /**
   * The player's own earlier reflections in the compact grammar (oldest first). MineSweeper treats the cells they
   * name as mines as known mines; Sokoban does not repeat a remembered `avoid <move>` that would trap a box.
   */
  memory?: readonly string[];
}

/** What a scripted policy provides for one env id. */
export interface ScriptedPolicy {
  /** The action content (what goes inside `<action>…</action>`) as words for the current state. */
  act(env: TextEnv, rng: Rng, noise: number, memory: readonly string[]): { full: string; compact: string[] };
  /** The scripted reflection content for a finished (failed) episode. */
  reflect(
    initialObs: string,
    log: EpisodeLog,
    params: Readonly<Record<string, unknown>>,
  ): { full: string; compact: string[]; reasoning: string };
}

const policies = new Map<string, ScriptedPolicy>();

export function registerScriptedPolicy(envId: string, policy: ScriptedPolicy): void {
  policies.set(envId, policy);
}

function policyFor(envId: string): ScriptedPolicy {
  const id = resolveEnvId(envId);
  const p = policies.get(id);
  if (!p) throw new LamerError('RL_ERR_UNKNOWN_ENV', `no scripted policy for '${id}'`);
  return p;
}

const fallbackRng = createRng(0x5c1);

/**
 * The scripted response for the env's current state, in `template` (default: the env's own): full
 * `<action>up, left, down</action>` / `<action>(2, 3)</action>`; compact `up </action>` / `2 3 </action>`.
 */
export function scriptedAction(
  env: TextEnv,
  template: Template = env.template,
  rng: Rng = fallbackRng,
  opts: ScriptedOptions = {},
): string {
  const noise = opts.noise ?? 0;
  if (!(noise >= 0 && noise <= 1)) throw badInput(`scripted policy: noise must be in [0, 1], got ${String(noise)}`);
  const a = policyFor(env.id).act(env, rng, noise, opts.memory ?? []);
  return template === 'compact' ? `${a.compact.join(' ')} </action>` : `<action>${a.full}</action>`;
}

/**
 * The scripted reflection response for a failed episode, in `template`: compact `mine 4 5 safe 2 3 </remark>` or
 * `avoid left plan up up right </remark>`; full a short English reasoning ending in `<remark>…</remark>`.
 * Pass the env (for its parameters) or its id. `maxTokens` (compact: one token per word, plus `</remark>`) drops
 * trailing words until the reply fits the inference cap and still parses: a reflection cut by the cap loses its
 * closing tag, fails to parse and leaves the next attempt an empty memory.
 */
export function templateReflection(
  env: TextEnv | string,
  template: Template,
  initialObs: string,
  log: EpisodeLog,
  maxTokens = Infinity,
): string {
  const id = typeof env === 'string' ? env : env.id;
  const params = (typeof env === 'string' ? {} : env.params) ?? {};
  const r = policyFor(id).reflect(initialObs, log, params);
  if (template !== 'compact') return `${r.reasoning}\n<remark>${r.full}</remark>`;
  const valid = compactReflectionValidator(id);
  const words = r.compact.slice();
  while (words.length > 0 && (words.length + 1 > maxTokens || !valid(words))) words.pop();
  return `${words.join(' ')} </remark>`;
}

// ------------------------------------------------------------------------------------------------ Sokoban

const movesPerTurnOf = (env: TextEnv): number => {
  const n = env.params?.movesPerTurn;
  return typeof n === 'number' && n >= 1 ? n : 1;
};

/** Moves the player's own reflections say to avoid (`avoid <move>` clauses). */
function avoidedMoves(memory: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const refl of memory) {
    const w = refl.trim().split(/\s+/);
    for (let i = 0; i + 1 < w.length; i++) if (w[i] === 'avoid') out.add(w[i + 1]);
  }
  return out;
}

/** Would `move` leave the puzzle unsolvable (a box trapped)? */
function trapsBox(level: SokobanLevel, state: SokobanState, move: Move): boolean {
  const next = cloneState(state);
  applyMove(level, next, MOVES.indexOf(move));
  return !isSolvable(level, next);
}

registerScriptedPolicy(SOKOBAN_ID, {
  act(env, rng, noise, memory) {
    const { level, state } = parseBoard(env.render());
    const avoid = avoidedMoves(memory);
    const moves: Move[] = [];
    for (let i = 0; i < movesPerTurnOf(env); i++) {
      let m: Move | null = null;
      if (noise > 0 && rng.next() < noise) {
        m = rng.pick(MOVES);
        // A remembered trap is not walked into again: the noisy move gives way to the solver's.
        if (avoid.has(m) && trapsBox(level, state, m)) m = null;
      }
      if (m === null) {
        const plan = solveSokoban(level, state, 1000);
        if (plan === null)
          m = rng.pick(MOVES); // only after noise made it unsolvable; the env ends it anyway
        else if (plan.length === 0) break;
        else m = plan[0];
      }
      moves.push(m as Move);
      applyMove(level, state, MOVES.indexOf(m as Move));
      if (level.targetCells.every((t) => state.boxes.includes(t)) || !isSolvable(level, state)) break;
    }
    if (moves.length === 0) moves.push(rng.pick(MOVES)); // already solved: any move word keeps the reply valid
    return { full: moves.join(', '), compact: moves };
  },
  reflect(initialObs, log) {
    const { level, state } = parseBoard(initialObs);
    const plan = solveSokoban(level, state, 1000) ?? [];
    const last = log.steps[log.steps.length - 1];
    let fatal: string | null = null;
    if (last) {
      const end = parseBoard(last.obs);
      if (!isSolvable(end.level, end.state)) {
        const words = last.action
          .split(',')
          .map((w) => w.trim())
          .filter((w) => (MOVES as readonly string[]).includes(w));
        fatal = words.length > 0 ? words[words.length - 1] : null;
      }
    }
    const compact = [...(fatal ? ['avoid', fatal] : []), ...(plan.length > 0 ? ['plan', ...plan] : [])];
    const why = fatal
      ? `Moving ${fatal} in my last action left a box where it can no longer reach a target, so the puzzle became unsolvable.`
      : 'I did not place every box before the attempt ended; my moves wandered instead of following a plan.';
    const full = `${fatal ? `Avoid the push (${fatal}) that trapped a box. ` : ''}Plan from the initial state: ${plan.join(', ')}.`;
    return { full, compact, reasoning: why };
  },
});

// ---------------------------------------------------------------------------------------------- MineSweeper

interface Cell {
  row: number;
  col: number;
}

function minesParam(env: TextEnv): number {
  const m = env.params?.mines;
  return typeof m === 'number' ? m : 3;
}

function cellsOf(obs: string): string[][] {
  return obs
    .split('\n')
    .filter((l) => l.trim())
    .map((l) =>
      l
        .replace(/^\s*Row \d+:/, '')
        .trim()
        .split(/\s+/),
    );
}

/** 0-indexed cells the player's own reflections name as mines (`mine r c` clauses). */
function rememberedMines(memory: readonly string[], size: number): number[] {
  const out: number[] = [];
  for (const refl of memory) {
    const w = refl.trim().split(/\s+/);
    for (let i = 0; i + 2 < w.length; i += 3) {
      const r = Number(w[i + 1]);
      const c = Number(w[i + 2]);
      if (w[i] === 'mine' && r >= 1 && r <= size && c >= 1 && c <= size) out.push((r - 1) * size + (c - 1));
    }
  }
  return out;
}

registerScriptedPolicy(MINESWEEPER_ID, {
  act(env, rng, noise, memory) {
    const view = parseMineObs(env.render(), minesParam(env));
    // What its memory calls a mine the player treats as known: never opened, and counted by the numbers around it.
    for (const c of rememberedMines(memory, view.size)) if (view.cells[c] === -1) view.cells[c] = -3;
    let pick: Cell;
    if (noise > 0 && rng.next() < noise) {
      const hidden: Cell[] = [];
      for (let c = 0; c < view.cells.length; c++) {
        if (view.cells[c] === -1) hidden.push({ row: Math.floor(c / view.size) + 1, col: (c % view.size) + 1 });
      }
      pick = rng.pick(hidden);
    } else {
      pick = chooseMineCell(view);
    }
    return { full: `(${pick.row}, ${pick.col})`, compact: [String(pick.row), String(pick.col)] };
  },
  reflect(initialObs, log) {
    let prev = cellsOf(initialObs);
    let mine: Cell | null = null;
    const safe: Cell[] = [];
    for (const step of log.steps) {
      const now = cellsOf(step.obs);
      const m = /^\((\d+), (\d+)\)$/.exec(step.action);
      if (m) {
        const row = Number(m[1]);
        const col = Number(m[2]);
        const before = prev[row - 1]?.[col - 1];
        const after = now[row - 1]?.[col - 1];
        if (after === '*') mine = { row, col };
        else if (before === '?' && after !== undefined && after !== '?' && safe.length < 2) safe.push({ row, col });
      }
      prev = now;
    }
    const compact: string[] = [];
    if (mine) compact.push('mine', String(mine.row), String(mine.col));
    for (const s of safe) compact.push('safe', String(s.row), String(s.col));
    const fmt = (c: Cell) => `(${c.row}, ${c.col})`;
    const reasoning = mine
      ? `Opening ${fmt(mine)} hit a mine and ended the game, so that cell must stay closed next time.`
      : 'I ran out of turns before clearing the board; I should open cells that cascade and avoid wasted clicks.';
    const parts = [
      ...(mine ? [`Mine at ${fmt(mine)}: never open it.`] : []),
      ...(safe.length > 0 ? [`Safe to open first: ${safe.map(fmt).join(', ')}.`] : []),
      'Then open only cells the numbers prove safe.',
    ];
    return { full: parts.join(' '), compact, reasoning };
  },
});

// ------------------------------------------------------------------------------------- WebShop, ALFWorld

registerScriptedPolicy(WEBSHOP_ID, webshopScripted);
registerScriptedPolicy(ALFWORLD_ID, alfworldScripted);
