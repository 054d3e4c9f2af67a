import { describe, expect, it } from 'vitest';
import { retryEpisodes } from '../../../actor/envs/retry.js';

describe('retry episodes', () => {
  it('MineSweeper keys episodes by the cells clicked; the fatal key is the mine cell of a lost episode', () => {
    const plays = [
      { episode: 0, actionText: '(1, 1)' },
      { episode: 0, actionText: '(2, 2)' },
      { episode: 1, actionText: '(3, 3)' },
    ];
    const steps = [
      { obs: 'a', terminated: false, won: false },
      { obs: 'b', terminated: true, won: false },
      { obs: 'c', terminated: true, won: true },
    ];
    expect(retryEpisodes('minesweeper', plays, steps)).toEqual([
      { won: false, visited: ['(1, 1)', '(2, 2)'], fatal: '(2, 2)' },
      { won: true, visited: ['(3, 3)'] },
    ]);
  });
  it('Sokoban keys episodes by the states reached; a timeout (no terminal step) has no fatal key', () => {
    const plays = [
      { episode: 0, actionText: 'up' },
      { episode: 1, actionText: 'up' },
      { episode: 1, actionText: 'left' },
    ];
    const steps = [
      { obs: 'dead', terminated: true, won: false },
      { obs: 's1', terminated: false, won: false },
      { obs: 's2', terminated: false, won: false },
    ];
    expect(retryEpisodes('sokoban', plays, steps)).toEqual([
      { won: false, visited: ['dead'], fatal: 'dead' },
      { won: false, visited: ['s1', 's2'] },
    ]);
    expect(() => retryEpisodes('sokoban', plays, steps.slice(1))).toThrow(/3 play turns but 2 env steps/);
  });
});
