import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AlfWorldEnv } from '../../../../actor/envs/alfworld/env.js';
import { execute } from '../../../../actor/envs/alfworld/engine.js';
import {
  demangleNames,
  findGames,
  loadGame,
  parseSExpr,
  stateFromGame,
} from '../../../../actor/envs/alfworld/loader.js';
import { plannerCommand } from '../../../../actor/envs/alfworld/planner.js';
import { checkEnv } from '../../../../actor/envs/check-env.js';

const FIXTURES = fileURLToPath(new URL('./fixtures', import.meta.url));
const UNSUPPORTED = fileURLToPath(new URL('./fixtures-unsupported', import.meta.url));

describe('ALFWorld game loader', () => {
  it('demangles ids as ALFWorld: sorted lower-case ids numbered from the highest down, basins named', () => {
    const names = demangleNames([
      'Apple_bar__plus_00_dot_20_bar__plus_00_dot_90',
      'Apple_bar__minus_01_dot_65_bar__plus_00_dot_86',
      'Sink_bar__plus_00_dot_71_bar_SinkBasin',
      'Sink_bar__plus_00_dot_71',
      'agent1',
    ]);
    expect(names.get('Apple_bar__minus_01_dot_65_bar__plus_00_dot_86')).toBe('apple 2'); // '_m' sorts before '_p'
    expect(names.get('Apple_bar__plus_00_dot_20_bar__plus_00_dot_90')).toBe('apple 1');
    expect(names.get('Sink_bar__plus_00_dot_71_bar_SinkBasin')).toBe('sinkbasin 1');
    expect(names.get('Sink_bar__plus_00_dot_71')).toBe('sink 1');
    expect(names.get('agent1')).toBe('agent1');
  });

  it('parses PDDL and rejects unbalanced text', () => {
    expect(parseSExpr('(a (b c) ; comment )\n d)')).toEqual([['a', ['b', 'c'], 'd']]);
    expect(() => parseSExpr('(a (b)')).toThrow(/unbalanced "\("/);
    expect(() => parseSExpr('a)')).toThrow(/unbalanced "\)"/);
    expect(() =>
      stateFromGame('(foo)', { task_type: 'pick_and_place_simple', pddl_params: { object_target: 'Apple' } }),
    ).toThrow(/no \(define/);
  });

  it('loads both file forms: receptacles, objects, containment, start, task', () => {
    const games = findGames(FIXTURES);
    expect(games.map((g) => g.split('/').slice(-2, -1)[0])).toEqual([
      'look_at_obj_in_light-Book-None-DeskLamp-301',
      'pick_heat_then_place_in_recep-Apple-None-Fridge-1',
    ]);
    const heat = loadGame(games[1]);
    expect(Object.keys(heat.receptacles)).toEqual([
      'cabinet 2',
      'cabinet 1',
      'countertop 1',
      'fridge 1',
      'microwave 1',
      'sinkbasin 1',
    ]);
    expect(heat.receptacles['cabinet 1']).toEqual({ id: 'cabinet 1', type: 'cabinet', openable: true, opened: false });
    expect(heat.objects.map((o) => [o.id, o.loc])).toEqual([
      ['apple 2', 'cabinet 1'],
      ['apple 1', 'countertop 1'],
      ['mug 1', 'countertop 1'],
    ]);
    expect(heat.task).toMatchObject({ type: 'pick_heat_then_place_in_recep', object: 'apple', receptacle: 'fridge' });
    expect(['put a hot apple in fridge.', 'heat some apple and put it in fridge.']).toContain(heat.task.text);
    expect(heat.at).toBeNull(); // the agent's start location has no receptacle: the middle of the room
    expect(heat.rules?.affordances['apple 1']).toMatchObject({ pickupable: true, heatable: true, light: false });
    expect(heat.rules?.canContain.cabinet).toEqual(['mug', 'apple']);

    const look = loadGame(games[0]);
    expect(look.task).toMatchObject({
      type: 'look_at_obj_in_light',
      object: 'book',
      receptacle: null,
      toggle: 'desklamp',
    });
    expect(look.at).toBe('bed 1');
    // the floor lamp stands at the bed's location: attached to the bed
    expect(look.objects.find((o) => o.type === 'floorlamp')).toMatchObject({ loc: 'bed 1' });
    // game facts decide: 'book' may go into the drawer in this game
    const s = structuredClone(look);
    execute(s, 'take book 1 from bed 1');
    execute(s, 'go to drawer 1');
    execute(s, 'open drawer 1');
    expect(execute(s, 'move book 1 to drawer 1')).toBe('You move the book 1 to the drawer 1.');
  });

  it('the env plays loaded games (game = seed mod count) and the planner solves them', () => {
    const env = new AlfWorldEnv({ dataDir: FIXTURES });
    expect(env.params.games).toBe(2);
    for (const seed of [0, 1, 2, 3]) {
      const r = env.reset({ seed });
      expect(r.info).toMatchObject({
        split: 'data',
        taskType: seed % 2 === 0 ? 'look_at_obj_in_light' : 'pick_heat_then_place_in_recep',
      });
      expect(r.obs.startsWith('-= Welcome to TextWorld, ALFRED! =-\n\n')).toBe(true);
      let won = false;
      for (let t = 0; t < 20 && !won; t++)
        won = env.step(`<action>${plannerCommand(env.snapshot())}</action>`).info.won;
      expect(won).toBe(true);
    }
    expect(env.reset({ seed: 0 }).obs).toContain('You are facing the bed 1. Next to it, you see nothing.');
    expect(checkEnv('alfworld', { episodes: 6, options: { dataDir: FIXTURES } })).toMatchObject({
      ok: true,
      solverSuccess: 1,
    });
  });

  it('names unsupported games, missing files and conflicting options', () => {
    const [sliced] = findGames(UNSUPPORTED);
    expect(() => loadGame(sliced)).toThrow(/sliced and movable-receptacle tasks are not supported/);
    expect(() => findGames(`${FIXTURES}/nope`)).toThrow(/is not a directory/);
    expect(() => findGames(`${FIXTURES}/look_at_obj_in_light-Book-None-DeskLamp-301`)).not.toThrow();
    expect(() => loadGame(FIXTURES)).toThrow(/cannot read traj_data\.json/);
    expect(() => new AlfWorldEnv({ dataDir: FIXTURES, taskType: 'pick_and_place_simple' })).toThrow(
      /exclude each other/,
    );
    expect(() =>
      stateFromGame('(define (problem p) (:objects) (:init))', {
        task_type: 'dance',
        pddl_params: { object_target: 'Apple' },
      }),
    ).toThrow(/not one of the six/);
  });
});
