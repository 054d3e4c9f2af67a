/**
 * Structural checks on a trial's rows. Returns and scores are computed by walking the rows in order, so a row
 * out of chronological order would silently credit the wrong turns; these checks make it an error instead.
 */
import { badInput } from '../errors.js';
import type { Group, Row } from './types.js';

/**
 * The first problem with a trial's row sequence, or null. Rules: the trial starts with a play row of episode 0;
 * inside an episode play turns strictly increase; the next episode starts either with its play rows or with one
 * reflect row carrying that episode's index (reflect rows never come first, never follow a reflect row, and are
 * always followed by play rows of their episode); episode indices never skip.
 */
export function trialOrderProblem(rows: readonly Row[]): { row: number; message: string } | null {
  if (rows.length === 0) return { row: -1, message: 'trial has no rows' };
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r.phase !== 'play' && r.phase !== 'reflect')
      return { row: i, message: `phase must be 'play' or 'reflect', got ${JSON.stringify(r.phase)}` };
    if (!Number.isInteger(r.episode) || r.episode < 0)
      return { row: i, message: `episode must be an integer >= 0, got ${r.episode}` };
    if (!Number.isInteger(r.turn) || r.turn < 0)
      return { row: i, message: `turn must be an integer >= 0, got ${r.turn}` };
    if (!Number.isFinite(r.reward)) return { row: i, message: `reward must be a finite number, got ${r.reward}` };
    if (i === 0) {
      if (r.phase !== 'play' || r.episode !== 0) {
        return {
          row: 0,
          message: `a trial must start with a play row of episode 0, got ${r.phase} row of episode ${r.episode}`,
        };
      }
      continue;
    }
    const p = rows[i - 1];
    const at =
      `${r.phase} row (episode ${r.episode}, turn ${r.turn}) ` +
      `follows ${p.phase} row (episode ${p.episode}, turn ${p.turn})`;
    if (r.phase === 'reflect') {
      if (p.phase !== 'play' || r.episode !== p.episode + 1) {
        return {
          row: i,
          message: `out of chronological order: ${at}; a reflect row carries the index of the episode that follows it`,
        };
      }
    } else if (r.episode === p.episode) {
      if (p.phase === 'play' && r.turn <= p.turn)
        return { row: i, message: `out of chronological order: ${at}; turns must increase` };
    } else if (!(r.episode === p.episode + 1 && p.phase === 'play')) {
      return { row: i, message: `out of chronological order: ${at}` };
    }
  }
  const last = rows[rows.length - 1];
  if (last.phase === 'reflect') {
    return {
      row: rows.length - 1,
      message:
        `the trial ends with a reflect row for episode ${last.episode}, ` +
        'but no play rows of that episode follow it',
    };
  }
  return null;
}

/** Throws a bad-input error naming group, trial and row for the first malformed trial; also rejects duplicate ids. */
export function assertGroupsWellFormed(groups: readonly Group[]): void {
  const groupIds = new Set<string>();
  for (const g of groups) {
    if (groupIds.has(g.groupId)) throw badInput(`duplicate groupId '${g.groupId}'`);
    groupIds.add(g.groupId);
    if (g.trials.length === 0) throw badInput(`group '${g.groupId}' has no trials`);
    const trialIds = new Set<string>();
    for (const t of g.trials) {
      if (trialIds.has(t.trialId)) throw badInput(`group '${g.groupId}': duplicate trialId '${t.trialId}'`);
      trialIds.add(t.trialId);
      const p = trialOrderProblem(t.rows);
      if (p) {
        const where = p.row >= 0 ? ` row ${p.row}` : '';
        throw badInput(`group '${g.groupId}' trial '${t.trialId}'${where}: ${p.message}`);
      }
    }
  }
}
