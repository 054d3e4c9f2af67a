/**
 * The paper's prompting baselines (docs/method.md §7) as evaluation presets over any backend, no training:
 *  - `zeroshot`: N independent attempts, no memory, answer with the action directly (no reasoning asked for);
 *  - `react`: N independent attempts, no memory, reason step by step then act (the full template's instruction);
 *  - `reflexion`: after a failed attempt the model writes a reflection; later attempts see every reflection;
 *  - `lamer`: the run configuration as it is (env.memory, env.reflect): how a LaMer-trained model is evaluated.
 * "No memory" means each attempt sees exactly the prompt of a first attempt: no "trial #k" block, no past episodes.
 * In the compact template (the embedded model) there is no reasoning text, so `zeroshot` and `react` coincide there.
 */
import { badInput } from '../../shared/errors.js';
import type { PromptContext } from '../envs/types.js';
import type { TrialSettings } from '../local-trials.js';

export type PresetName = 'lamer' | 'zeroshot' | 'react' | 'reflexion';
export const PRESET_NAMES: readonly PresetName[] = ['lamer', 'zeroshot', 'react', 'reflexion'];

export interface EvalPreset {
  name: PresetName;
  describe: string;
  /** Trial settings for this preset (reflection on/off, memory). */
  settings(s: TrialSettings): TrialSettings;
  /** Wraps the env's prompt builder. */
  prompt(build: (ctx: PromptContext) => string, ctx: PromptContext): string;
}

/** Every play attempt looks like a first attempt. */
function firstAttempt(ctx: PromptContext): PromptContext {
  return ctx.phase === 'play' ? { ...ctx, episode: 0, past: [] } : ctx;
}

const REASONING_LINE = /reason step by step/i;

/**
 * The full play prompt with its reason-then-act instruction turned into a direct-answer one: the "reason step by
 * step" line goes, "Then give…" becomes "Give…", and one line asks for the tags only.
 */
export function directAnswerPrompt(prompt: string): string {
  const lines = prompt.split('\n');
  if (!lines.some((l) => REASONING_LINE.test(l))) return prompt;
  const out: string[] = [];
  for (const line of lines) {
    if (REASONING_LINE.test(line)) continue;
    const m = /^(\s*-?\s*)Then (\w)(.*)$/.exec(line);
    out.push(m ? `${m[1]}${m[2].toUpperCase()}${m[3]}` : line);
  }
  out.push('Answer with the action tags only, without any explanation.');
  return out.join('\n');
}

const PRESETS: Record<PresetName, EvalPreset> = {
  lamer: {
    name: 'lamer',
    describe: 'the configured memory and reflection (LaMer evaluation)',
    settings: (s) => s,
    prompt: (build, ctx) => build(ctx),
  },
  zeroshot: {
    name: 'zeroshot',
    describe: 'independent attempts, no memory, direct answer',
    settings: (s) => ({ ...s, reflect: false }),
    prompt: (build, ctx) => {
      const text = build(firstAttempt(ctx));
      return ctx.template === 'full' && ctx.phase === 'play' ? directAnswerPrompt(text) : text;
    },
  },
  react: {
    name: 'react',
    describe: 'independent attempts, no memory, reason step by step then act',
    settings: (s) => ({ ...s, reflect: false }),
    prompt: (build, ctx) => build(firstAttempt(ctx)),
  },
  reflexion: {
    name: 'reflexion',
    describe: 'reflection after each failed attempt, reflections carried to later attempts',
    settings: (s) => ({ ...s, reflect: true, memory: 'reflection' }),
    prompt: (build, ctx) => build(ctx),
  },
};

/** A preset by name; unknown names list the known ones. */
export function getPreset(name: string): EvalPreset {
  if (!Object.hasOwn(PRESETS, name)) {
    throw badInput(`unknown preset '${name}' (known: ${PRESET_NAMES.join(', ')})`);
  }
  return PRESETS[name as PresetName];
}

/** Parses `--preset a,b,c` (duplicates dropped, order kept). */
export function parsePresetList(spec: string): EvalPreset[] {
  const names = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) throw badInput(`--preset needs at least one of ${PRESET_NAMES.join(', ')}`);
  return [...new Set(names)].map(getPreset);
}
