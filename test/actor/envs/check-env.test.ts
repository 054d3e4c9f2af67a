import { describe, expect, it } from 'vitest';
import { checkEnv } from '../../../actor/envs/check-env.js';
import { MineSweeperEnv } from '../../../actor/envs/minesweeper/env.js';
import { minesweeperSpec } from '../../../actor/envs/minesweeper/spec.js';
import { registerEnv } from '../../../actor/envs/registry.js';
import { SokobanEnv } from '../../../actor/envs/sokoban/env.js';
import { sokobanSpec } from '../../../actor/envs/sokoban/spec.js';
import type { EnvSpec, StepResult } from '../../../actor/envs/types.js';

describe('env checker: 1,000 seeds per env', () => {
  it('Sokoban (full template, 3 moves per turn) passes; every level solved by the solver', () => {
    const r = checkEnv('sokoban', { episodes: 1000 });
    expect(r.failures).toEqual([]);
    expect(r).toMatchObject({
      deterministic: true,
      restartExact: true,
      rulesConsistent: true,
      ok: true,
      solverSuccess: 1,
    });
    expect(r.meanSolutionLength).toBeGreaterThanOrEqual(5);
    expect(r.meanSolutionLength).toBeLessThanOrEqual(21);
    expect(r.randomSuccess).toBeLessThan(0.2);
  });

  it('MineSweeper (full template) passes; solver wins >= 85%', () => {
    const r = checkEnv('minesweeper', { episodes: 1000 });
    expect(r.failures).toEqual([]);
    expect(r).toMatchObject({ deterministic: true, restartExact: true, rulesConsistent: true, ok: true });
    expect(r.solverSuccess).toBeGreaterThanOrEqual(0.85);
    expect(r.randomSuccess).toBeLessThan(r.solverSuccess);
  });

  it('compact templates pass too', () => {
    const ms = checkEnv('minesweeper', { episodes: 1000, options: { template: 'compact' } });
    expect(ms.ok && ms.failures.length === 0).toBe(true);
    const sk = checkEnv('sokoban', { episodes: 300, seedStart: 5000, options: { template: 'compact' } });
    expect(sk.failures).toEqual([]);
    expect(sk.ok).toBe(true);
    expect(sk.solverSuccess).toBe(1);
  });

  it('harder configurations pass', () => {
    const ms = checkEnv('minesweeper', { episodes: 100, options: { size: 8, mines: 10 } });
    expect(ms.failures).toEqual([]);
    const sk = checkEnv('sokoban', { episodes: 30, options: { size: 7, boxes: 3, maxSolution: 30 } });
    expect(sk.failures).toEqual([]);
    expect(sk.solverSuccess).toBe(1);
  });
});

// Deliberately broken envs: the checker must notice each defect.
let counter = 0;
class NondeterministicReset extends MineSweeperEnv {
  override reset(): { obs: string; info: Record<string, unknown> } {
    return super.reset({ seed: counter++ });
  }
}
class ForgetfulRestart extends MineSweeperEnv {
  private last = 0;
  private inside = false;
  override reset(opts: { seed: number }) {
    this.last = opts.seed;
    this.inside = true;
    try {
      return super.reset(opts);
    } finally {
      this.inside = false;
    }
  }
  override restart() {
    // reset() itself ends in restart(); only a caller's restart() is broken (it moves to the next instance).
    if (this.inside) return super.restart();
    this.inside = true;
    try {
      return super.reset({ seed: this.last + 1 });
    } finally {
      this.inside = false;
    }
  }
}
class GenerousRewards extends SokobanEnv {
  override step(response: string): StepResult {
    const r = super.step(response);
    return r.info.won
      ? {
          ...r,
          reward: r.reward + 1,
          info: { ...r.info, episode: r.info.episode && { ...r.info.episode, r: r.info.episode.r + 1 } },
        }
      : r;
  }
}
class BadEpisodeInfo extends MineSweeperEnv {
  override step(response: string): StepResult {
    const r = super.step(response);
    return r.terminated ? { ...r, info: { ...r.info, episode: { r: 0, l: 0 } } } : r;
  }
}
// Registered under their own ids with the wrapped env's spec; the envs still report the wrapped env's id.
const broken = (spec: EnvSpec, id: string, make: EnvSpec['make']) =>
  registerEnv({ ...spec, id, aliases: [], description: 'broken', make });
broken(minesweeperSpec, 'test/NondeterministicReset-v0', (o) => new NondeterministicReset(o));
broken(minesweeperSpec, 'test/ForgetfulRestart-v0', (o) => new ForgetfulRestart(o));
broken(sokobanSpec, 'test/GenerousRewards-v0', (o) => new GenerousRewards(o));
broken(minesweeperSpec, 'test/BadEpisodeInfo-v0', (o) => new BadEpisodeInfo(o));

describe('env checker catches broken envs', () => {
  it('non-deterministic reset', () => {
    const r = checkEnv('test/NondeterministicReset-v0', { episodes: 5 });
    expect(r.deterministic).toBe(false);
    expect(r.ok).toBe(false);
    expect(r.failures[0]).toMatch(/seed 0: two resets with the same seed differ/);
  });
  it('restart that does not restore the instance', () => {
    const r = checkEnv('test/ForgetfulRestart-v0', { episodes: 5 });
    expect(r.restartExact).toBe(false);
    expect(r.deterministic).toBe(true);
    expect(r.ok).toBe(false);
  });
  it('rewards that break the reference formula (checked by the env id the wrapper reports)', () => {
    const r = checkEnv('test/GenerousRewards-v0', { episodes: 5 });
    expect(r.rulesConsistent).toBe(false);
    expect(r.failures.join('\n')).toMatch(/solver return .* != reward formula/);
  });
  it('wrong info.episode totals', () => {
    const r = checkEnv('test/BadEpisodeInfo-v0', { episodes: 3 });
    expect(r.rulesConsistent).toBe(false);
    expect(r.failures.join('\n')).toMatch(/info.episode/);
  });
});
