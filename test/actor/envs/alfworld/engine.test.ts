import { describe, expect, it } from 'vitest';
import {
  NOTHING_HAPPENS,
  admissibleCommands,
  execute,
  initialObservation,
  listText,
  lookText,
  objectText,
} from '../../../../actor/envs/alfworld/engine.js';
import { obj, smallRoom } from './rooms.js';
import { canContain } from '../../../../actor/envs/alfworld/world.js';

describe('ALFWorld feedback texts', () => {
  it('lists read "a x, a y, and a z"', () => {
    expect(listText([])).toBe('nothing');
    expect(listText(['apple 1'])).toBe('a apple 1');
    expect(listText(['apple 1', 'mug 2'])).toBe('a apple 1, and a mug 2');
    expect(listText(['apple 1', 'mug 2', 'cup 1'])).toBe('a apple 1, a mug 2, and a cup 1');
  });

  it('first observation: banner, room overview, task', () => {
    expect(initialObservation(smallRoom())).toBe(
      '-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room. ' +
        'Looking quickly around you, you see a cabinet 1, a countertop 1, a desk 1, a fridge 1, ' +
        'a microwave 1, and a sinkbasin 1.' +
        '\n\nYour task is to: put a apple in fridge.',
    );
  });

  it("examining objects follows ALFWorld's condition order", () => {
    expect(objectText(obj('apple 1', null))).toBe("There's nothing special about apple 1.");
    expect(objectText(obj('apple 1', null, { hot: true }))).toBe('This is a hot apple 1.');
    expect(objectText(obj('apple 1', null, { cool: true }))).toBe('This is a cold apple 1.');
    expect(objectText(obj('apple 1', null, { clean: true }))).toBe('This is a clean apple 1.');
    expect(objectText(obj('apple 1', null, { clean: true, hot: true }))).toBe('This is a hot and clean apple 1.');
    expect(objectText(obj('apple 1', null, { clean: true, cool: true, sliced: true }))).toBe(
      'This is a cool and clean sliced apple 1.',
    );
    expect(objectText(obj('apple 1', null, { sliced: true }))).toBe('This is a sliced apple 1.');
    expect(objectText(obj('desklamp 1', 'desk 1'), true)).toBe('This desklamp 1 is off.');
    expect(objectText(obj('desklamp 1', 'desk 1', { on: true }), true)).toBe('This desklamp 1 is on.');
  });
});

describe('ALFWorld commands', () => {
  it('go to: arrive and see the receptacle (open surfaces list contents, closed ones say so)', () => {
    const s = smallRoom();
    expect(execute(s, 'go to countertop 1')).toBe(
      'You arrive at countertop 1. On the countertop 1, you see a apple 1, and a knife 1.',
    );
    expect(s.at).toBe('countertop 1');
    expect(execute(s, 'go to cabinet 1')).toBe('You arrive at cabinet 1. The cabinet 1 is closed.');
    expect(execute(s, 'go to attic 1')).toBe(NOTHING_HAPPENS);
    expect(s.at).toBe('cabinet 1');
  });

  it('open/close only at the receptacle, only openable ones, only when it changes', () => {
    const s = smallRoom();
    expect(execute(s, 'open cabinet 1')).toBe(NOTHING_HAPPENS); // not there
    execute(s, 'go to cabinet 1');
    expect(execute(s, 'close cabinet 1')).toBe(NOTHING_HAPPENS); // already closed
    expect(execute(s, 'open cabinet 1')).toBe('You open the cabinet 1. The cabinet 1 is open. In it, you see a mug 1.');
    expect(execute(s, 'open cabinet 1')).toBe(NOTHING_HAPPENS);
    expect(execute(s, 'examine cabinet 1')).toBe('The cabinet 1 is open. In it, you see a mug 1.');
    expect(execute(s, 'close cabinet 1')).toBe('You close the cabinet 1.');
    execute(s, 'go to countertop 1');
    expect(execute(s, 'open countertop 1')).toBe(NOTHING_HAPPENS);
  });

  it('take: at the receptacle, visible (opened if openable), hands empty', () => {
    const s = smallRoom();
    execute(s, 'go to cabinet 1');
    expect(execute(s, 'take mug 1 from cabinet 1')).toBe(NOTHING_HAPPENS); // closed
    execute(s, 'open cabinet 1');
    expect(execute(s, 'take mug 1 from cabinet 1')).toBe('You pick up the mug 1 from the cabinet 1.');
    expect(s).toMatchObject({ holding: 'mug 1' });
    expect(s.objects.find((o) => o.id === 'mug 1')?.loc).toBeNull();
    execute(s, 'go to countertop 1');
    expect(execute(s, 'take apple 1 from countertop 1')).toBe(NOTHING_HAPPENS); // hands full
    expect(execute(s, 'take apple 1 from cabinet 1')).toBe(NOTHING_HAPPENS); // wrong receptacle
    expect(execute(s, 'inventory')).toBe('You are carrying: a mug 1.');
    expect(execute(s, 'take desklamp 1 from desk 1')).toBe(NOTHING_HAPPENS); // not pickupable (and not here)
  });

  it('move/put: holding it, at an open receptacle that can contain it', () => {
    const s = smallRoom();
    execute(s, 'go to countertop 1');
    execute(s, 'take apple 1 from countertop 1');
    execute(s, 'go to fridge 1');
    expect(execute(s, 'move apple 1 to fridge 1')).toBe(NOTHING_HAPPENS); // closed
    execute(s, 'open fridge 1');
    expect(execute(s, 'move mug 1 to fridge 1')).toBe(NOTHING_HAPPENS); // not holding it
    expect(execute(s, 'put apple 1 in fridge 1')).toBe('You move the apple 1 to the fridge 1.');
    expect(s.holding).toBeNull();
    expect(execute(s, 'inventory')).toBe('You are not carrying anything.');
    // canContain: a book does not go into the fridge
    expect(canContain('fridge', 'book')).toBe(false);
    const t = smallRoom();
    execute(t, 'go to desk 1');
    execute(t, 'take book 1 from desk 1');
    execute(t, 'go to fridge 1');
    execute(t, 'open fridge 1');
    expect(execute(t, 'move book 1 to fridge 1')).toBe(NOTHING_HAPPENS);
    expect(admissibleCommands(t)).not.toContain('move book 1 to fridge 1');
  });

  it('heat/cool/clean need the held object, the right appliance and the affordance', () => {
    const s = smallRoom();
    execute(s, 'go to countertop 1');
    execute(s, 'take apple 1 from countertop 1');
    expect(execute(s, 'heat apple 1 with microwave 1')).toBe(NOTHING_HAPPENS); // not at the microwave
    execute(s, 'go to microwave 1');
    expect(execute(s, 'cool apple 1 with microwave 1')).toBe(NOTHING_HAPPENS); // wrong appliance
    expect(execute(s, 'heat apple 1 with microwave 1')).toBe('You heat the apple 1 using the microwave 1.');
    execute(s, 'go to fridge 1');
    expect(execute(s, 'cool apple 1 with fridge 1')).toBe('You cool the apple 1 using the fridge 1.');
    expect(s.objects[0]).toMatchObject({ hot: false, cool: true }); // cooling undoes heating
    execute(s, 'go to sinkbasin 1');
    expect(execute(s, 'clean apple 1 with sinkbasin 1')).toBe('You clean the apple 1 using the sinkbasin 1.');
    expect(execute(s, 'examine apple 1')).toBe('This is a cool and clean apple 1.');
    // a book cannot be heated
    const t = smallRoom();
    execute(t, 'go to desk 1');
    execute(t, 'take book 1 from desk 1');
    execute(t, 'go to microwave 1');
    expect(execute(t, 'heat book 1 with microwave 1')).toBe(NOTHING_HAPPENS);
  });

  it('use switches a lamp on where it stands; slice needs a held knife', () => {
    const s = smallRoom();
    expect(execute(s, 'use desklamp 1')).toBe(NOTHING_HAPPENS);
    execute(s, 'go to desk 1');
    expect(execute(s, 'use desklamp 1')).toBe('You turn on the desklamp 1.');
    expect(execute(s, 'use desklamp 1')).toBe('You turn on the desklamp 1.'); // ALFWorld's isToggled stays set
    expect(execute(s, 'use book 1')).toBe(NOTHING_HAPPENS);
    execute(s, 'go to countertop 1');
    expect(execute(s, 'slice apple 1 with knife 1')).toBe(NOTHING_HAPPENS);
    execute(s, 'take knife 1 from countertop 1');
    expect(execute(s, 'slice apple 1 with knife 1')).toBe('You sliced the apple 1 with the knife 1.');
    expect(s.objects[0].sliced).toBe(true);
  });

  it('look, examine, help and anything else', () => {
    const s = smallRoom();
    expect(execute(s, 'look')).toBe(lookText(s));
    execute(s, 'go to desk 1');
    expect(execute(s, 'look')).toBe('You are facing the desk 1. Next to it, you see nothing.');
    expect(execute(s, 'examine desk 1')).toBe('On the desk 1, you see a desklamp 1, and a book 1.');
    expect(execute(s, 'examine book 1')).toBe("There's nothing special about book 1.");
    expect(execute(s, 'examine apple 1')).toBe(NOTHING_HAPPENS); // not here
    expect(execute(s, 'examine fridge 1')).toBe(NOTHING_HAPPENS);
    expect(execute(s, 'help')).toContain('Available commands:');
    expect(execute(s, 'dance')).toBe(NOTHING_HAPPENS);
    expect(execute(s, '  GO   TO   fridge 1 ')).toBe('You arrive at fridge 1. The fridge 1 is closed.');
  });

  it('admissible commands: go to elsewhere, local actions, held-object actions, inventory, look (no help)', () => {
    const s = smallRoom();
    expect(admissibleCommands(s)).toEqual([
      'go to cabinet 1',
      'go to countertop 1',
      'go to desk 1',
      'go to fridge 1',
      'go to microwave 1',
      'go to sinkbasin 1',
      'inventory',
      'look',
    ]);
    execute(s, 'go to countertop 1');
    expect(admissibleCommands(s)).toEqual([
      'go to cabinet 1',
      'go to desk 1',
      'go to fridge 1',
      'go to microwave 1',
      'go to sinkbasin 1',
      'examine countertop 1',
      'take apple 1 from countertop 1',
      'take knife 1 from countertop 1',
      'inventory',
      'look',
    ]);
    execute(s, 'take apple 1 from countertop 1');
    execute(s, 'go to microwave 1');
    expect(admissibleCommands(s)).toEqual([
      'go to cabinet 1',
      'go to countertop 1',
      'go to desk 1',
      'go to fridge 1',
      'go to sinkbasin 1',
      'open microwave 1',
      'examine microwave 1',
      'heat apple 1 with microwave 1',
      'examine apple 1',
      'inventory',
      'look',
    ]);
    execute(s, 'open microwave 1');
    expect(admissibleCommands(s)).toContain('move apple 1 to microwave 1');
    expect(admissibleCommands(s)).toContain('close microwave 1');
    // every admissible command does something
    for (const c of admissibleCommands(s)) expect(execute(structuredClone(s), c)).not.toBe(NOTHING_HAPPENS);
  });
});
