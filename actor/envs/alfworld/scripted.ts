/**
 * The ALFWorld scripted policy for ../scripted.ts: the planner's command (or, with probability `noise`, a random
 * admissible command), and template reflections that restate the plan the task needs.
 */
import type { Rng } from '../../../shared/rng.js';
import type { EpisodeLog, ScriptedPolicy, TextEnv } from '../types.js';
import { NOTHING_HAPPENS } from './engine.js';
import type { AlfWorldEnv } from './env.js';
import { alfworldChoiceMarker } from './parse.js';
import { plannerCommand } from './planner.js';
import { alfworldTaskOf } from './prompt.js';
import { GOAL_TEMPLATES, TASK_TYPES, type TaskType } from './tasks.js';

/** Reads type, object, receptacle and lamp back from a goal sentence (null if it matches no template). */
export function parseGoalText(
  text: string,
): { type: TaskType; object: string; receptacle: string | null; toggle: string | null } | null {
  const sentence = text.replace(/\.$/, '');
  for (const type of TASK_TYPES) {
    for (const tpl of GOAL_TEMPLATES[type]) {
      const names: string[] = [];
      const re = new RegExp(
        `^${tpl.replace(/\{(obj|recep|toggle)\}/g, (_, n: string) => {
          names.push(n);
          return '([a-z]+)';
        })}$`,
      );
      const m = re.exec(sentence);
      if (!m) continue;
      const get = (n: string) => (names.includes(n) ? m[names.indexOf(n) + 1] : null);
      return { type, object: get('obj') as string, receptacle: get('recep'), toggle: get('toggle') };
    }
  }
  return null;
}

const PROCESS: Partial<Record<TaskType, [string, string]>> = {
  pick_clean_then_place_in_recep: ['clean', 'sinkbasin'],
  pick_heat_then_place_in_recep: ['heat', 'microwave'],
  pick_cool_then_place_in_recep: ['cool', 'fridge'],
};

export const alfworldScripted: ScriptedPolicy = {
  act(env: TextEnv, rng: Rng, noise: number) {
    const e = env as AlfWorldEnv;
    const choices = e.compactChoices();
    const command = noise > 0 && rng.next() < noise ? rng.pick(choices) : (plannerCommand(e.snapshot()) ?? 'look');
    const i = choices.indexOf(command);
    return {
      full: command,
      compact: [i >= 0 ? alfworldChoiceMarker(i) : alfworldChoiceMarker(choices.indexOf('look'))],
    };
  },
  reflect(initialObs: string, log: EpisodeLog) {
    const goal = parseGoalText(alfworldTaskOf(initialObs));
    const failed = log.steps.filter((s) => s.obs === NOTHING_HAPPENS).map((s) => s.action);
    const reasoning =
      failed.length > 0
        ? `Some of my commands did nothing (${failed.slice(0, 3).join('; ')}), ` +
          'and I ran out of steps before finishing the task.'
        : 'I ran out of steps before finishing the task; I searched without a clear order.';
    if (!goal) return { full: 'Follow the task step by step and use only admissible actions.', compact: [], reasoning };
    const { type, object, receptacle, toggle } = goal;
    const steps: string[] = [
      `find a ${object} (open closed cabinets, drawers and the fridge to look inside) and take it`,
    ];
    const compact: string[] = ['take', object];
    const proc = PROCESS[type];
    if (proc) {
      steps.push(`${proc[0]} it with the ${proc[1]}`);
      compact.push(proc[0], object, 'with', proc[1]);
    }
    if (type === 'look_at_obj_in_light') {
      steps.push(`carry it to the ${toggle} and use the ${toggle}`);
      compact.push('go', 'to', toggle as string, 'use', toggle as string);
    } else {
      steps.push(`go to a ${receptacle}, open it if it is closed, and move the ${object} there`);
      compact.push('move', object, 'to', receptacle as string);
      if (type === 'pick_two_obj_and_place') {
        steps.push(`then bring a second ${object} to the same ${receptacle}`);
        compact.push('take', object, 'move', object, 'to', receptacle as string);
      }
    }
    return { full: `Plan: ${steps.join('; ')}.`, compact, reasoning };
  },
};
