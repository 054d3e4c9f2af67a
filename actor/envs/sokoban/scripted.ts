/**
 * The Sokoban scripted policy: the BFS solver's next moves (or, with probability `noise`, random moves), heeding
 * the player's own `avoid <move>` reflections; template reflections name the fatal push and a plan from the start.
 */
import type { ScriptedPolicy, TextEnv } from '../types.js';
import { MOVES, applyMove, cloneState, parseBoard, type Move, type SokobanLevel, type SokobanState } from './board.js';
import { isSolvable, solveSokoban } from './solver.js';

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

export const sokobanScripted: ScriptedPolicy = {
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
      ? `Moving ${fatal} in my last action left a box where it can no longer reach a target, ` +
        'so the puzzle became unsolvable.'
      : 'I did not place every box before the attempt ended; my moves wandered instead of following a plan.';
    const full =
      `${fatal ? `Avoid the push (${fatal}) that trapped a box. ` : ''}` +
      `Plan from the initial state: ${plan.join(', ')}.`;
    return { full, compact, reasoning: why };
  },
};
