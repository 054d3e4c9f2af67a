/**
 * Env registry (Gymnasium `make`/`register`): one `EnvSpec` per env (types.ts), ids like `lamer/Sokoban-v0` with
 * short aliases for the CLI. Every central module (prompt.ts, scripted.ts, check-env.ts, replay.ts, retry.ts) looks
 * envs up here; a new env is one folder with its `spec.ts` and one `registerEnv` line at the bottom of this file.
 */
import { LamerError, badInput } from '../../shared/errors.js';
import { alfworldSpec } from './alfworld/spec.js';
import { minesweeperSpec } from './minesweeper/spec.js';
import { sokobanSpec } from './sokoban/spec.js';
import type { EnvSpec, TextEnv } from './types.js';
import { webshopSpec } from './webshop/spec.js';

export type { EnvFactory, EnvSpec } from './types.js';

const specs = new Map<string, EnvSpec>();
const aliases = new Map<string, string>();

/** Registers an env. Re-registering an id or alias is an error (two engineers claiming one name). */
export function registerEnv(spec: EnvSpec): void {
  const { id } = spec;
  if (!/^[\w.-]+\/[\w.-]+-v\d+$/.test(id)) throw badInput(`env id '${id}' must look like 'namespace/Name-vN'`);
  if (specs.has(id)) throw badInput(`env id '${id}' is already registered`);
  for (const a of spec.aliases ?? []) {
    if (aliases.has(a) || specs.has(a)) throw badInput(`env alias '${a}' is already taken`);
  }
  specs.set(id, spec);
  for (const a of spec.aliases ?? []) aliases.set(a, id);
}

/** Canonical id for an id or alias (aliases are case-insensitive); unknown names throw RL_ERR_UNKNOWN_ENV. */
export function resolveEnvId(idOrAlias: string): string {
  if (specs.has(idOrAlias)) return idOrAlias;
  const viaAlias = aliases.get(String(idOrAlias).toLowerCase());
  if (viaAlias) return viaAlias;
  const known = [...specs.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((e) => (e.aliases?.length ? `${e.id} (${e.aliases.join(', ')})` : e.id));
  throw new LamerError('RL_ERR_UNKNOWN_ENV', `unknown environment '${idOrAlias}'; known: ${known.join(', ')}`);
}

/** The spec of an id or alias (unknown names throw RL_ERR_UNKNOWN_ENV). */
export function envSpec(idOrAlias: string): EnvSpec {
  return specs.get(resolveEnvId(idOrAlias)) as EnvSpec;
}

/**
 * The env's options with its defaults filled in (as the env would resolve them), for cache keys. Options the spec
 * has no schema for are returned as given.
 */
export function resolvedEnvOptions(id: string, options: Record<string, unknown> = {}): unknown {
  const schema = envSpec(id).options;
  return schema ? schema.parse(options) : options;
}

/** Registered specs in registration order. */
export function envSpecs(): EnvSpec[] {
  return [...specs.values()];
}

/** Creates an env. Options are validated by the env (unknown or bad options throw RL_ERR_BAD_INPUT). */
export function makeEnv(id: string, options: Record<string, unknown> = {}): TextEnv {
  return envSpec(id).make(options);
}

/** Registered envs, sorted by id. */
export function listEnvs(): Array<{ id: string; aliases: readonly string[]; description: string }> {
  return [...specs.values()]
    .map((e) => ({ id: e.id, aliases: e.aliases ?? [], description: e.description }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

registerEnv(sokobanSpec);
registerEnv(minesweeperSpec);
registerEnv(webshopSpec);
registerEnv(alfworldSpec);
