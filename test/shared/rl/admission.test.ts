import { describe, expect, it } from 'vitest';
import { groupsThatMayStart } from '../../../shared/rl/admission.js';

/**
 * Event simulation of a learner with admission control: groups take `duration()` time units, the trainer
 * consumes B accepted groups (in acceptance order) as soon as they are there, instantly.
 */
function simulate(opts: { eta: number; B: number; updates: number; duration: () => number; maxRunning?: number }) {
  const { eta, B } = opts;
  let time = 0,
    version = 0,
    accepted = 0;
  const running: Array<{ id: number; end: number; startVersion: number }> = [];
  const ready: Array<{ id: number; startVersion: number }> = [];
  const trained: Array<{ id: number; startVersion: number; trainVersion: number }> = [];
  const startedAtVersion = new Map<number, number>();
  let nextId = 0,
    maxInvariant = -Infinity;
  while (version < opts.updates) {
    const k = groupsThatMayStart({
      accepted,
      running: running.length,
      version,
      eta,
      groupsPerUpdate: B,
      maxRunning: opts.maxRunning,
    });
    for (let i = 0; i < k; i++) {
      running.push({ id: nextId++, end: time + opts.duration(), startVersion: version });
      startedAtVersion.set(version, (startedAtVersion.get(version) ?? 0) + 1);
    }
    maxInvariant = Math.max(maxInvariant, accepted + running.length - (eta + version + 1) * B);
    // Next completion (ties by id keep the order deterministic).
    running.sort((a, b) => a.end - b.end || a.id - b.id);
    const done = running.shift()!;
    time = done.end;
    accepted++;
    ready.push(done);
    while (ready.length >= B) {
      for (const g of ready.splice(0, B)) trained.push({ ...g, trainVersion: version });
      version++;
    }
  }
  const staleness = trained.map((g) => g.trainVersion - g.startVersion);
  return { time, trained, startedAtVersion, maxInvariant, maxStaleness: Math.max(...staleness) };
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('staleness admission', () => {
  it('by hand: (η + v + 1)·B − accepted − running, never negative', () => {
    expect(groupsThatMayStart({ accepted: 0, running: 0, version: 0, eta: 0, groupsPerUpdate: 4 })).toBe(4);
    expect(groupsThatMayStart({ accepted: 3, running: 1, version: 0, eta: 0, groupsPerUpdate: 4 })).toBe(0);
    expect(groupsThatMayStart({ accepted: 4, running: 0, version: 1, eta: 0, groupsPerUpdate: 4 })).toBe(4);
    expect(groupsThatMayStart({ accepted: 5, running: 3, version: 1, eta: 2, groupsPerUpdate: 4 })).toBe(8);
    expect(groupsThatMayStart({ accepted: 20, running: 9, version: 0, eta: 1, groupsPerUpdate: 4 })).toBe(0);
    expect(groupsThatMayStart({ accepted: 0, running: 2, version: 0, eta: 4, groupsPerUpdate: 4, maxRunning: 5 })).toBe(
      3,
    );
  });

  it('η = 0 is synchronous: each update trains exactly the B groups started at its version, staleness 0', () => {
    const r = simulate({
      eta: 0,
      B: 4,
      updates: 30,
      duration: (() => {
        const u = lcg(7);
        return () => 1 + 9 * u();
      })(),
    });
    expect(r.maxStaleness).toBe(0);
    expect(r.maxInvariant).toBeLessThanOrEqual(0);
    for (let v = 0; v < 30; v++) expect(r.startedAtVersion.get(v)).toBe(4);
  });

  it(
    'η > 0 overlaps generation with training; staleness reaches ' +
      'but never exceeds η when groups finish in start order',
    () => {
      for (const eta of [1, 2, 4]) {
        const r = simulate({ eta, B: 4, updates: 40, duration: () => 5 });
        expect(r.maxInvariant).toBeLessThanOrEqual(0);
        expect(r.maxStaleness).toBe(eta);
      }
    },
  );

  it('with uneven group durations async finishes the same updates sooner than sync, keeping the invariant', () => {
    const dur = (seed: number) => {
      const u = lcg(seed);
      return () => (u() < 0.2 ? 20 : 2);
    }; // a few slow groups
    const sync = simulate({ eta: 0, B: 4, updates: 50, duration: dur(3) });
    const asyn = simulate({ eta: 2, B: 4, updates: 50, duration: dur(3) });
    expect(asyn.maxInvariant).toBeLessThanOrEqual(0);
    expect(asyn.time).toBeLessThan(0.8 * sync.time);
  });

  it('rejects malformed state naming the field', () => {
    expect(() => groupsThatMayStart({ accepted: -1, running: 0, version: 0, eta: 0, groupsPerUpdate: 4 })).toThrow(
      /accepted must be an integer >= 0/,
    );
    expect(() => groupsThatMayStart({ accepted: 0, running: 0, version: 0, eta: 0.5, groupsPerUpdate: 4 })).toThrow(
      /eta must be an integer/,
    );
    expect(() => groupsThatMayStart({ accepted: 0, running: 0, version: 0, eta: 0, groupsPerUpdate: 0 })).toThrow(
      /groupsPerUpdate must be an integer >= 1/,
    );
  });
});
