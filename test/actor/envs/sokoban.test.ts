import { describe, expect, it } from 'vitest';
import { applyMove, parseBoard, renderBoard, MOVES } from '../../../actor/envs/sokoban/board.js';
import { SokobanEnv } from '../../../actor/envs/sokoban/env.js';
import { generateLevel } from '../../../actor/envs/sokoban/generate.js';
import { parseSokobanAction } from '../../../actor/envs/sokoban/parse.js';
import { isSolvable, solveSokoban } from '../../../actor/envs/sokoban/solver.js';
import { createRng } from '../../../shared/rng.js';

const board = (rows: string[]) => rows.map((r, i) => `${i}: ${r}`).join('\n');

// Player at (3,2); box at (2,2) left of a target at (2,3); a second box/target pair far away.
const OPEN = board([
  '# # # # # # #',
  '# _ _ _ _ _ #',
  '# _ X O _ _ #',
  '# _ P _ _ _ #',
  '# _ _ _ X O #',
  '# _ _ _ _ _ #',
  '# # # # # # #',
]);

function envOf(b: string, extra: Record<string, unknown> = {}) {
  const env = new SokobanEnv({ board: b, ...extra });
  env.reset({ seed: 0 });
  return env;
}
const act = (...moves: string[]) => `<action>${moves.join(', ')}</action>`;

describe('Sokoban rendering', () => {
  it('numbers rows from 0 with one space between cells and no trailing space', () => {
    const env = envOf(OPEN);
    const obs = env.render();
    expect(obs.split('\n')[0]).toBe('0: # # # # # # #');
    expect(obs.split('\n')[3]).toBe('3: # _ P _ _ _ #');
    expect(obs).toBe(OPEN);
    expect(obs.endsWith(' ')).toBe(false);
  });

  it('renders every symbol and round-trips through parseBoard', () => {
    const b = board(['# # # # # #', '# S √ X X #', '# O _ _ _ #', '# # # # # #']);
    const { level, state } = parseBoard(b);
    expect(renderBoard(level, state)).toBe(b);
    const p = parseBoard(board(['# # # # #', '# P √ X #', '# O _ _ #', '# # # # #']));
    expect(renderBoard(p.level, p.state)).toContain('1: # P √ X #');
  });

  it('rejects malformed boards with a message naming the problem', () => {
    expect(() => parseBoard(board(['# # #', '# P Q', '# # #']))).toThrow(/unknown symbol 'Q' at row 1, column 2/);
    expect(() => parseBoard(board(['# # # #', '# P X', '# O # #']))).toThrow(/row 1 has 3 cells, expected 4/);
    expect(() => parseBoard(board(['# # # #', '# P P #', '# X O #', '# # # #']))).toThrow(/exactly one player/);
    expect(() => parseBoard(board(['# # # #', '# P X #', '# X O #', '# # # #']))).toThrow(/2 boxes but 1 targets/);
    expect(() => parseBoard(board(['# # # #', '# P _ #', '# # # #']))).toThrow(/no boxes/);
    expect(() => parseBoard('')).toThrow(/empty/);
    expect(() => parseBoard('0: # # #\n2: # P #\n3: # # #')).toThrow(/row label 2/);
  });
});

describe('Sokoban rewards and transitions', () => {
  it('a plain move costs -0.1 and counts as a move', () => {
    const env = envOf(OPEN);
    const r = env.step(act('down'));
    expect(r.reward).toBe(-0.1);
    expect(r.info).toMatchObject({ valid: true, won: false, actionText: 'down', moves: 1 });
    expect(r.terminated || r.truncated).toBe(false);
  });

  it('walking into a wall or pushing a box into a wall/box leaves the state and still costs -0.1 and a move', () => {
    const env = envOf(
      board(['# # # # # # #', '# _ _ _ _ _ #', '# P X X O O #', '# _ _ _ _ _ #', '# _ _ _ _ _ #', '# # # # # # #']),
    );
    const before = env.render();
    const r = env.step(act('left')); // wall
    expect(r.reward).toBe(-0.1);
    expect(r.obs).toBe(before);
    expect(r.info.moves).toBe(1);
    const r2 = env.step(act('right')); // box against box
    expect(r2.reward).toBe(-0.1);
    expect(r2.obs).toBe(before);
    expect(r2.info.moves).toBe(2);
  });

  it('pushing a box onto a target gives +1, off a target -1, completing the puzzle +10 (move total 10.9)', () => {
    const env = envOf(board(['# # # # # # #', '# P X O _ O #', '# _ _ _ _ X #', '# _ _ _ _ _ #', '# # # # # # #']));
    const on = env.step(act('right'));
    expect(on.reward).toBe(0.9);
    const off = env.step(act('right'));
    expect(off.reward).toBe(-1.1);
    const back = new SokobanEnv({
      board: board(['# # # # # #', '# P X O _ #', '# _ _ _ _ #', '# # # # # #']),
      movesPerTurn: 1,
    });
    back.reset({ seed: 0 });
    const win = back.step(act('right'));
    expect(win.reward).toBe(10.9);
    expect(win.terminated).toBe(true);
    expect(win.truncated).toBe(false);
    expect(win.info.won).toBe(true);
    expect(win.obs).toContain('1: # _ P √ _ #');
  });

  it("'still' is a valid no-op: -0.1 and no move counted", () => {
    const env = envOf(OPEN);
    const r = env.step(act('still'));
    expect(r.reward).toBe(-0.1);
    expect(r.info).toMatchObject({ valid: true, actionText: 'still', moves: 0 });
    expect(r.obs).toBe(OPEN);
  });

  it('an unparsable reply is invalid: -0.1, no move counted, shown as still', () => {
    const env = envOf(OPEN);
    for (const bad of ['up', '<action>jump</action>', '<ACTION>up</ACTION>', '</action>up<action>', '']) {
      const r = env.step(bad);
      expect(r.reward).toBe(-0.1);
      expect(r.info).toMatchObject({ valid: false, actionText: 'still', moves: 0 });
    }
  });

  it('sums the rewards of a multi-move turn', () => {
    const env = envOf(OPEN);
    const r = env.step(act('down', 'up', 'still'));
    expect(r.reward).toBe(-0.3);
    expect(r.info.actionText).toBe('down, up, still');
    expect(r.info.moves).toBe(2);
  });

  it('stops a turn at the first terminal move (win): later moves are not executed', () => {
    const env = envOf(board(['# # # # # #', '# P X O _ #', '# _ _ _ _ #', '# # # # # #']));
    const r = env.step(act('right', 'down', 'down'));
    expect(r.reward).toBe(10.9);
    expect(r.info.actionText).toBe('right');
    expect(r.info.won).toBe(true);
    expect(r.obs).toContain('1: # _ P √ _ #');
  });

  it('ends the episode (terminated, not won) when a move creates a dead end', () => {
    const env = envOf(OPEN);
    const r = env.step(act('up', 'left', 'left'));
    // 'up' pushes the box from row 2 against the top wall, where no target is: unsolvable.
    expect(r.info.actionText).toBe('up');
    expect(r.terminated).toBe(true);
    expect(r.truncated).toBe(false);
    expect(r.info.won).toBe(false);
    expect(r.info.deadEnd).toBe(true);
    expect(r.reward).toBe(-0.1);
    expect(r.info.episode).toEqual({ r: -0.1, l: 1 });
  });

  it('truncates (not terminates) at the move limit; wall bumps count, still does not', () => {
    const env = envOf(OPEN);
    let last;
    for (let i = 0; i < 10; i++) {
      last = env.step(act('still', 'down', 'up'));
      if (last.truncated || last.terminated) break;
    }
    // 20 real moves after 10 turns.
    expect(last?.truncated).toBe(false);
    expect(last?.info.moves).toBe(20);
    const env30 = envOf(OPEN);
    let r;
    for (let i = 1; i <= 30; i++) {
      r = env30.step(act(i % 2 ? 'left' : 'right'));
      if (i < 30) expect(r.truncated).toBe(false);
    }
    expect(r?.truncated).toBe(true);
    expect(r?.terminated).toBe(false);
    expect(r?.info.moves).toBe(30);
    expect(() => env30.step(act('up'))).toThrow(/after the episode ended/);
    const short = envOf(OPEN, { maxMoves: 2 });
    const t = short.step(act('left', 'left', 'left'));
    expect(t.truncated).toBe(true);
    expect(t.info.actionText).toBe('left, left');
  });

  it('keeps at most movesPerTurn moves (3 full by default, 1 compact by default)', () => {
    const env = envOf(OPEN);
    expect(env.step(act('down', 'down', 'up', 'up')).info.actionText).toBe('down, down, up');
    const compact = envOf(OPEN, { template: 'compact' });
    expect(compact.params.movesPerTurn).toBe(1);
    const r = compact.step('down up </action>');
    expect(r.info.actionText).toBe('down');
    expect(r.info.valid).toBe(true);
  });

  it('restart() restores the initial state and counters exactly', () => {
    const env = envOf(OPEN);
    const first = [env.step(act('down', 'left')), env.step(act('up', 'up'))];
    const again = env.restart();
    expect(again.obs).toBe(OPEN);
    expect(env.anchor()).toBe(OPEN);
    expect([env.step(act('down', 'left')), env.step(act('up', 'up'))]).toEqual(first);
  });
});

describe('Sokoban action parsing (reference projection)', () => {
  const p = (s: string, max = 3) => parseSokobanAction(s, 'full', max);
  it('uses the first <action> and the last </action>, lower-cases, splits on commas', () => {
    expect(p('think <action>UP, Left</action> more </action>')).toEqual({ moves: ['up', 'left'], valid: true });
    expect(p('<action>up</action>, <action>down</action>').moves).toEqual(['up', 'down']);
    expect(p('<action>up</action> and <action>down</action>').moves).toEqual(['up']);
  });
  it('takes the first pool word (up, down, left, right, still) contained in each piece', () => {
    expect(p('<action>move upward, go left or right, push right then up</action>').moves).toEqual(['up', 'left', 'up']);
    expect(p('<action>stay still</action>').moves).toEqual(['still']);
  });
  it('keeps at most the configured number of moves', () => {
    expect(p('<action>up, down, left, right</action>').moves).toEqual(['up', 'down', 'left']);
    expect(p('<action>up, down</action>', 1).moves).toEqual(['up']);
  });
  it('is invalid without both tags, with tags in the wrong order, or with no move word', () => {
    for (const s of [
      'up, down',
      '<action>up',
      'up</action>',
      '</action>up<action>',
      '<action>jump</action>',
      '<Action>up</Action>',
    ]) {
      expect(p(s)).toEqual({ moves: ['still'], valid: false });
    }
  });
  it('compact: move words before </action>, nothing else', () => {
    const c = (s: string, max = 3) => parseSokobanAction(s, 'compact', max);
    expect(c('up left </action>')).toEqual({ moves: ['up', 'left'], valid: true });
    expect(c('still </action>')).toEqual({ moves: ['still'], valid: true });
    expect(c('up up up up </action>', 2).moves).toEqual(['up', 'up']);
    for (const s of ['up', ' </action>', 'jump </action>', 'up, left </action>', 'UP </action>'])
      expect(c(s).valid).toBe(false);
  });
});

describe('Sokoban generation', () => {
  const opts = { rows: 6, cols: 6, boxes: 2, genSteps: 20, searchDepth: 100, minSolution: 5, maxSolution: 21 };
  it('is deterministic per seed and varies across seeds', () => {
    const a = generateLevel(123, opts);
    const b = generateLevel(123, opts);
    expect(renderBoard(a.level, a.state)).toBe(renderBoard(b.level, b.state));
    const boards = new Set(
      Array.from({ length: 20 }, (_, s) => {
        const g = generateLevel(s, opts);
        return renderBoard(g.level, g.state);
      }),
    );
    expect(boards.size).toBe(20);
  });

  it('makes walled 6x6 rooms with 2 boxes off target and a shortest solution of 5..21 moves', () => {
    for (let seed = 0; seed < 200; seed++) {
      const g = generateLevel(seed, opts);
      const text = renderBoard(g.level, g.state);
      const rows = text.split('\n');
      expect(rows).toHaveLength(6);
      expect(rows[0]).toBe('0: # # # # # #');
      expect(rows[5]).toBe('5: # # # # # #');
      for (const r of rows) expect(r.endsWith('#') && r.split(' ')[1] === '#').toBe(true);
      expect(g.state.boxes).toHaveLength(2);
      expect(g.state.boxes.every((b) => !g.level.target[b])).toBe(true);
      expect(g.solution.length).toBeGreaterThanOrEqual(5);
      expect(g.solution.length).toBeLessThanOrEqual(21);
      expect(solveSokoban(g.level, g.state)?.length).toBe(g.solution.length);
    }
  });

  it('honours size, box count and solution-length options', () => {
    const env = new SokobanEnv({ size: [7, 8], boxes: 3, minSolution: 10, maxSolution: 30 });
    const r = env.reset({ seed: 4 });
    const rows = r.obs.split('\n');
    expect(rows).toHaveLength(7);
    expect(rows[0].split(' ')).toHaveLength(9);
    expect((r.obs.match(/[X√]/g) ?? []).length).toBe(3);
    expect(r.info.solutionLength as number).toBeGreaterThanOrEqual(10);
  });
});

describe('Sokoban solver and dead-end check', () => {
  it('finds a solution that wins when replayed', () => {
    const { level, state } = parseBoard(OPEN);
    const sol = solveSokoban(level, state);
    expect(sol).not.toBeNull();
    const env = envOf(OPEN, { movesPerTurn: 1 });
    let won = false;
    for (const m of sol ?? []) won = env.step(act(m)).info.won;
    expect(won).toBe(true);
  });

  it('its solutions are shortest: an independent depth-limited search finds none with one move less', () => {
    const opts = { rows: 6, cols: 6, boxes: 2, genSteps: 20, searchDepth: 100, minSolution: 5, maxSolution: 7 };
    const solvedWithin = (
      lv: ReturnType<typeof parseBoard>['level'],
      st: { player: number; boxes: number[] },
      depth: number,
    ): boolean => {
      if (st.boxes.every((b) => lv.target[b])) return true;
      if (depth === 0) return false;
      for (let d = 0; d < 4; d++) {
        const next = { player: st.player, boxes: st.boxes.slice() };
        if (applyMove(lv, next, d) && solvedWithin(lv, next, depth - 1)) return true;
      }
      return false;
    };
    for (let seed = 0; seed < 8; seed++) {
      const g = generateLevel(seed, opts);
      const n = g.solution.length;
      expect(solvedWithin(g.level, g.state, n)).toBe(true);
      expect(solvedWithin(g.level, g.state, n - 1)).toBe(false);
    }
  });

  it('isSolvable agrees with an unbounded BFS on states reached by random play', () => {
    const rng = createRng(11);
    const opts = { rows: 6, cols: 6, boxes: 2, genSteps: 20, searchDepth: 100, minSolution: 5, maxSolution: 21 };
    let dead = 0;
    let live = 0;
    for (let seed = 0; seed < 60; seed++) {
      const g = generateLevel(seed, opts);
      const s = { player: g.state.player, boxes: g.state.boxes.slice() };
      for (let i = 0; i < 25; i++) {
        applyMove(g.level, s, rng.int(4));
        const bfs = solveSokoban(g.level, s, 10_000) !== null;
        expect(isSolvable(g.level, s)).toBe(bfs);
        if (bfs) live++;
        else dead++;
      }
    }
    expect(dead).toBeGreaterThan(50);
    expect(live).toBeGreaterThan(50);
  });

  it('MOVES keep the reference action order', () => {
    expect(MOVES).toEqual(['up', 'down', 'left', 'right']);
  });
});

describe('Sokoban env contract and options', () => {
  it('explicit boards ignore the seed; generated levels follow it', () => {
    const e = new SokobanEnv({ board: OPEN });
    expect(e.reset({ seed: 1 }).obs).toBe(e.reset({ seed: 99 }).obs);
    const g = new SokobanEnv();
    expect(g.reset({ seed: 1 }).obs).toBe(new SokobanEnv().reset({ seed: 1 }).obs);
    expect(g.reset({ seed: 1 }).obs).not.toBe(g.reset({ seed: 2 }).obs);
  });

  it('rejects bad options and seeds with clear messages', () => {
    expect(() => new SokobanEnv({ boxes: 0 })).toThrow(/option 'boxes'/);
    expect(() => new SokobanEnv({ colour: 'red' } as never)).toThrow(/colour/);
    expect(() => new SokobanEnv({ size: 5, boxes: 8 })).toThrow(/do not fit/);
    expect(() => new SokobanEnv({ minSolution: 9, maxSolution: 4 })).toThrow(/exceeds 'maxSolution'/);
    expect(() => new SokobanEnv({ board: OPEN, size: 7 })).toThrow(/fixes the room/);
    expect(() => new SokobanEnv({ template: 'tiny' as never })).toThrow(/option 'template'/);
    expect(() => new SokobanEnv().reset({ seed: -1 })).toThrow(/non-negative integer/);
    expect(() => new SokobanEnv().reset({ seed: 1.5 })).toThrow(/non-negative integer/);
  });

  it('requires reset before step, and close is idempotent', () => {
    const env = new SokobanEnv();
    expect(() => env.step(act('up'))).toThrow(/reset/);
    env.reset({ seed: 3 });
    env.close();
    env.close();
    expect(() => env.step(act('up'))).toThrow(/closed/);
  });
});
