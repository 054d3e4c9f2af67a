/**
 * ALFWorld prompts (docs/method.md §2.6, reference `alfworld/prompt.py`, in this project's wording).
 *
 * Full play: role line → the full first observation (room overview + "Your task is to: …") → memory of earlier
 * trials → current trial (last 15 turns, full observations) → admissible commands (without `help`), one
 * quoted per line → instruction ending in `<action> </action>`. Full reflect: role line, first observation, the
 * finished trial's last 15 turns, instructions ending in `<remark> </remark>`.
 *
 * Compact play: `alfworld <task> … </task> [<trial> k (<hist> … </hist>)? (<mem> … </mem>)?]* <trial> n
 * <hist> … </hist> <obs> … </obs> <choices> <c1> go to cabinet 1 … </choices> <action>`; the answer is one
 * choice word. Compact reflect: `alfworld <task> … </task> <reflect> <trial> k <hist> … </hist> <obs> … </obs>
 * <remark>`.
 */
import { badInput } from '../../../shared/errors.js';
import type { PromptContent, PromptContext, TextEnv } from '../types.js';
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
import { ALFWORLD_COMPACT_WORDS, alfworldWords, inAlfworldVocabulary } from './compact.js';
import { ALFWORLD_ID, type AlfWorldEnv } from './env.js';
import { alfworldChoiceMarker } from './parse.js';

const ROLE = 'You are an expert agent operating in the ALFRED embodied household environment.';
const PLAY_INSTRUCTION = [
  "Now it's your turn to take an action.",
  'First reason step by step about the current situation and what still has to be done for the task.',
  'Then give exactly one admissible action inside <action> </action> tags.',
].join('\n');

const FMT: HistoryFormat = { window: 15 };
const COMPACT_PLAY_WINDOW = 5;
const COMPACT_PAST_WINDOW = 15;
const COMPACT_OBS_CAP = 40;

/** The goal sentence inside a first observation. */
export function alfworldTaskOf(initialObs: string): string {
  const m = /Your task is to: (.*)$/s.exec(initialObs);
  if (!m) throw badInput(`${ALFWORLD_ID} prompt: initialObs has no "Your task is to:" line`);
  return m[1].trim();
}

function alfworldEnv(env: TextEnv | string): AlfWorldEnv {
  if (typeof env === 'string' || env.id !== ALFWORLD_ID) {
    throw badInput(
      `${ALFWORLD_ID} prompt: pass the env instance (the prompt lists the admissible commands of its current state)`,
    );
  }
  return env as AlfWorldEnv;
}

function fullPlay(env: AlfWorldEnv, ctx: PromptContext): string {
  return [
    ROLE,
    'Your first observation was:',
    `${ctx.initialObs}${memoryBlocks(ctx.past, ctx.memory, FMT)}${currentBlock(ctx, FMT)}`,
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
    'Your first observation was:',
    ctx.initialObs,
    '',
    REFLECT_TASK,
    '',
    `On trial #${Math.max(1, ctx.episode)} your last actions and observations were:`,
    historyLines(ctx.current.steps, FMT),
    'The task was NOT completed.',
    '',
    REFLECT_INSTRUCTIONS,
  ].join('\n');
}

/** Compact words of a history action (a command, or 'invalid'). */
export function alfworldActionWords(action: string): string[] {
  const words = alfworldWords(action).filter(inAlfworldVocabulary);
  return action === 'invalid' || words.length === 0 ? ['invalid'] : words;
}

function obsWords(text: string): string[] {
  return alfworldWords(text).filter(inAlfworldVocabulary).slice(0, COMPACT_OBS_CAP);
}

function compactPlay(env: AlfWorldEnv, ctx: PromptContext): string[] {
  const steps = ctx.current.steps;
  const last = steps.length > 0 ? steps[steps.length - 1].obs : 'You are in the middle of a room.';
  const choices = ['<choices>'];
  env.compactChoices().forEach((c, i) => choices.push(alfworldChoiceMarker(i), ...alfworldWords(c)));
  choices.push('</choices>');
  return [
    'alfworld',
    '<task>',
    ...alfworldWords(alfworldTaskOf(ctx.initialObs)),
    '</task>',
    ...compactMemory(ctx.past, ctx.memory, alfworldActionWords, COMPACT_PAST_WINDOW),
    '<trial>',
    trialWord(ctx.episode + 1),
    ...compactHistory(steps, alfworldActionWords, COMPACT_PLAY_WINDOW),
    '<obs>',
    ...obsWords(last),
    '</obs>',
    ...choices,
    '<action>',
  ];
}

function compactReflect(ctx: PromptContext): string[] {
  const steps = ctx.current.steps;
  const last = steps.length > 0 ? steps[steps.length - 1].obs : '';
  return [
    'alfworld',
    '<task>',
    ...alfworldWords(alfworldTaskOf(ctx.initialObs)),
    '</task>',
    '<reflect>',
    '<trial>',
    trialWord(Math.max(1, ctx.episode)),
    ...compactHistory(steps, alfworldActionWords, COMPACT_PAST_WINDOW),
    '<obs>',
    ...obsWords(last),
    '</obs>',
    '<remark>',
  ];
}

/** Builds an ALFWorld prompt; play prompts need the env instance (its admissible commands). */
export function buildAlfworldPrompt(env: TextEnv | string, ctx: PromptContext): string {
  if (ctx.template === 'compact') {
    return (ctx.phase === 'play' ? compactPlay(alfworldEnv(env), ctx) : compactReflect(ctx)).join(' ');
  }
  return ctx.phase === 'play' ? fullPlay(alfworldEnv(env), ctx) : fullReflect(ctx);
}

/** Registration record for ../prompt.ts (reflection parsing and the compact vocabulary). */
export const alfworldPromptContent: PromptContent = {
  fullHeader: () => ROLE,
  fullPlayInstruction: () => PLAY_INSTRUCTION,
  remarkTags: 'last',
  windows: {
    play: 15,
    playObs: 15,
    reflect: 15,
    past: 15,
    pastObs: 15,
    compactPlay: COMPACT_PLAY_WINDOW,
    compactPast: COMPACT_PAST_WINDOW,
  },
  compactHeader: () => ['alfworld'],
  compactRow: obsWords,
  compactAction: alfworldActionWords,
  compactReflectionValid: (words) => words.every((w) => inAlfworldVocabulary(w) && !w.startsWith('<')),
  compactWords: ALFWORLD_COMPACT_WORDS,
};
