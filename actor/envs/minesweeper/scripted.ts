/**
 * The MineSweeper scripted policy: the exact-probability solver's cell (or, with probability `noise`, a random
 * unopened one), treating the cells its own reflections name as mines as known mines; template reflections name
 * the mine that ended the episode and the safe cells opened first.
 */
import type { ScriptedPolicy, TextEnv } from '../types.js';
import { chooseMineCell, parseMineObs } from './solver.js';

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

export const minesweeperScripted: ScriptedPolicy = {
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
};
