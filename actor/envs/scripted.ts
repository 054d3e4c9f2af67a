/**
 * Scripted policies: test oracles, the source of behaviour-cloning demonstrations and a ceiling reference.
 * Each works from what the player sees (the rendered board) plus the env's parameters, never from hidden state.
 * `noise` is the hook for weaker demonstrations: each primitive action is replaced by a uniformly random valid
 * one with that probability. The policies themselves are the envs' (`EnvSpec.scripted`, e.g. sokoban/scripted.ts);
 * this module dispatches to them and formats their replies in a template.
 */
import { badInput } from '../../shared/errors.js';
import { createRng, type Rng } from '../../shared/rng.js';
import { envSpec } from './registry.js';
import type { EpisodeLog, Template, TextEnv } from './types.js';

export type { ScriptedPolicy } from './types.js';

export interface ScriptedOptions {
  /** Probability in [0, 1] of replacing each primitive action with a random valid one. Default 0. */
  noise?: number;
  /**
   * The player's own earlier reflections in the compact grammar (oldest first). MineSweeper treats the cells they
   * name as mines as known mines; Sokoban does not repeat a remembered `avoid <move>` that would trap a box.
   */
  memory?: readonly string[];
}

const fallbackRng = createRng(0x5c1);

/**
 * The scripted response for the env's current state, in `template` (default: the env's own): full
 * `<action>up, left, down</action>` / `<action>(2, 3)</action>`; compact `up </action>` / `2 3 </action>`.
 */
export function scriptedAction(
  env: TextEnv,
  template: Template = env.template,
  rng: Rng = fallbackRng,
  opts: ScriptedOptions = {},
): string {
  const noise = opts.noise ?? 0;
  if (!(noise >= 0 && noise <= 1)) throw badInput(`scripted policy: noise must be in [0, 1], got ${String(noise)}`);
  const a = envSpec(env.id).scripted.act(env, rng, noise, opts.memory ?? []);
  return template === 'compact' ? `${a.compact.join(' ')} </action>` : `<action>${a.full}</action>`;
}

/**
 * The scripted reflection response for a failed episode, in `template`: compact `mine 4 5 safe 2 3 </remark>` or
 * `avoid left plan up up right </remark>`; full a short English reasoning ending in `<remark>…</remark>`.
 * Pass the env (for its parameters) or its id. `maxTokens` (compact: one token per word, plus `</remark>`) drops
 * trailing words until the reply fits the inference cap and still parses: a reflection cut by the cap loses its
 * closing tag, fails to parse and leaves the next attempt an empty memory.
 */
export function templateReflection(
  env: TextEnv | string,
  template: Template,
  initialObs: string,
  log: EpisodeLog,
  maxTokens = Infinity,
): string {
  const id = typeof env === 'string' ? env : env.id;
  const params = (typeof env === 'string' ? {} : env.params) ?? {};
  const spec = envSpec(id);
  const r = spec.scripted.reflect(initialObs, log, params);
  if (template !== 'compact') return `${r.reasoning}\n<remark>${r.full}</remark>`;
  const valid = spec.prompt.compactReflectionValid;
  const words = r.compact.slice();
  while (words.length > 0 && (words.length + 1 > maxTokens || !valid(words))) words.pop();
  return `${words.join(' ')} </remark>`;
}
