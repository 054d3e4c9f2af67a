/**
 * Row conversions at the boundary (proto/rows.ts): actor row -> wire -> learner row keeps every field the learner uses.
 */
import { describe, expect, it } from 'vitest';
import { validateTrial } from '../../proto/messages.js';
import { fromWireRows, toWireRow } from '../../proto/rows.js';
import { sampleTrial } from './samples.js';

describe('row conversions', () => {
  it('round-trips an actor row through the wire, won flag included, and cuts long texts to the protocol limit', () => {
    const row = {
      phase: 'play' as const,
      episode: 0,
      turn: 2,
      reward: 10,
      valid: true,
      anchor: 'x'.repeat(5000),
      won: true,
      policyVersion: 4,
      prompt: Int32Array.from([1, 2, 3]),
      response: Int32Array.from([4]),
      behavLogp: Float32Array.from([-0.5]),
      actionText: 'click 1 2',
      hasLogp: true,
    };
    const wire = toWireRow(row);
    expect(wire.anchor.length).toBe(4096);
    expect(wire.won).toBe(true);
    expect(wire.hasLogp).toBeUndefined();
    const t = { ...sampleTrial(1), episodesWon: [true], attempts: 3, rows: [wire] };
    expect(validateTrial(t)).toBeNull();
    const [back] = fromWireRows(t);
    expect(back).toMatchObject({
      phase: 'play',
      episode: 0,
      turn: 2,
      reward: 10,
      valid: true,
      won: true,
      policyVersion: 4,
      external: false,
    });
    expect(Array.from(back.prompt)).toEqual([1, 2, 3]);
    expect(Array.from(back.behavLogp)).toEqual([-0.5]);
  });

  it('takes the won flag from the row when the record carries it, and derives it for older records', () => {
    const t = sampleTrial(2);
    const won = { ...t, episodesWon: t.episodesWon.map((_, i, a) => i === a.length - 1) };
    const derived = fromWireRows(won).flatMap((r, i) => (r.won ? [i] : []));
    expect(derived).toEqual([won.rows.length - 1]);
    // A record that carries the flag is read as sent (here on no row: an actor that knew no win).
    const carried = { ...won, rows: won.rows.map((r) => ({ ...r, won: false })) };
    expect(fromWireRows(carried).some((r) => r.won)).toBe(false);
  });

  it('refuses a won flag on a row whose episode was not won, or twice in one episode', () => {
    const t = sampleTrial(3);
    const lost = { ...t, rows: t.rows.map((r, i) => (i === 0 ? { ...r, won: true } : r)) };
    expect(validateTrial(lost)).toMatch(/won is set but episode 0 was not won/);
    const w = { ...t, episodesWon: t.episodesWon.map((_, i, a) => i === a.length - 1) };
    const lastEp = w.episodesWon.length - 1;
    const twice = {
      ...w,
      rows: w.rows.map((r) => (r.phase === 'play' && r.episode === lastEp ? { ...r, won: true } : r)),
    };
    expect(validateTrial(twice)).toMatch(/a second winning row/);
  });
});
