/** The `EnvSpec` of the test env `test/Line-v0` (env.ts): everything the registry and the central modules need. */
import { seededReplay } from '../../../../actor/envs/common/seeded-replay.js';
import type {
  CheckedEpisode,
  EnvSpec,
  PromptContent,
  RuleCheck,
  ScriptedPolicy,
} from '../../../../actor/envs/types.js';
import { LINE_ID, LINE_MOVES, LineEnv } from './env.js';

const isMove = (w: string) => (LINE_MOVES as readonly string[]).includes(w);

const prompt: PromptContent = {
  fullHeader: () =>
    'You walk along a line of cells.\n`P` is you, `G` the goal, `_` an empty cell; `*` means you stand on the goal.',
  fullPlayInstruction: () => 'Give your next move, left or right, inside <action> </action> tags.',
  remarkTags: 'last',
  windows: { play: 4, playObs: 1, reflect: 4, past: 4, pastObs: 1, compactPlay: 3, compactPast: 4 },
  compactHeader: () => ['line'],
  compactRow: (row) => row.trim().split(/\s+/),
  compactAction: (text) => (isMove(text) ? [text] : ['invalid']),
  // Reflections are a plan: move words only.
  compactReflectionValid: (words) => words.every(isMove),
  compactWords: ['line', '_', 'P', 'G', '*', 'invalid', ...LINE_MOVES],
};

/** Where the player and the goal are in a rendered row. */
function positions(row: string): { at: number; goal: number } {
  const cells = row.split(' ');
  const star = cells.indexOf('*');
  return star >= 0 ? { at: star, goal: star } : { at: cells.indexOf('P'), goal: cells.indexOf('G') };
}

const scripted: ScriptedPolicy = {
  act(env, rng, noise) {
    const { at, goal } = positions(env.render());
    const move = noise > 0 && rng.next() < noise ? rng.pick(LINE_MOVES) : goal < at ? 'left' : 'right';
    return { full: move, compact: [move] };
  },
  reflect(initialObs) {
    const { at, goal } = positions(initialObs);
    const plan = Array.from({ length: Math.abs(goal - at) }, () => (goal < at ? 'left' : 'right'));
    return {
      full: `Walk ${plan[0]} ${plan.length} times.`,
      compact: plan,
      reasoning: 'I wandered instead of walking straight to the goal.',
    };
  },
};

/** Every step pays -0.1, the winning one +1; won agrees with the board; the solver walks the shortest way. */
const checkRules: RuleCheck = (ck, seed, reset, solved, random) => {
  const check = (ep: CheckedEpisode, what: string) =>
    ep.results.forEach((r, t) => {
      if (r.reward !== (r.info.won ? 1 : -0.1))
        ck.fail(`seed ${seed}: ${what} step ${t + 1} reward ${r.reward} with won=${r.info.won}`);
      if (r.info.won !== r.obs.includes('*'))
        ck.fail(`seed ${seed}: ${what} step ${t + 1} won flag disagrees with the board`);
    });
  check(solved, 'solver');
  check(random, 'random');
  const distance = reset.info.distance as number;
  if (!solved.won || solved.turns !== distance)
    ck.fail(`seed ${seed}: the solver took ${solved.turns} moves for distance ${distance}`);
  return distance;
};

export const lineSpec: EnvSpec = {
  id: LINE_ID,
  aliases: ['line'],
  description: 'test env: walk a line to the goal',
  make: (o) => new LineEnv(o),
  prompt,
  scripted,
  checkRules,
  replay: seededReplay,
};
