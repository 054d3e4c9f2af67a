/**
 * WebShop prompts (docs/method.md §2.6, reference `webshop/prompt.py`, in this project's wording).
 *
 * Full play: role line → `Your task is to: <instruction>.` → memory of earlier trials (reflection / last 3
 * turns with lists cut to 6 items / both) → current trial (last 5 turns; non-final observations cut to 15
 * `[SEP]` items + `... (k more)`) → the admissible actions, one quoted per line → instruction ending in
 * `<action> </action>`. At turn 0 no observation is shown. Over 20,000 characters the short variant keeps only
 * the last history line and reflection memory. Full reflect: role line, task, the finished trial's last 20 turns,
 * instructions ending in `<remark> </remark>`.
 *
 * Compact play: `webshop <task> … </task> [<trial> k (<hist> … </hist>)? (<mem> … </mem>)?]* <trial> n
 * <hist> … </hist> <page> … </page> <choices> <c1> … <cN> … </choices> <action>`; the answer is a choice word
 * (plus query words for the search choice). Compact reflect: `webshop <task> … </task> <reflect> <trial> k
 * <hist> … </hist> <page> … </page> <remark>`.
 */
import { badInput } from '../../../shared/errors.js';
import type { PromptContent, PromptContext, TextEnv } from '../types.js';
import { WEBSHOP_COMPACT_WORDS, compactText, inWebShopVocabulary, priceWords } from './compact.js';
import { instructionOf, type WebShopEnv, WEBSHOP_ID } from './env.js';
import { choiceMarker, splitAction } from './parse.js';
import {
  REFLECT_INSTRUCTIONS,
  REFLECT_TASK,
  admissibleBlock,
  compactHistory,
  compactMemory,
  currentBlock,
  historyLines,
  memoryBlocks,
  trialWord,
  type HistoryFormat,
} from '../common/text-prompt.js';

const ROLE = 'You are an expert autonomous shopper in the WebShop e-commerce environment.';
const PLAY_INSTRUCTION = [
  "Now it's your turn to take one action for the current step.",
  'First reason step by step about the current situation and which admissible action brings you closest to ' +
    'buying the requested product.',
  'Then give exactly one admissible action inside <action> </action> tags.',
].join('\n');

/** Prompts longer than this use the short variant (reference: 20,000 characters). */
export const WEBSHOP_PROMPT_CHAR_LIMIT = 20_000;

/** Cuts an observation to its first `max` `[SEP]` items (the reference does so from `max` items on). */
export function truncateSep(obs: string, max: number): string {
  const items = obs.split(' [SEP] ');
  return items.length >= max ? `${items.slice(0, max).join(' [SEP] ')} ... (${items.length - max} more)` : obs;
}

const PLAY_FMT: HistoryFormat = { window: 5, shorten: (o) => truncateSep(o, 15) };
const REFLECT_FMT: HistoryFormat = { window: 20, shorten: (o) => truncateSep(o, 15) };
const PAST_FMT: HistoryFormat = { window: 3, shorten: (o) => truncateSep(o, 6) };
const COMPACT_PLAY_WINDOW = 5;
const COMPACT_PAST_WINDOW = 8;
const COMPACT_TEXT_CAP = 40;
const COMPACT_TITLE_CAP = 10;

function taskOf(ctx: PromptContext): string {
  const t = instructionOf(ctx.initialObs);
  if (t === null) throw badInput(`${WEBSHOP_ID} prompt: initialObs is not a WebShop first observation`);
  return t;
}

function webshopEnv(env: TextEnv | string): WebShopEnv {
  if (typeof env === 'string' || env.id !== WEBSHOP_ID) {
    throw badInput(
      `${WEBSHOP_ID} prompt: pass the env instance (the prompt lists the admissible actions of its current page)`,
    );
  }
  return env as WebShopEnv;
}

// The short variant (reference `get_webshop_prompt_short`) keeps the last line of the history and reflection memory.
const lastLine = (h: string) => h.split('\n').slice(-1)[0];

function fullPlay(env: WebShopEnv, ctx: PromptContext, short: boolean): string {
  const memory = memoryBlocks(ctx.past, short ? 'reflection' : ctx.memory, PAST_FMT);
  const current = short ? currentBlock(ctx, PLAY_FMT, lastLine) : currentBlock(ctx, PLAY_FMT);
  return [
    ROLE,
    `Your task is to: ${taskOf(ctx)}.${memory}${current}`,
    '',
    'Your admissible actions in the current situation are:',
    `${admissibleBlock(env.admissibleActions())}.`,
    '',
    PLAY_INSTRUCTION,
  ].join('\n');
}

function fullReflect(ctx: PromptContext): string {
  return [
    ROLE,
    `Your task is to: ${taskOf(ctx)}.`,
    '',
    REFLECT_TASK,
    '',
    `On trial #${Math.max(1, ctx.episode)} your last actions and observations were:`,
    historyLines(ctx.current.steps, REFLECT_FMT),
    'The task was NOT completed.',
    '',
    REFLECT_INSTRUCTIONS,
  ].join('\n');
}

const isAsin = (s: string) => /^[a-z0-9]{10}$/.test(s) && /\d/.test(s);

/** Compact words of a history action (`info.actionText`). */
export function compactActionWords(action: string): string[] {
  if (action === 'invalid' || action === '') return ['invalid'];
  const { name, arg } = splitAction(action);
  if (name === 'search' && arg) return ['search', ...compactText(arg)];
  if (name === 'click' && arg) return isAsin(arg) ? ['click', 'product'] : ['click', ...compactText(arg)];
  return ['invalid'];
}

function pageWords(env: WebShopEnv): string[] {
  const site = env.siteView();
  const s = site.state;
  const out = ['<page>', s.page];
  const parts = site.visibleParts();
  switch (s.page) {
    case 'results':
      out.push(...compactText(parts[1]));
      break;
    case 'item': {
      const p = s.asin ? env.catalogue.byAsin.get(s.asin) : undefined;
      if (p) {
        out.push(...compactText(p.title).slice(0, COMPACT_TITLE_CAP), '$', ...priceWords(Math.max(...p.pricing)));
        for (const name of Object.keys(p.options)) out.push(...compactText(name));
      }
      break;
    }
    case 'description':
    case 'features':
    case 'reviews':
    case 'attributes':
      out.push(...compactText(parts.slice(2).join(' ')).slice(0, COMPACT_TEXT_CAP));
      break;
    case 'search':
    case 'done':
      break;
  }
  out.push('</page>');
  return out;
}

function choiceWords(env: WebShopEnv): string[] {
  const out = ['<choices>'];
  env.compactChoices().forEach((a, i) => {
    out.push(choiceMarker(i));
    const { name, arg } = splitAction(a);
    if (name === 'search') {
      out.push('search');
      return;
    }
    // The search page also offers its (no-op) search button; as bare `search` it would read like the query choice.
    if (name === 'click' && arg === 'search') {
      out.push('click', 'search');
      return;
    }
    const p = arg && isAsin(arg) ? env.catalogue.byAsin.get(arg.toUpperCase()) : undefined;
    if (p)
      out.push(
        'product',
        ...compactText(p.title).slice(0, COMPACT_TITLE_CAP),
        '$',
        ...priceWords(Math.max(...p.pricing)),
      );
    else out.push(...compactText(arg ?? ''));
  });
  out.push('</choices>');
  return out;
}

function compactPlay(env: WebShopEnv, ctx: PromptContext): string[] {
  return [
    'webshop',
    '<task>',
    ...compactText(taskOf(ctx)),
    '</task>',
    ...compactMemory(ctx.past, ctx.memory, compactActionWords, COMPACT_PAST_WINDOW),
    '<trial>',
    trialWord(ctx.episode + 1),
    ...compactHistory(ctx.current.steps, compactActionWords, COMPACT_PLAY_WINDOW),
    ...pageWords(env),
    ...choiceWords(env),
    '<action>',
  ];
}

function compactReflect(ctx: PromptContext): string[] {
  const steps = ctx.current.steps;
  const last = steps.length > 0 ? steps[steps.length - 1].obs : '';
  return [
    'webshop',
    '<task>',
    ...compactText(taskOf(ctx)),
    '</task>',
    '<reflect>',
    '<trial>',
    trialWord(Math.max(1, ctx.episode)),
    ...compactHistory(steps, compactActionWords, COMPACT_PAST_WINDOW),
    '<page>',
    ...compactText(last).slice(0, COMPACT_TEXT_CAP),
    '</page>',
    '<remark>',
  ];
}

/** Builds a WebShop prompt; play prompts need the env instance (its current page's admissible actions). */
export function buildWebShopPrompt(env: TextEnv | string, ctx: PromptContext): string {
  if (ctx.template === 'compact') {
    return (ctx.phase === 'play' ? compactPlay(webshopEnv(env), ctx) : compactReflect(ctx)).join(' ');
  }
  if (ctx.phase === 'reflect') return fullReflect(ctx);
  const e = webshopEnv(env);
  const full = fullPlay(e, ctx, false);
  return full.length > WEBSHOP_PROMPT_CHAR_LIMIT ? fullPlay(e, ctx, true) : full;
}

/** Registration record for ../prompt.ts (reflection parsing and the compact vocabulary). */
export const webshopPromptContent: PromptContent = {
  fullHeader: () => ROLE,
  fullPlayInstruction: () => PLAY_INSTRUCTION,
  remarkTags: 'last',
  windows: {
    play: 5,
    playObs: 5,
    reflect: 20,
    past: 3,
    pastObs: 3,
    compactPlay: COMPACT_PLAY_WINDOW,
    compactPast: COMPACT_PAST_WINDOW,
  },
  compactHeader: () => ['webshop'],
  compactRow: (line) => compactText(line),
  compactAction: compactActionWords,
  // Compact reflections are free word sequences over the vocabulary, without structure words.
  compactReflectionValid: (words) => inWebShopVocabulary(words) && !words.some((w) => w.startsWith('<')),
  compactWords: WEBSHOP_COMPACT_WORDS,
};
