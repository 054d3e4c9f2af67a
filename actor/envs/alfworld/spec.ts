/** ALFWorld's `EnvSpec`: everything the registry and the central env modules know about it. */
import { seededReplay } from '../common/seeded-replay.js';
import type { CheckedEpisode, EnvSpec, RuleCheck } from '../types.js';
import { NOTHING_HAPPENS } from './engine.js';
import { ALFWORLD_ID, AlfWorldEnv, type AlfWorldOptions, AlfWorldOptionsSchema } from './env.js';
import { alfworldPromptContent, buildAlfworldPrompt } from './prompt.js';
import { alfworldEvalReport } from './report.js';
import { alfworldScripted } from './scripted.js';

/**
 * Reward 10 exactly on the step that satisfies the goal, which terminates; "Nothing happens." never pays or wins.
 * The scripted planner must solve every task.
 */
const checkRules: RuleCheck = (ck, seed, reset, solved, random) => {
  const check = (ep: CheckedEpisode, what: string) =>
    ep.results.forEach((r, t) => {
      if (r.reward !== (r.info.won ? 10 : 0))
        ck.fail(`seed ${seed}: ${what} step ${t + 1} reward ${r.reward} with won=${r.info.won}`);
      if (r.info.won !== r.terminated) ck.fail(`seed ${seed}: ${what} step ${t + 1} won and terminated disagree`);
      if (r.obs === NOTHING_HAPPENS && r.info.won)
        ck.fail(`seed ${seed}: ${what} step ${t + 1} won on a command that did nothing`);
    });
  check(solved, 'solver');
  check(random, 'random');
  if (!solved.won) ck.fail(`seed ${seed}: the scripted planner did not solve the ${String(reset.info.taskType)} task`);
  return solved.won ? solved.turns : null;
};

export const alfworldSpec: EnvSpec = {
  id: ALFWORLD_ID,
  aliases: ['alfworld'],
  description:
    'ALFWorld text households (LaMer): six task types; train on Pick/Look/Clean/Heat, Cool/Pick2 out of distribution',
  make: (o) => new AlfWorldEnv(o as AlfWorldOptions),
  options: AlfWorldOptionsSchema,
  prompt: alfworldPromptContent,
  buildPrompt: buildAlfworldPrompt,
  scripted: alfworldScripted,
  checkRules,
  replay: seededReplay,
  evalReport: (trials) => alfworldEvalReport(trials),
};
