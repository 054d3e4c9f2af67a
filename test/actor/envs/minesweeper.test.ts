import { describe, expect, it } from 'vitest';
import { createBoard, emptyState, generateBoard, renderMines, reveal } from '../../../actor/envs/minesweeper/board.js';
import { MineSweeperEnv } from '../../../actor/envs/minesweeper/env.js';
import { parseMineAction } from '../../../actor/envs/minesweeper/parse.js';
import {
  chooseMineCell,
  mineProbabilities,
  parseMineObs,
  type MineView,
} from '../../../actor/envs/minesweeper/solver.js';
import { createRng } from '../../../shared/rng.js';

const click = (r: number, c: number) => `<action>(${r}, ${c})</action>`;

function explicit(
  size: number,
  mines: Array<[number, number]>,
  firstClick: [number, number],
  template: 'full' | 'compact' = 'full',
) {
  const env = new MineSweeperEnv({ size, template, board: { mines, firstClick } });
  const first = env.reset({ seed: 0 });
  return { env, first };
}

// Hand-checked: the first click (6, 1) is a blank that cascades incl. diagonals; (4..2, 6) form a separate blank area.
const SIX = {
  mines: [
    [1, 1],
    [6, 6],
    [3, 4],
  ] as Array<[number, number]>,
  firstClick: [6, 1] as [number, number],
};
const SIX_INITIAL = [
  'Row 1: ? ? ? ? ? ?',
  'Row 2: 1 1 1 ? ? ?',
  'Row 3: . . 1 ? ? ?',
  'Row 4: . . 1 1 1 ?',
  'Row 5: . . . . 1 ?',
  'Row 6: . . . . 1 ?',
].join('\n');

// Mines around the ring of a 5x5 board: every ring cell is a number, the centre (3, 3) a blank.
const RING = {
  mines: [
    [1, 3],
    [3, 1],
    [3, 5],
    [5, 3],
  ] as Array<[number, number]>,
  firstClick: [1, 1] as [number, number],
};

describe('MineSweeper rendering and first click', () => {
  it("renders 'Row r:' from 1 with the automatic first click cascading through blanks and diagonals", () => {
    const { first } = explicit(6, SIX.mines, SIX.firstClick);
    expect(first.obs).toBe(SIX_INITIAL);
    expect(first.info.firstClick).toEqual([6, 1]);
  });

  it('derives first click and mines from the task seed: same seed, same board; varied across seeds', () => {
    const a = new MineSweeperEnv().reset({ seed: 77 });
    const b = new MineSweeperEnv().reset({ seed: 77 });
    expect(a).toEqual(b);
    const clicks = new Set<string>();
    for (let seed = 0; seed < 300; seed++) {
      const g = generateBoard(seed, 6, 3);
      clicks.add(String(g.firstClick));
      expect(g.board.mine[g.firstClick]).toBe(0);
      expect(g.board.nMines).toBe(3);
      const s = emptyState(g.board);
      reveal(g.board, s, g.firstClick);
      expect(s.revealedCount).toBeLessThan(33); // never already won
    }
    expect(clicks.size).toBeGreaterThan(30);
  });

  it('after a loss only the clicked mine shows *; after a win the mines stay ?', () => {
    const { env } = explicit(6, SIX.mines, SIX.firstClick);
    const lost = env.step(click(1, 1));
    expect(lost.obs.split('\n')[0]).toBe('Row 1: * ? ? ? ? ?');
    expect(lost.obs).toContain('Row 3: . . 1 ? ? ?'); // mine (3, 4) still hidden
    expect((lost.obs.match(/\*/g) ?? []).length).toBe(1);
    const { env: w } = explicit(6, SIX.mines, SIX.firstClick);
    let r;
    for (let i = 0; i < 40; i++) {
      const ch = chooseMineCell(parseMineObs(w.render(), 3));
      r = w.step(click(ch.row, ch.col));
      if (r.terminated) break;
    }
    expect(r?.info.won).toBe(true);
    expect((r?.obs.match(/\?/g) ?? []).length).toBe(3);
    expect(r?.obs).not.toContain('*');
  });
});

describe('MineSweeper rewards', () => {
  it('a reveal changing one cell gives +0.5, a cascade +2', () => {
    const { env } = explicit(6, SIX.mines, SIX.firstClick);
    const one = env.step(click(1, 2));
    expect(one.reward).toBe(0.5);
    expect(one.info).toMatchObject({ valid: true, won: false, actionText: '(1, 2)', revealed: 1 });
    const { env: ring } = explicit(5, RING.mines, RING.firstClick);
    const many = ring.step(click(1, 5)); // a blank corner: opens itself and its 3 numbered neighbours
    expect(many.reward).toBe(2);
    expect(many.info.revealed).toBe(4);
    expect(many.terminated).toBe(false);
  });

  it('+0.5 also when the single changed cell is a blank whose neighbours are already open', () => {
    const { env } = explicit(5, RING.mines, RING.firstClick);
    for (const [r, c] of [
      [2, 3],
      [2, 4],
      [3, 2],
      [3, 4],
      [4, 2],
      [4, 3],
      [4, 4],
    ])
      expect(env.step(click(r, c)).reward).toBe(0.5);
    const centre = env.step(click(3, 3));
    expect(centre.reward).toBe(0.5);
    expect(centre.obs.split('\n')[2]).toBe('Row 3: ? 1 . 1 ?');
  });

  it('invalid, out-of-range and already-revealed clicks cost -1 and change nothing', () => {
    const { env } = explicit(6, SIX.mines, SIX.firstClick);
    const cases: Array<[string, boolean, string]> = [
      [click(6, 1), true, '(6, 1)'],
      [click(0, 3), true, '(0, 3)'],
      [click(7, 2), true, '(7, 2)'],
      ['(2, 3)', false, 'no operation'],
      ['<action>3 3</action>', false, 'no operation'],
    ];
    for (const [resp, valid, text] of cases) {
      const r = env.step(resp);
      expect(r.reward).toBe(-1);
      expect(r.info).toMatchObject({ valid, actionText: text, won: false });
      expect(r.terminated || r.truncated).toBe(false);
      expect(r.obs).toBe(SIX_INITIAL);
    }
  });

  it('option wastedClickReward sets the reward of a click that changes nothing', () => {
    const env = new MineSweeperEnv({
      size: 6,
      board: { mines: SIX.mines as Array<[number, number]>, firstClick: SIX.firstClick as [number, number] },
      wastedClickReward: -0.2,
    });
    env.reset({ seed: 0 });
    expect(env.step(click(6, 1)).reward).toBe(-0.2);
    expect(env.step('(2, 3)').reward).toBe(-0.2);
    expect(() => new MineSweeperEnv({ wastedClickReward: 1 })).toThrow(/option 'wastedClickReward'/);
  });

  it('clicking a mine gives -0.1 and terminates the episode (lost)', () => {
    const { env } = explicit(6, SIX.mines, SIX.firstClick);
    env.step(click(1, 2));
    const r = env.step(click(3, 4));
    expect(r.reward).toBe(-0.1);
    expect(r.terminated).toBe(true);
    expect(r.truncated).toBe(false);
    expect(r.info).toMatchObject({ won: false, lost: true, episode: { r: 0.4, l: 2 } });
    expect(() => env.step(click(1, 3))).toThrow(/after the episode ended/);
  });

  it('the reveal that clears the board gives +10 and wins', () => {
    const { env: e2 } = explicit(
      3,
      [
        [1, 1],
        [1, 3],
      ],
      [3, 2],
    );
    expect(e2.render()).toBe(['Row 1: ? ? ?', 'Row 2: 1 2 1', 'Row 3: . . .'].join('\n'));
    const win = e2.step(click(1, 2));
    expect(win.reward).toBe(10);
    expect(win.terminated).toBe(true);
    expect(win.info.won).toBe(true);
    expect(win.obs.split('\n')[0]).toBe('Row 1: ? 2 ?');
  });

  it('has no step limit of its own (max turns belong to the trial runner)', () => {
    const { env } = explicit(6, SIX.mines, SIX.firstClick);
    for (let i = 0; i < 500; i++) {
      const r = env.step('nothing useful');
      expect(r.truncated || r.terminated).toBe(false);
    }
  });

  it('restart() restores the post-first-click state exactly', () => {
    const env = new MineSweeperEnv();
    const start = env.reset({ seed: 5 });
    const ch = chooseMineCell(parseMineObs(start.obs, 3));
    const a = env.step(click(ch.row, ch.col));
    const again = env.restart();
    expect(again.obs).toBe(start.obs);
    expect(env.anchor()).toBe(start.obs);
    expect(env.step(click(ch.row, ch.col))).toEqual(a);
  });
});

describe('MineSweeper parsing (reference rules)', () => {
  const p = (s: string) => parseMineAction(s, 'full');
  it('takes the first (int, int) inside the first <action> block', () => {
    expect(p('I pick <action>(2, 3)</action>')).toEqual({ row: 2, col: 3, valid: true });
    expect(p('<action>maybe (4,5) or (1, 1)</action>')).toEqual({ row: 4, col: 5, valid: true });
    expect(p('<action>( 2 ,3 )</action>')).toEqual({ row: 2, col: 3, valid: true });
    expect(p('<action>(1, 1)</action> then <action>(5, 5)</action>')).toMatchObject({ row: 1, col: 1 });
    expect(p('<action>(0, 3)</action>').valid).toBe(true);
  });
  it('is invalid with missing or upper-case tags, tags in the wrong order, (3 3) or negative numbers', () => {
    for (const s of [
      '(2, 3)',
      '<action>(2, 3)',
      '<ACTION>(2, 3)</ACTION>',
      '</action>(2, 3)<action>',
      '<action>(3 3)</action>',
      '<action>(-1, 2)</action>',
      '<action>2, 3</action>',
    ]) {
      expect(p(s).valid).toBe(false);
    }
  });
  it('compact: exactly two number words of the vocabulary before </action>', () => {
    const c = (s: string) => parseMineAction(s, 'compact');
    expect(c('2 3 </action>')).toEqual({ row: 2, col: 3, valid: true });
    expect(c(' 4  5  </action> extra')).toEqual({ row: 4, col: 5, valid: true });
    for (const s of [
      '2 3',
      '2 </action>',
      '2 3 4 </action>',
      'a b </action>',
      '33 1 </action>',
      '(2, 3) </action>',
      '02 3 </action>',
    ]) {
      expect(c(s).valid).toBe(false);
    }
  });
});

describe('MineSweeper explicit boards and options', () => {
  it('names the problem in a malformed board', () => {
    expect(() => explicit(6, [[7, 1]], [1, 1])).toThrow(/mine \[7, 1\] is outside the 6x6 board/);
    expect(() =>
      explicit(
        6,
        [
          [2, 2],
          [2, 2],
        ],
        [1, 1],
      ),
    ).toThrow(/listed twice/);
    expect(() => explicit(6, [[2, 2]], [2, 2])).toThrow(/firstClick \[2, 2\] is a mine/);
    expect(() => explicit(6, [[2, 2]], [0, 1])).toThrow(/firstClick \[0, 1\] is outside/);
    expect(() => explicit(3, [[1, 1]], [3, 3])).toThrow(/already clears the whole board/);
    expect(() => explicit(6, [], [1, 1])).toThrow(/no mines/);
  });

  it('rejects bad options', () => {
    expect(() => new MineSweeperEnv({ mines: 35 })).toThrow(/at least 2 safe cells/);
    expect(() => new MineSweeperEnv({ size: 1 })).toThrow(/option 'size'/);
    expect(() => new MineSweeperEnv({ size: 20, template: 'compact' })).toThrow(
      /compact template supports boards up to 16x16/,
    );
    expect(() => new MineSweeperEnv({ flags: true } as never)).toThrow(/flags/);
    expect(() => new MineSweeperEnv({ mines: 4, board: { mines: [[1, 1]], firstClick: [3, 3] } })).toThrow(
      /either 'mines'/,
    );
  });

  it('supports harder configurations (bigger boards, more mines)', () => {
    const env = new MineSweeperEnv({ size: 9, mines: 10 });
    const r = env.reset({ seed: 1 });
    expect(r.obs.split('\n')).toHaveLength(9);
    expect(r.obs.split('\n')[8].startsWith('Row 9: ')).toBe(true);
    expect(env.params).toMatchObject({ size: 9, mines: 10 });
  });
});

/** All mine layouts consistent with the view, by brute force over every subset of hidden cells. */
function bruteProbabilities(view: MineView): number[] {
  const hidden: number[] = [];
  for (let c = 0; c < view.cells.length; c++) if (view.cells[c] === -1) hidden.push(c);
  const counts = new Array(view.cells.length).fill(0);
  let total = 0;
  const pick: number[] = [];
  const consistent = () => {
    const mine = new Set(pick);
    for (let c = 0; c < view.cells.length; c++) {
      if (view.cells[c] < 0) continue;
      const r = Math.floor(c / view.size);
      const k = c % view.size;
      let n = 0;
      for (let dr = -1; dr <= 1; dr++)
        for (let dk = -1; dk <= 1; dk++) {
          const rr = r + dr;
          const kk = k + dk;
          if ((dr || dk) && rr >= 0 && rr < view.size && kk >= 0 && kk < view.size && mine.has(rr * view.size + kk))
            n++;
        }
      if (n !== view.cells[c]) return false;
    }
    return true;
  };
  const rec = (start: number) => {
    if (pick.length === view.nMines) {
      if (consistent()) {
        total++;
        for (const m of pick) counts[m]++;
      }
      return;
    }
    for (let i = start; i < hidden.length; i++) {
      pick.push(hidden[i]);
      rec(i + 1);
      pick.pop();
    }
  };
  rec(0);
  return counts.map((x) => x / total);
}

describe('MineSweeper solver', () => {
  it('mine probabilities equal brute-force enumeration on mid-game boards', () => {
    const rng = createRng(21);
    let checked = 0;
    for (let seed = 0; seed < 40; seed++) {
      const size = 5;
      const nMines = 3 + (seed % 3);
      const g = generateBoard(seed, size, nMines);
      const s = emptyState(g.board);
      reveal(g.board, s, g.firstClick);
      for (let k = 0; k < 1 + rng.int(4); k++) {
        const safe = [...Array(size * size).keys()].filter((c) => !g.board.mine[c] && !s.revealed[c]);
        if (safe.length <= 1) break;
        reveal(g.board, s, rng.pick(safe));
      }
      const view = parseMineObs(renderMines(g.board, s), nMines);
      const exact = bruteProbabilities(view);
      const got = mineProbabilities(view);
      for (let c = 0; c < size * size; c++) {
        if (view.cells[c] === -1) expect(got[c]).toBeCloseTo(exact[c], 9);
      }
      checked++;
    }
    expect(checked).toBe(40);
  });

  it('a known (remembered) mine counts toward the numbers and the mine total and is never chosen', () => {
    // 2x2: "1" in the corner, three hidden neighbours, one mine in all. Unknown: 1/3 each.
    const view: MineView = { size: 2, cells: Int8Array.from([1, -1, -1, -1]), nMines: 1 };
    const p0 = mineProbabilities(view);
    [1, 2, 3].forEach((c) => expect(p0[c]).toBeCloseTo(1 / 3, 12));
    // Cell (1, 2) remembered as a mine: the "1" is accounted for, the other two cells are provably safe.
    const known: MineView = { size: 2, cells: Int8Array.from([1, -3, -1, -1]), nMines: 1 };
    const p1 = mineProbabilities(known);
    expect(p1[2]).toBe(0);
    expect(p1[3]).toBe(0);
    const ch = chooseMineCell(known);
    expect(ch.cell).not.toBe(1);
    expect(ch.safe).toBe(true);
  });

  it('never clicks a provable mine and only reports safe cells that are safe', () => {
    for (let seed = 0; seed < 200; seed++) {
      const env = new MineSweeperEnv();
      env.reset({ seed });
      for (let t = 0; t < 40; t++) {
        const view = parseMineObs(env.render(), 3);
        const ch = chooseMineCell(view);
        const { board } = env.snapshot();
        if (ch.safe) expect(board.mine[ch.cell]).toBe(0);
        const r = env.step(click(ch.row, ch.col));
        if (r.terminated) break;
      }
    }
  });

  it('wins at least 85% of default boards', () => {
    let wins = 0;
    const env = new MineSweeperEnv();
    for (let seed = 0; seed < 400; seed++) {
      env.reset({ seed });
      for (let t = 0; t < 40; t++) {
        const ch = chooseMineCell(parseMineObs(env.render(), 3));
        const r = env.step(click(ch.row, ch.col));
        if (r.terminated) {
          if (r.info.won) wins++;
          break;
        }
      }
    }
    expect(wins / 400).toBeGreaterThanOrEqual(0.85);
  });

  it('board model: counts include diagonals', () => {
    const b = createBoard(3, [4]); // centre mine
    expect(Array.from(b.count)).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1]);
  });
});
