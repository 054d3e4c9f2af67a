import { describe, expect, it } from 'vitest';
import {
  envSpec,
  envSpecs,
  listEnvs,
  makeEnv,
  registerEnv,
  resolvedEnvOptions,
  resolveEnvId,
} from '../../../actor/envs/registry.js';
import { SokobanEnv } from '../../../actor/envs/sokoban/env.js';
import { sokobanSpec } from '../../../actor/envs/sokoban/spec.js';

describe('env registry', () => {
  it('makes envs by id or alias, passing options through', () => {
    expect(makeEnv('lamer/Sokoban-v0').id).toBe('lamer/Sokoban-v0');
    expect(makeEnv('sokoban').id).toBe('lamer/Sokoban-v0');
    expect(makeEnv('MineSweeper').id).toBe('lamer/MineSweeper-v0');
    const env = makeEnv('minesweeper', { template: 'compact', mines: 4 });
    expect(env.template).toBe('compact');
    expect(env.params).toMatchObject({ mines: 4, size: 6 });
    expect(makeEnv('sokoban').template).toBe('full');
  });

  it('names the known ids when the id is unknown', () => {
    try {
      makeEnv('lamer/WebShop-v9');
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe('RL_ERR_UNKNOWN_ENV');
      expect((e as Error).message).toMatch(
        new RegExp(
          /unknown environment 'lamer\/WebShop-v9'; known: .*lamer\/MineSweeper-v0 \(minesweeper\)/.source +
            /.*lamer\/Sokoban-v0 \(sokoban\)/.source,
        ),
      );
    }
  });

  it('reports bad options with the env and option names', () => {
    expect(() => makeEnv('minesweeper', { mines: 'three' })).toThrow(
      /lamer\/MineSweeper-v0: invalid options: option 'mines'/,
    );
    expect(() => makeEnv('sokoban', { boxs: 2 })).toThrow(/lamer\/Sokoban-v0: invalid options: .*boxs/);
  });

  it('registers new envs data-driven and refuses duplicate ids, aliases and malformed ids', () => {
    const spec = (id: string, description: string, aliases: string[] = []) => ({
      ...sokobanSpec,
      id,
      description,
      aliases,
      make: (o: Record<string, unknown>) => new SokobanEnv(o),
    });
    registerEnv(spec('test/Tiny-v0', 'test', ['tiny']));
    expect(resolveEnvId('tiny')).toBe('test/Tiny-v0');
    expect(listEnvs().map((e) => e.id)).toContain('test/Tiny-v0');
    expect(envSpec('TINY').description).toBe('test');
    expect(() => registerEnv(spec('test/Tiny-v0', 'again'))).toThrow(/already registered/);
    expect(() => registerEnv(spec('test/Other-v0', 'x', ['sokoban']))).toThrow(/alias 'sokoban' is already taken/);
    expect(() => registerEnv(spec('NoNamespace', 'x'))).toThrow(/namespace\/Name-vN/);
  });

  it('resolves options with their defaults (what a base model cache key hashes) for every env', () => {
    for (const spec of envSpecs()) expect(spec.options, spec.id).toBeDefined();
    const ms = resolvedEnvOptions('minesweeper', { template: 'compact', mines: 4 }) as Record<string, unknown>;
    expect(ms).toMatchObject({ template: 'compact', mines: 4, size: 6, memoryOnBoard: true });
    expect(ms.wastedClickReward).toBe(-1);
    // Given or defaulted, the same resolved options.
    expect(resolvedEnvOptions('minesweeper', { template: 'compact', mines: 4, size: 6 })).toEqual(ms);
    expect(() => resolvedEnvOptions('minesweeper', { mines: 'many' })).toThrow();
  });

  it('lists envs sorted with descriptions', () => {
    const ids = listEnvs().map((e) => e.id);
    expect(ids).toEqual([...ids].sort());
    expect(listEnvs().find((e) => e.id === 'lamer/Sokoban-v0')?.aliases).toEqual(['sokoban']);
  });
});

describe('public API (actor/envs/index.ts)', () => {
  it('exposes explicit-state constructors that return reset envs', async () => {
    const api = await import('../../../actor/envs/index.js');
    const s = api.sokobanFromBoard('0: # # # # #\n1: # P X O #\n2: # # # # #');
    expect(s.step('<action>right</action>').info.won).toBe(true);
    const m = api.minesweeperFromLayout({ size: 4, mines: [[1, 1]], firstClick: [1, 2] }, { template: 'compact' });
    expect(m.render()).toBe('Row 1: ? 1 ? ?\nRow 2: ? ? ? ?\nRow 3: ? ? ? ?\nRow 4: ? ? ? ?');
    expect(m.step('4 4 </action>').info.won).toBe(true);
    expect(api.makeEnv('sokoban').id).toBe(api.SOKOBAN_ID);
  });
});
