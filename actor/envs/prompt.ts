/**
 * The one prompt builder for both templates (docs/method.md §2.4–§2.6), plus reflection parsing and the compact
 * vocabulary. Env-specific text lives in each env's `PromptContent` (its `EnvSpec.prompt`, types.ts), so new envs
 * add content without touching the skeleton; envs with a whole builder of their own (`EnvSpec.buildPrompt`) get
 * it dispatched from `buildPrompt`.
 *
 * Full template (real LLMs): header (env rules) → initial state → memory blocks of earlier trials → the current
 * trial's history → instructions ending in `<action> </action>`; reflect prompts show only the episode just
 * finished and end in `<remark> </remark>`. History lines are `Action i: …` / `Observation i: …`, with the windows
 * of `PromptContent.windows`.
 *
 * Compact template (embedded model), play:
 *   `<name> <header…> <board> current board </board> [<trial> k (<hist> past actions </hist>)? (<mem> reflection
 *   </mem>)?]* <trial> n <hist> last actions </hist> <action>`
 * reflect:
 *   `<name> <header…> <reflect> <trial> k <board> final </board> <hist> actions </hist> <board> initial </board>
 *   <remark>`
 * The board the turn depends on comes right after the fixed-length header, so each cell sits at the same absolute
 * position in every prompt: the embedded model has learned positions, and with the board behind a variable-length
 * memory it had to locate cells by counting, which a 2-layer model cannot do (it cloned the solver's demonstrations
 * no better than random clicking). The compact prompt does not repeat the initial board during play: the current
 * board carries the state and memory refers to absolute cells/moves, which keeps a 6x6 prompt under ~120 words.
 */
import { badInput } from '../../shared/errors.js';
import { REFLECT_INSTRUCTIONS, REFLECT_TASK, reflectionWords, trialWord } from './common/text-prompt.js';
import { MARKERS, NUMBER_WORDS, boardWords, historyWords } from './compact.js';
import { envSpec } from './registry.js';
import { REFLECTION_CAP, between, compactWords } from './tags.js';
import type { EpisodeLog, ParsedReflection, PromptContent, PromptContext, Template, TextEnv } from './types.js';

export type { EpisodeLog, PromptContent, PromptContext, PromptWindows } from './types.js';

// ---------------------------------------------------------------------------------------------- full template

function historyText(steps: EpisodeLog['steps'], window: number, withObs: number): string {
  const start = Math.max(0, steps.length - window);
  const lines: string[] = [];
  for (let i = start; i < steps.length; i++) {
    const n = i + 1;
    const full = steps.length - i <= withObs;
    lines.push(`Action ${n}: ${steps[i].action}`);
    lines.push(full ? `Observation ${n}:\n${steps[i].obs}` : `Observation ${n}: ...`);
  }
  return lines.join('\n');
}

function memoryText(c: PromptContent, ctx: PromptContext): string {
  return ctx.past
    .map((ep, i) => {
      const k = i + 1;
      const hist = historyText(ep.steps, c.windows.past, c.windows.pastObs);
      // No reflect phase ran (reflection undefined): say only that the trial failed. An empty reflection (the
      // reply had no <remark>) is still shown as an empty block, as in the reference.
      const refl = ep.reflection === undefined ? '' : ` Your reflection on that trial:\n${ep.reflection}`;
      switch (ctx.memory) {
        case 'reflection':
          return `\n\nOn trial #${k} the task was NOT completed.${refl}`;
        case 'trajectory':
          return `\n\nOn trial #${k} you took these actions:\n${hist}\nThe task was NOT completed.`;
        case 'both':
          return `\n\nOn trial #${k} you took these actions:\n${hist}\nThe task was NOT completed.${refl}`;
      }
    })
    .join('');
}

function currentText(c: PromptContent, ctx: PromptContext): string {
  const hist = historyText(ctx.current.steps, c.windows.play, c.windows.playObs);
  const started = ctx.current.steps.length > 0;
  if (ctx.episode === 0) return started ? `\n\nYou have already taken these actions:\n${hist}` : '';
  const trial = `You are now on trial #${ctx.episode + 1}`;
  return started
    ? `\n\n${trial}. You have already taken these actions:\n${hist}`
    : `\n\n${trial}, starting again from the initial state.`;
}

function fullPlay(c: PromptContent, params: Readonly<Record<string, unknown>>, ctx: PromptContext): string {
  return [
    c.fullHeader(params, ctx.initialObs),
    '',
    '# Observation',
    `The initial state of the game is:\n${ctx.initialObs}${memoryText(c, ctx)}${currentText(c, ctx)}`,
    '',
    c.fullPlayInstruction(params),
  ].join('\n');
}

function fullReflect(c: PromptContent, params: Readonly<Record<string, unknown>>, ctx: PromptContext): string {
  const trial = Math.max(1, ctx.episode);
  return [
    c.fullHeader(params, ctx.initialObs),
    '',
    '# Your Task',
    REFLECT_TASK,
    '',
    '# Past Experience',
    `The initial state of the game is:\n${ctx.initialObs}`,
    '',
    `On trial #${trial} you took these actions:`,
    historyText(ctx.current.steps, c.windows.reflect, c.windows.reflect),
    'The task was NOT completed.',
    '',
    REFLECT_INSTRUCTIONS,
  ].join('\n');
}

// ------------------------------------------------------------------------------------------- compact template

function compactPlay(c: PromptContent, params: Readonly<Record<string, unknown>>, ctx: PromptContext): string[] {
  const steps = ctx.current.steps;
  const board = steps.length > 0 ? steps[steps.length - 1].obs : ctx.initialObs;
  const rows = board
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => c.compactRow(l));
  if (ctx.memory !== 'trajectory')
    c.compactBoardMemory?.(
      rows,
      ctx.past.map((ep) => ep.reflection ?? ''),
      params,
    );
  let row = 0;
  const words = [...c.compactHeader(params, ctx.initialObs), ...boardWords(board, () => rows[row++])];
  ctx.past.forEach((ep, i) => {
    words.push('<trial>', trialWord(i + 1));
    if (ctx.memory !== 'reflection')
      words.push(...historyWords(ep.steps.slice(-c.windows.compactPast).map((s) => c.compactAction(s.action))));
    if (ctx.memory !== 'trajectory' && ep.reflection !== undefined)
      words.push('<mem>', ...reflectionWords(ep.reflection), '</mem>');
  });
  words.push('<trial>', trialWord(ctx.episode + 1));
  words.push(...historyWords(steps.slice(-c.windows.compactPlay).map((s) => c.compactAction(s.action))), '<action>');
  return words;
}

function compactReflect(c: PromptContent, params: Readonly<Record<string, unknown>>, ctx: PromptContext): string[] {
  const steps = ctx.current.steps;
  const final = steps.length > 0 ? steps[steps.length - 1].obs : ctx.initialObs;
  return [
    ...c.compactHeader(params, ctx.initialObs),
    '<reflect>',
    '<trial>',
    trialWord(Math.max(1, ctx.episode)),
    ...boardWords(final, c.compactRow),
    ...historyWords(steps.slice(-c.windows.compactPast).map((s) => c.compactAction(s.action))),
    ...boardWords(ctx.initialObs, c.compactRow),
    '<remark>',
  ];
}

// ------------------------------------------------------------------------------------------------ public API

function checkContext(ctx: PromptContext): void {
  if (ctx.template !== 'full' && ctx.template !== 'compact')
    throw badInput(`prompt: unknown template '${String(ctx.template)}'`);
  if (ctx.phase !== 'play' && ctx.phase !== 'reflect') throw badInput(`prompt: unknown phase '${String(ctx.phase)}'`);
  if (!['trajectory', 'reflection', 'both'].includes(ctx.memory))
    throw badInput(`prompt: unknown memory mode '${String(ctx.memory)}'`);
  if (!Number.isInteger(ctx.episode) || ctx.episode < 0)
    throw badInput(`prompt: episode must be a non-negative integer, got ${ctx.episode}`);
  if (typeof ctx.initialObs !== 'string' || ctx.initialObs.length === 0) throw badInput('prompt: initialObs is empty');
}

/**
 * Builds the prompt for one turn. Pass the env itself when you have it: its `params` (e.g. the mine count) and
 * template are used, and a context whose template differs from the env's is rejected. With an id, default
 * parameters apply (MineSweeper then states 3 mines).
 */
export function buildPrompt(env: TextEnv | string, ctx: PromptContext): string {
  checkContext(ctx);
  const spec = envSpec(typeof env === 'string' ? env : env.id);
  const c = spec.prompt;
  if (typeof env !== 'string' && env.template !== ctx.template) {
    throw badInput(`prompt: template '${ctx.template}' does not match the env's template '${env.template}'`);
  }
  if (spec.buildPrompt) return spec.buildPrompt(env, ctx);
  const params = (typeof env === 'string' ? {} : env.params) ?? {};
  if (ctx.template === 'full') return ctx.phase === 'play' ? fullPlay(c, params, ctx) : fullReflect(c, params, ctx);
  return (ctx.phase === 'play' ? compactPlay(c, params, ctx) : compactReflect(c, params, ctx)).join(' ');
}

/**
 * Extracts a reflection. Full: text between `<remark>` and `</remark>` (first or last occurrences per env, as the
 * reference), trimmed, capped at 2000 characters; a missing tag is invalid. Compact: the words before
 * `</remark>`, which must follow the env's reflection grammar (e.g. `mine 4 5 safe 2 3`); empty is valid.
 */
export function parseReflection(envId: string, template: Template, response: string): ParsedReflection {
  const c = envSpec(envId).prompt;
  const text = String(response);
  if (template === 'compact') {
    const words = compactWords(text, '</remark>');
    if (!words || !c.compactReflectionValid(words)) return { reflection: '', valid: false };
    let kept = words.slice();
    // Respect the cap without cutting a word or leaving a half clause.
    while (kept.join(' ').length > REFLECTION_CAP || (kept.length > 0 && !c.compactReflectionValid(kept)))
      kept = kept.slice(0, -1);
    return { reflection: kept.join(' '), valid: true };
  }
  const body = between(text, '<remark>', '</remark>', c.remarkTags, c.remarkTags);
  if (body === null) return { reflection: '', valid: false };
  return { reflection: body.trim().slice(0, REFLECTION_CAP), valid: true };
}

/** Every word a compact prompt or a valid compact response of this env can contain (sorted, unique). */
export function compactVocabulary(envId: string): readonly string[] {
  const c = envSpec(envId).prompt;
  return [...new Set<string>([...MARKERS, ...NUMBER_WORDS, ...c.compactWords])].sort();
}

/** The stop words of the compact template per phase. */
export const COMPACT_STOP = { play: '</action>', reflect: '</remark>' } as const;
