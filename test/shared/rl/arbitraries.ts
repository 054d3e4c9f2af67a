/**
 * fast-check generators of well-formed trials and groups (chronological rows, small anchor alphabet so step groups
 * form).
 */
import fc from 'fast-check';
import type { Group, Row } from '../../../shared/rl/types.js';

/** Fixed seed for every property test: failures reproduce. */
export const FC = { seed: 20260201, numRuns: 300 } as const;

const arbTurn = fc.record({
  reward: fc.constantFrom(-0.1, 0, 0.5, 1, -1, 2, 10, 10.9),
  valid: fc.boolean(),
  anchor: fc.constantFrom('s0', 's1', 's2', 's3'),
});

const arbEpisode = fc.record({
  reflect: fc.boolean(),
  reflectValid: fc.boolean(),
  turns: fc.array(arbTurn, { minLength: 1, maxLength: 4 }),
});

/** Rows of one trial from a list of episodes. */
export function episodesToRows(
  episodes: Array<{
    reflect: boolean;
    reflectValid: boolean;
    turns: Array<{ reward: number; valid: boolean; anchor: string }>;
  }>,
): Row[] {
  const rows: Row[] = [];
  episodes.forEach((e, k) => {
    if (k > 0 && e.reflect)
      rows.push({
        phase: 'reflect',
        episode: k,
        turn: 0,
        reward: e.reflectValid ? 1 : 0,
        valid: e.reflectValid,
        anchor: 'reflection',
      });
    e.turns.forEach((t, turn) => rows.push({ phase: 'play', episode: k, turn, ...t }));
  });
  return rows;
}

export const arbTrialRows = (maxEpisodes = 4): fc.Arbitrary<Row[]> =>
  fc.array(arbEpisode, { minLength: 1, maxLength: maxEpisodes }).map(episodesToRows);

export const arbGroup = (
  opts: { minTrials?: number; maxTrials?: number; maxEpisodes?: number } = {},
): fc.Arbitrary<Group> =>
  fc
    .array(arbTrialRows(opts.maxEpisodes ?? 4), { minLength: opts.minTrials ?? 1, maxLength: opts.maxTrials ?? 5 })
    .map((trials) => ({ groupId: 'g', trials: trials.map((rows, i) => ({ trialId: `t${i}`, rows })) }));

export const arbGamma = fc.constantFrom(0, 0.3, 0.6, 0.9, 0.95, 1);
