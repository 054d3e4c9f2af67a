import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayActions } from '../../../actor/envs/replay.js';

const BOARD = [
  '0: # # # # # #',
  '1: # _ _ _ _ #',
  '2: # _ X O _ #',
  '3: # _ P _ _ #',
  '4: # _ _ _ _ #',
  '5: # # # # # #',
].join('\n');
const MINES = {
  size: 6,
  mines: [
    [1, 1],
    [6, 6],
    [3, 4],
  ],
  firstClick: [6, 1],
};

describe('replayActions', () => {
  it('Sokoban: wraps each action in <action> tags and reports every step', () => {
    const r = replayActions('sokoban', { board: BOARD, actions: ['left', 'blah', 'up, right'] });
    expect(r.initial).toBe(BOARD);
    expect(r.steps.map((s) => [s.action, s.reward, s.valid, s.won, s.terminated, s.truncated])).toEqual([
      ['left', -0.1, true, false, false, false],
      ['blah', -0.1, false, false, false, false],
      ['up, right', 10.8, true, true, true, false],
    ]);
    expect(r.steps[2].observation).toContain('2: # _ P √ _ #');
    expect(Object.keys(r.steps[0]).sort()).toEqual([
      'action',
      'observation',
      'reward',
      'terminated',
      'truncated',
      'valid',
      'won',
    ]);
  });

  it('MineSweeper: 1-indexed layout, first click, every reward rule', () => {
    const r = replayActions('minesweeper', { ...MINES, actions: ['(1, 2)', '(7, 2)', 'bad', '(1, 1)'] });
    expect(r.initial.split('\n')[1]).toBe('Row 2: 1 1 1 ? ? ?');
    expect(r.steps.map((s) => [s.reward, s.valid, s.terminated])).toEqual([
      [0.5, true, false],
      [-1, true, false],
      [-1, false, false],
      [-0.1, true, true],
    ]);
    expect(r.steps[3].observation.split('\n')[0]).toBe('Row 1: * 1 ? ? ? ?');
  });

  it('rejects bad input with the problem named', () => {
    expect(() => replayActions('chess', { actions: [] })).toThrow(/unknown environment 'chess'/);
    expect(() => replayActions('sokoban', { board: '0: # # #\n1: # Q #\n2: # # #', actions: [] })).toThrow(
      /unknown symbol 'Q'/,
    );
    expect(() => replayActions('sokoban', { board: BOARD })).toThrow(/'actions'/);
    expect(() => replayActions('minesweeper', { ...MINES, mines: [[7, 2]], actions: [] })).toThrow(
      /mine \[7, 2\] is outside the 6x6 board/,
    );
    expect(() => replayActions('minesweeper', { ...MINES, actions: ['(1, 1)', '(1, 2)'] })).toThrow(
      /action 2 \('\(1, 2\)'\) comes after the episode ended/,
    );
    expect(() => replayActions('minesweeper', { ...MINES, extra: 1, actions: [] })).toThrow(/extra/);
  });
});

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', ...args], {
    encoding: 'utf8',
    cwd: process.cwd(),
  });
}

describe('lamer replay / check-env commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lamer-replay-'));

  it('replay --json prints one JSON object of the documented shape', () => {
    const file = join(dir, 'ms.json');
    writeFileSync(file, JSON.stringify({ ...MINES, actions: ['(1, 2)', '(3, 4)'] }));
    const r = cli(['replay', '--env', 'minesweeper', '--state', file, '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['initial', 'steps']);
    expect(out.steps[1]).toMatchObject({
      action: '(3, 4)',
      reward: -0.1,
      terminated: true,
      truncated: false,
      won: false,
      valid: true,
    });
  });

  it('replay exits non-zero with a clear message on bad input', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ board: '0: # # #\n1: # P #', actions: [] }));
    const r = cli(['replay', '--env', 'sokoban', '--state', file, '--json']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/lamer: error \[RL_ERR_BAD_STATE\]: malformed Sokoban board/);
  });

  it('check-env --json prints the report', () => {
    const r = cli(['check-env', '--env', 'lamer/MineSweeper-v0', '--episodes', '30', '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    for (const k of [
      'deterministic',
      'restartExact',
      'solverSuccess',
      'randomSuccess',
      'meanSolutionLength',
      'stepsPerSec',
    ])
      expect(out).toHaveProperty(k);
    expect(out.deterministic).toBe(true);
    expect(out.episodes).toBe(30);
  });
});
