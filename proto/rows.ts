/**
 * The one place a trial row changes shape: from an actor's row (typed arrays, full strings) to the wire `Row`
 * (tensors, strings cut to the protocol's limit), and from the wire back to the learner's row (typed arrays, the
 * winning turn). Both sides import these, so nothing is dropped on one side and rebuilt by a rule on the other.
 */
import { fromTensor, LIMITS, type Row, toTensor, type Trial } from './messages.js';

/** A row with its token data as typed arrays: what an actor records and what the learner trains on. */
export interface ArrayRow {
  phase: 'play' | 'reflect';
  episode: number;
  turn: number;
  reward: number;
  valid: boolean;
  anchor: string;
  /** True on the play turn that won its episode. */
  won: boolean;
  policyVersion: number;
  prompt: Int32Array;
  response: Int32Array;
  behavLogp: Float32Array;
}

/** An actor's row on the wire. Texts longer than the protocol allows are cut (they are anchors and logs only). */
export function toWireRow(r: ArrayRow & { actionText: string; hasLogp: boolean }): Row {
  return {
    phase: r.phase,
    episode: r.episode,
    turn: r.turn,
    reward: r.reward,
    valid: r.valid,
    anchor: r.anchor.slice(0, LIMITS.textChars),
    ...(r.won ? { won: true } : {}),
    policyVersion: r.policyVersion,
    prompt: toTensor(r.prompt),
    response: toTensor(r.response),
    behavLogp: toTensor(r.behavLogp),
    actionText: r.actionText.slice(0, LIMITS.textChars),
    ...(r.hasLogp ? {} : { hasLogp: false }),
  };
}

/**
 * A trial's rows as the learner uses them. `external`: sampled by a policy other than the learner's own weights (an
 * inference server), never treated as on-policy. Records of actors older than the `won` field get it from
 * `episodesWon`: the winning turn is the last play row of a won episode (a won episode ends on it).
 */
export function fromWireRows(t: Trial): Array<ArrayRow & { external: boolean }> {
  const carriesWon = t.rows.some((r) => r.won !== undefined);
  const lastPlay = new Map<number, number>();
  t.rows.forEach((r, i) => r.phase === 'play' && lastPlay.set(r.episode, i));
  return t.rows.map((r, i) => ({
    phase: r.phase,
    episode: r.episode,
    turn: r.turn,
    reward: r.reward,
    valid: r.valid,
    anchor: r.anchor,
    won: carriesWon
      ? r.won === true
      : r.phase === 'play' && t.episodesWon[r.episode] === true && lastPlay.get(r.episode) === i,
    policyVersion: r.policyVersion,
    prompt: fromTensor(r.prompt),
    response: fromTensor(r.response),
    behavLogp: fromTensor(r.behavLogp),
    external: t.policy?.backend === 'openai',
  }));
}
