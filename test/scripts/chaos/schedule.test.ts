/** The seeded fault schedule: counts, cycling kinds, window and determinism. */
import { describe, expect, it } from 'vitest';
import { schedule } from '../../../scripts/chaos/schedule.js';
import { createRng } from '../../../shared/rng.js';

const counts = { actorKills: 7, learnerKills: 4, stops: 3, netFaults: 5, netns: true };

describe('chaos schedule', () => {
  it('schedules every fault once, sorted by time, inside the window', () => {
    const ev = schedule(createRng(1), counts, 10_000, 70_000);
    expect(ev).toHaveLength(7 + 4 + 3 + 5);
    const byType = (t: string) => ev.filter((e) => e.type === t);
    expect(byType('actorKill')).toHaveLength(7);
    expect(byType('learnerKill')).toHaveLength(4);
    expect(byType('stop')).toHaveLength(3);
    expect(byType('net')).toHaveLength(5);
    for (let i = 1; i < ev.length; i++) expect(ev[i].at).toBeGreaterThanOrEqual(ev[i - 1].at);
    for (const e of ev) {
      expect(e.at).toBeGreaterThanOrEqual(10_000);
      expect(e.at).toBeLessThan(70_000);
    }
  });

  it('cycles actor kill modes and learner kill kinds, alternates stop targets, bounds pause lengths', () => {
    const ev = schedule(createRng(2), counts, 0, 60_000);
    const modes = ev.flatMap((e) => (e.type === 'actorKill' ? [e.mode] : []));
    expect(modes.filter((m) => m === 'random')).toHaveLength(3);
    expect(modes.filter((m) => m === 'after-done')).toHaveLength(2);
    expect(modes.filter((m) => m === 'after-outbox')).toHaveLength(2);
    const kinds = ev.flatMap((e) => (e.type === 'learnerKill' ? [e.kind] : []));
    // Spread with jitter under 1/n keeps the order of each kind's events: the cycle survives sorting.
    expect(kinds).toEqual(['checkpoint-write', 'corrupt', 'plain', 'checkpoint-write']);
    const stops = ev.flatMap((e) => (e.type === 'stop' ? [e] : []));
    expect(stops.map((s) => s.target)).toEqual(['actor', 'learner', 'actor']);
    for (const s of stops) {
      expect(s.ms).toBeGreaterThanOrEqual(2000);
      expect(s.ms).toBeLessThan(4000);
    }
    const nets = ev.flatMap((e) => (e.type === 'net' ? [e] : []));
    expect(nets.map((n) => n.fault)).toEqual(['partition', 'loss', 'reset', 'partition', 'loss']);
    for (const n of nets) {
      expect(n.ms).toBeGreaterThanOrEqual(2000);
      expect(n.ms).toBeLessThan(5000);
    }
  });

  it('schedules no network faults without namespaces', () => {
    const ev = schedule(createRng(3), { ...counts, netns: false }, 0, 60_000);
    expect(ev.some((e) => e.type === 'net')).toBe(false);
    expect(ev).toHaveLength(7 + 4 + 3);
  });

  it('is a function of the seed', () => {
    expect(schedule(createRng(5), counts, 0, 1000)).toEqual(schedule(createRng(5), counts, 0, 1000));
    expect(schedule(createRng(5), counts, 0, 1000)).not.toEqual(schedule(createRng(6), counts, 0, 1000));
  });
});
