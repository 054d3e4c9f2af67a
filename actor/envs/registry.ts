/**
 * Env registry (Gymnasium `make`/`register`): ids like `lamer/Sokoban-v0`, short aliases for the CLI, and
 * data-driven registration so further envs (WebShop, ALFWorld) plug in with `registerEnv`.
 */
import { LamerError, badInput } from '../../shared/errors.js';
import { ALFWORLD_ID, AlfWorldEnv, type AlfWorldOptions } from './alfworld/env.js';
import { MINESWEEPER_ID, MineSweeperEnv, type MineSweeperOptions } from './minesweeper/env.js';
import { SOKOBAN_ID, SokobanEnv, type SokobanOptions } from './sokoban/env.js';
import type { TextEnv } from './types.js';
import { WEBSHOP_ID, WebShopEnv, type WebShopOptions } from './webshop/env.js';

export type EnvFactory = (options: Record<string, unknown>) => TextEnv;

export interface EnvMeta {
  /** One line for `--help` and README tables. */
  description: string;
  /** Short names accepted wherever an id is (e.g. `sokoban`). */
  aliases?: readonly string[];
}

interface Entry {
  id: string;
  factory: EnvFactory;
  meta: EnvMeta;
}

const entries = new Map<string, Entry>();
const aliases = new Map<string, string>();

/** Registers an env id. Re-registering an id or alias is an error (two engineers claiming one name). */
export function registerEnv(id: string, factory: EnvFactory, meta: EnvMeta): void {
  if (!/^[\w.-]+\/[\w.-]+-v\d+$/.test(id)) throw badInput(`env id '${id}' must look like 'namespace/Name-vN'`);
  if (entries.has(id)) throw badInput(`env id '${id}' is already registered`);
  for (const a of meta.aliases ?? []) {
    if (aliases.has(a) || entries.has(a)) throw badInput(`env alias '${a}' is already taken`);
  }
  entries.set(id, { id, factory, meta });
  for (const a of meta.aliases ?? []) aliases.set(a, id);
}

/** Canonical id for an id or alias (aliases are case-insensitive); unknown names throw RL_ERR_UNKNOWN_ENV. */
export function resolveEnvId(idOrAlias: string): string {
  if (entries.has(idOrAlias)) return idOrAlias;
  const viaAlias = aliases.get(String(idOrAlias).toLowerCase());
  if (viaAlias) return viaAlias;
  const known = [...entries.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((e) => (e.meta.aliases?.length ? `${e.id} (${e.meta.aliases.join(', ')})` : e.id));
  throw new LamerError('RL_ERR_UNKNOWN_ENV', `unknown environment '${idOrAlias}'; known: ${known.join(', ')}`);
}

/** Creates an env. Options are validated by the env (unknown or bad options throw RL_ERR_BAD_INPUT). */
export function makeEnv(id: string, options: Record<string, unknown> = {}): TextEnv {
  const entry = entries.get(resolveEnvId(id)) as Entry;
  return entry.factory(options);
}

/** Registered envs, sorted by id. */
export function listEnvs(): Array<{ id: string; aliases: readonly string[]; description: string }> {
  return [...entries.values()]
    .map((e) => ({ id: e.id, aliases: e.meta.aliases ?? [], description: e.meta.description }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

registerEnv(SOKOBAN_ID, (o) => new SokobanEnv(o as SokobanOptions), {
  description: 'Sokoban 6x6, 2 boxes (LaMer): push boxes onto targets; dead ends and a 30-move limit end an episode',
  aliases: ['sokoban'],
});
registerEnv(MINESWEEPER_ID, (o) => new MineSweeperEnv(o as MineSweeperOptions), {
  description: 'MineSweeper 6x6, 3 mines (LaMer): reveal every safe cell; the first click is automatic',
  aliases: ['minesweeper'],
});
registerEnv(WEBSHOP_ID, (o) => new WebShopEnv(o as WebShopOptions), {
  description:
    'WebShop (LaMer): search a 1,000-product catalogue, open items, choose options and buy what the instruction asks for',
  aliases: ['webshop'],
});
registerEnv(ALFWORLD_ID, (o) => new AlfWorldEnv(o as AlfWorldOptions), {
  description:
    'ALFWorld text households (LaMer): six task types; train on Pick/Look/Clean/Heat, Cool/Pick2 out of distribution',
  aliases: ['alfworld'],
});
