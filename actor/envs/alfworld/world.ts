/**
 * ALFWorld's household vocabulary: object types with their affordances (ALFRED's pickupable, cleanable,
 * heatable, coolable, sliceable, toggleable), receptacle types (openable or not) with what they can contain
 * (`canContain`), and four room kinds (kitchen, living room, bedroom, bathroom) with their receptacles and
 * the objects found there. Names are ALFWorld's lower-case type names ("sinkbasin", "desklamp", ...).
 */
import type { Affordances, AlfWorldState } from './state.js';

export interface ObjectKind {
  pickupable: boolean;
  cleanable?: boolean;
  heatable?: boolean;
  coolable?: boolean;
  sliceable?: boolean;
  /** A light source the agent can switch on with `use` (ALFWorld's look_at_obj_in_light lamps). */
  light?: boolean;
  /** Object class used by the containment table. */
  cls: 'food' | 'dish' | 'utensil' | 'bottle' | 'small' | 'media' | 'decor' | 'soft' | 'bath' | 'lamp';
}

export const OBJECTS: Readonly<Record<string, ObjectKind>> = {
  apple: { pickupable: true, cleanable: true, heatable: true, coolable: true, sliceable: true, cls: 'food' },
  bread: { pickupable: true, heatable: true, coolable: true, sliceable: true, cls: 'food' },
  lettuce: { pickupable: true, cleanable: true, heatable: true, coolable: true, sliceable: true, cls: 'food' },
  tomato: { pickupable: true, cleanable: true, heatable: true, coolable: true, sliceable: true, cls: 'food' },
  potato: { pickupable: true, cleanable: true, heatable: true, coolable: true, sliceable: true, cls: 'food' },
  egg: { pickupable: true, cleanable: true, heatable: true, coolable: true, cls: 'food' },
  mug: { pickupable: true, cleanable: true, heatable: true, coolable: true, cls: 'dish' },
  cup: { pickupable: true, cleanable: true, heatable: true, coolable: true, cls: 'dish' },
  bowl: { pickupable: true, cleanable: true, heatable: true, coolable: true, cls: 'dish' },
  plate: { pickupable: true, cleanable: true, heatable: true, coolable: true, cls: 'dish' },
  pan: { pickupable: true, cleanable: true, coolable: true, cls: 'dish' },
  pot: { pickupable: true, cleanable: true, coolable: true, cls: 'dish' },
  kettle: { pickupable: true, cleanable: true, cls: 'dish' },
  knife: { pickupable: true, cleanable: true, cls: 'utensil' },
  butterknife: { pickupable: true, cleanable: true, cls: 'utensil' },
  fork: { pickupable: true, cleanable: true, cls: 'utensil' },
  spoon: { pickupable: true, cleanable: true, cls: 'utensil' },
  spatula: { pickupable: true, cleanable: true, cls: 'utensil' },
  ladle: { pickupable: true, cleanable: true, cls: 'utensil' },
  saltshaker: { pickupable: true, cls: 'bottle' },
  peppershaker: { pickupable: true, cls: 'bottle' },
  soapbottle: { pickupable: true, cls: 'bottle' },
  winebottle: { pickupable: true, coolable: true, cls: 'bottle' },
  spraybottle: { pickupable: true, cls: 'bottle' },
  dishsponge: { pickupable: true, cleanable: true, cls: 'bath' },
  keychain: { pickupable: true, cls: 'small' },
  creditcard: { pickupable: true, cls: 'small' },
  cellphone: { pickupable: true, cls: 'small' },
  pen: { pickupable: true, cls: 'small' },
  pencil: { pickupable: true, cls: 'small' },
  watch: { pickupable: true, cls: 'small' },
  cd: { pickupable: true, cls: 'small' },
  remotecontrol: { pickupable: true, cls: 'small' },
  alarmclock: { pickupable: true, cls: 'small' },
  book: { pickupable: true, cls: 'media' },
  newspaper: { pickupable: true, cls: 'media' },
  laptop: { pickupable: true, cls: 'media' },
  statue: { pickupable: true, cls: 'decor' },
  vase: { pickupable: true, cls: 'decor' },
  candle: { pickupable: true, cls: 'decor' },
  tissuebox: { pickupable: true, cls: 'decor' },
  box: { pickupable: true, cls: 'decor' },
  pillow: { pickupable: true, cls: 'soft' },
  soapbar: { pickupable: true, cleanable: true, cls: 'bath' },
  toiletpaper: { pickupable: true, cls: 'bath' },
  towel: { pickupable: true, cls: 'bath' },
  handtowel: { pickupable: true, cls: 'bath' },
  cloth: { pickupable: true, cleanable: true, cls: 'bath' },
  desklamp: { pickupable: false, light: true, cls: 'lamp' },
};

type Cls = ObjectKind['cls'];
const ALL_SMALL: Cls[] = ['small', 'media', 'decor'];

export interface ReceptacleKind {
  openable: boolean;
  /** Object classes it can hold, plus individual object types. */
  holds: readonly Cls[];
  extra?: readonly string[];
  /** Only these object types (overrides `holds`). */
  only?: readonly string[];
}

export const RECEPTACLES: Readonly<Record<string, ReceptacleKind>> = {
  countertop: { openable: false, holds: ['food', 'dish', 'utensil', 'bottle', 'small', 'media', 'decor', 'bath'] },
  diningtable: { openable: false, holds: ['food', 'dish', 'utensil', 'bottle', 'small', 'media', 'decor'] },
  cabinet: { openable: true, holds: ['dish', 'bottle', 'bath', 'small', 'decor'], extra: ['book'] },
  drawer: {
    openable: true,
    holds: ['utensil', 'small'],
    extra: ['book', 'cloth', 'soapbar', 'dishsponge', 'toiletpaper', 'handtowel'],
  },
  fridge: { openable: true, holds: ['food'], extra: ['mug', 'cup', 'bowl', 'plate', 'pan', 'pot', 'winebottle'] },
  microwave: { openable: true, holds: ['food'], extra: ['mug', 'cup', 'bowl', 'plate'] },
  sinkbasin: { openable: false, holds: ['food', 'dish', 'utensil'], extra: ['dishsponge', 'soapbar', 'cloth'] },
  stoveburner: { openable: false, holds: [], only: ['pan', 'pot', 'kettle'] },
  garbagecan: {
    openable: false,
    holds: ['food', 'bottle', 'bath'],
    extra: ['newspaper', 'tissuebox', 'cd', 'pencil', 'pen'],
  },
  toaster: { openable: false, holds: [], only: ['bread'] },
  coffeemachine: { openable: false, holds: [], only: ['mug', 'cup'] },
  shelf: { openable: false, holds: ['dish', 'bottle', 'small', 'media', 'decor', 'bath'] },
  desk: { openable: false, holds: ALL_SMALL, extra: ['mug', 'cup', 'bowl', 'plate', 'spraybottle'] },
  sidetable: {
    openable: false,
    holds: ALL_SMALL,
    extra: ['mug', 'cup', 'bowl', 'plate', 'apple', 'bread', 'tomato', 'potato', 'egg', 'spraybottle'],
  },
  coffeetable: { openable: false, holds: ALL_SMALL, extra: ['mug', 'cup', 'bowl', 'plate'] },
  dresser: { openable: false, holds: ALL_SMALL, extra: ['mug', 'cup', 'bowl', 'spraybottle'] },
  tvstand: { openable: false, holds: ALL_SMALL },
  bed: {
    openable: false,
    holds: ['soft'],
    extra: ['laptop', 'book', 'cellphone', 'creditcard', 'keychain', 'remotecontrol', 'newspaper', 'box'],
  },
  sofa: {
    openable: false,
    holds: ['soft'],
    extra: ['laptop', 'book', 'cellphone', 'creditcard', 'keychain', 'remotecontrol', 'newspaper', 'box'],
  },
  armchair: {
    openable: false,
    holds: ['soft'],
    extra: ['laptop', 'book', 'cellphone', 'creditcard', 'keychain', 'remotecontrol', 'newspaper', 'box'],
  },
  ottoman: {
    openable: false,
    holds: ['soft'],
    extra: ['laptop', 'book', 'remotecontrol', 'newspaper', 'box', 'keychain'],
  },
  safe: { openable: true, holds: ['small'], extra: ['statue', 'vase'] },
  bathtubbasin: { openable: false, holds: [], only: ['soapbar', 'cloth', 'handtowel', 'towel'] },
  toilet: {
    openable: false,
    holds: [],
    only: ['soapbar', 'toiletpaper', 'spraybottle', 'cloth', 'candle', 'soapbottle'],
  },
  towelholder: { openable: false, holds: [], only: ['towel'] },
  handtowelholder: { openable: false, holds: [], only: ['handtowel'] },
  toiletpaperhanger: { openable: false, holds: [], only: ['toiletpaper'] },
  laundryhamper: { openable: false, holds: [], only: ['cloth', 'towel'] },
};

/** The vocabulary's affordances of an object type (unknown types: nothing is possible). */
export function kindAffordances(objectType: string): Affordances {
  const k = OBJECTS[objectType];
  return {
    pickupable: k?.pickupable ?? false,
    cleanable: k?.cleanable ?? false,
    heatable: k?.heatable ?? false,
    coolable: k?.coolable ?? false,
    sliceable: k?.sliceable ?? false,
    light: k?.light ?? false,
  };
}

/** Affordances of an object in a state: the loaded game's facts, else the vocabulary's table. */
export function affordancesOf(s: Pick<AlfWorldState, 'rules'>, o: { id: string; type: string }): Affordances {
  return s.rules?.affordances[o.id] ?? kindAffordances(o.type);
}

/** `canContain` in a state: the loaded game's facts, else the vocabulary's table. */
export function containsIn(s: Pick<AlfWorldState, 'rules'>, receptacleType: string, objectType: string): boolean {
  return s.rules
    ? (s.rules.canContain[receptacleType]?.includes(objectType) ?? false)
    : canContain(receptacleType, objectType);
}

/** Can a receptacle of this type hold an object of this type (`canContain`)? Lamps stand on tables. */
export function canContain(receptacleType: string, objectType: string): boolean {
  const r = RECEPTACLES[receptacleType];
  const o = OBJECTS[objectType];
  if (!r || !o) return false;
  if (o.light) return ['desk', 'sidetable', 'dresser'].includes(receptacleType);
  if (r.only) return r.only.includes(objectType);
  return r.holds.includes(o.cls) || (r.extra?.includes(objectType) ?? false);
}

export type RoomKind = 'kitchen' | 'livingroom' | 'bedroom' | 'bathroom';

export interface RoomSpec {
  /** Receptacle type → [min, max] count. */
  receptacles: Readonly<Record<string, readonly [number, number]>>;
  /** Object types that occur in the room (besides task objects). */
  objects: readonly string[];
}

export const ROOMS: Readonly<Record<RoomKind, RoomSpec>> = {
  kitchen: {
    receptacles: {
      cabinet: [3, 10],
      countertop: [1, 3],
      drawer: [2, 6],
      fridge: [1, 1],
      microwave: [1, 1],
      sinkbasin: [1, 1],
      stoveburner: [2, 4],
      garbagecan: [1, 1],
      toaster: [1, 1],
      coffeemachine: [1, 1],
      diningtable: [0, 2],
      shelf: [0, 3],
    },
    objects: [
      'apple',
      'bread',
      'lettuce',
      'tomato',
      'potato',
      'egg',
      'mug',
      'cup',
      'bowl',
      'plate',
      'pan',
      'pot',
      'kettle',
      'knife',
      'butterknife',
      'fork',
      'spoon',
      'spatula',
      'ladle',
      'saltshaker',
      'peppershaker',
      'soapbottle',
      'winebottle',
      'dishsponge',
      'spraybottle',
    ],
  },
  livingroom: {
    receptacles: {
      sofa: [1, 1],
      armchair: [1, 2],
      coffeetable: [1, 1],
      sidetable: [1, 2],
      drawer: [1, 4],
      cabinet: [0, 4],
      tvstand: [1, 1],
      shelf: [1, 5],
      garbagecan: [1, 1],
      diningtable: [0, 1],
      ottoman: [0, 1],
    },
    objects: [
      'keychain',
      'creditcard',
      'cellphone',
      'remotecontrol',
      'book',
      'newspaper',
      'laptop',
      'statue',
      'vase',
      'candle',
      'tissuebox',
      'box',
      'pillow',
      'watch',
      'pen',
      'pencil',
      'bowl',
      'plate',
      'mug',
    ],
  },
  bedroom: {
    receptacles: {
      bed: [1, 1],
      desk: [1, 2],
      drawer: [2, 6],
      dresser: [1, 1],
      shelf: [1, 5],
      sidetable: [1, 2],
      garbagecan: [1, 1],
      safe: [0, 1],
      laundryhamper: [0, 1],
      armchair: [0, 1],
    },
    objects: [
      'keychain',
      'creditcard',
      'cellphone',
      'alarmclock',
      'book',
      'laptop',
      'pen',
      'pencil',
      'cd',
      'pillow',
      'watch',
      'statue',
      'vase',
      'mug',
      'bowl',
      'box',
      'tissuebox',
      'cloth',
      'candle',
    ],
  },
  bathroom: {
    receptacles: {
      sinkbasin: [1, 2],
      bathtubbasin: [0, 1],
      toilet: [1, 1],
      countertop: [1, 1],
      cabinet: [2, 4],
      drawer: [0, 4],
      towelholder: [1, 1],
      handtowelholder: [0, 1],
      garbagecan: [1, 1],
      shelf: [0, 2],
      toiletpaperhanger: [1, 1],
    },
    objects: [
      'soapbar',
      'soapbottle',
      'toiletpaper',
      'towel',
      'handtowel',
      'cloth',
      'spraybottle',
      'candle',
      'tissuebox',
      'dishsponge',
    ],
  },
};
