/**
 * Prompt pieces shared by the text-world envs (WebShop, ALFWorld) and, for the reflect instructions and compact
 * trial words, the board-game skeleton in ../prompt.ts: the full template's history, memory and current-trial
 * blocks (docs/method.md §2.4–§2.6) and the compact template's trial/memory/history words. The text-world envs
 * cannot reuse the skeleton itself: their prompts end with the admissible actions of the current state, which only
 * the env instance knows.
 */
import { badInput } from '../../../shared/errors.js';
import { COMPACT_MAX_NUMBER } from '../compact.js';
import type { EpisodeLog, MemoryMode, PromptContext } from '../types.js';

export interface HistoryFormat {
  /** Turns shown (the latest ones). */
  window: number;
  /** Shortens a non-final observation (WebShop truncates long [SEP] lists); identity when absent. */
  shorten?: (obs: string) => string;
}

/**
 * `Action i: …` / `Observation i: …` lines of the latest `window` steps (i is the 1-based step number), with
 * every observation but the last passed through `shorten`.
 */
export function historyLines(steps: EpisodeLog['steps'], fmt: HistoryFormat): string {
  const start = Math.max(0, steps.length - fmt.window);
  const lines: string[] = [];
  for (let i = start; i < steps.length; i++) {
    const obs = i < steps.length - 1 && fmt.shorten ? fmt.shorten(steps[i].obs) : steps[i].obs;
    lines.push(`Action ${i + 1}: ${steps[i].action}`, `Observation ${i + 1}: ${obs}`);
  }
  return lines.join('\n');
}

/**
 * Memory of earlier trials in the full template, per memory mode. A trial without a reflect phase
 * (`reflection` undefined) only states the failure; an empty reflection is shown as an empty block.
 */
export function memoryBlocks(past: readonly EpisodeLog[], memory: MemoryMode, fmt: HistoryFormat): string {
  return past
    .map((ep, i) => {
      const k = i + 1;
      const refl = ep.reflection === undefined ? '' : ` Your reflection on that trial:\n${ep.reflection}`;
      const hist = () => historyLines(ep.steps, fmt);
      switch (memory) {
        case 'reflection':
          return `\n\nOn trial #${k} the task was NOT completed.${refl}`;
        case 'trajectory':
          return `\n\nOn trial #${k} your last actions and observations were:\n${hist()}\nThe task was NOT completed.`;
        case 'both':
          return (
            `\n\nOn trial #${k} your last actions and observations were:\n${hist()}\n` +
            `The task was NOT completed.${refl}`
          );
      }
    })
    .join('');
}

/**
 * The current trial's block: nothing at the very start, else the trial number and/or recent history (passed
 * through `mapHistory`, e.g. WebShop's short variant keeps only its last line).
 */
export function currentBlock(
  ctx: PromptContext,
  fmt: HistoryFormat,
  mapHistory: (h: string) => string = (h) => h,
): string {
  const started = ctx.current.steps.length > 0;
  const hist = started ? mapHistory(historyLines(ctx.current.steps, fmt)) : '';
  if (ctx.episode === 0) return started ? `\n\nYour most recent actions and observations:\n${hist}` : '';
  const trial = `You are now on trial #${ctx.episode + 1}`;
  return started
    ? `\n\n${trial}. Your most recent actions and observations:\n${hist}`
    : `\n\n${trial}, starting again from the initial state.`;
}

/** The admissible-action list as the reference prints it: one quoted action per line inside brackets. */
export function admissibleBlock(actions: readonly string[]): string {
  return `[\n${actions.map((a) => `'${a}',`).join('\n')}\n]`;
}

/** The task and closing instructions of a full reflect prompt (the same for every env). */
export const REFLECT_TASK =
  'You will see the record of an earlier attempt. Reflect on it: find the mistakes or wasted actions, ' +
  'then work out a short, better plan that starts again from the original initial state.';

export const REFLECT_INSTRUCTIONS = [
  'Now reflect on that attempt and plan the next one.',
  '- First reason step by step about the strategy you followed and where it went wrong or could have been better.',
  '- Then write a short new plan that fixes the mistake, naming the specific actions you should take.',
  '- End your response with the reflection and the plan inside <remark> </remark> tags; ' +
    'they will guide your next trial.',
].join('\n');

/** A trial number as a compact number word. */
export function trialWord(k: number): string {
  if (k > COMPACT_MAX_NUMBER)
    throw badInput(`compact template: trial #${k} exceeds the number vocabulary (max ${COMPACT_MAX_NUMBER})`);
  return String(k);
}

/** Compact words of a stored reflection. */
export function reflectionWords(text: string | undefined): string[] {
  const t = (text ?? '').trim();
  return t.length === 0 ? [] : t.split(/\s+/);
}

/** Compact memory: per earlier trial `<trial> k`, then `<hist> … </hist>` and/or `<mem> … </mem>`. */
export function compactMemory(
  past: readonly EpisodeLog[],
  memory: MemoryMode,
  actionWords: (a: string) => string[],
  window: number,
): string[] {
  const out: string[] = [];
  past.forEach((ep, i) => {
    out.push('<trial>', trialWord(i + 1));
    if (memory !== 'reflection') out.push(...compactHistory(ep.steps, actionWords, window));
    if (memory !== 'trajectory' && ep.reflection !== undefined)
      out.push('<mem>', ...reflectionWords(ep.reflection), '</mem>');
  });
  return out;
}

/** `<hist> a1 , a2 … </hist>` over the latest `window` actions. */
export function compactHistory(
  steps: EpisodeLog['steps'],
  actionWords: (a: string) => string[],
  window: number,
): string[] {
  const out = ['<hist>'];
  steps.slice(-window).forEach((s, i) => {
    if (i > 0) out.push(',');
    out.push(...actionWords(s.action));
  });
  out.push('</hist>');
  return out;
}
