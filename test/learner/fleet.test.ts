import { describe, expect, it } from 'vitest';
import { Fleet } from '../../learner/fleet.js';
import type { GroupState } from '../../learner/task-book.js';
import type { Trial } from '../../proto/messages.js';

const trial = (actorId: string, version: number, stats: Partial<Trial['stats']> = {}) =>
  ({
    key: { actorId, incarnation: 'i1', seq: 0 },
    rows: [{ policyVersion: version }],
    stats: { envSteps: 1, genTokens: 1, ...stats },
  }) as unknown as Trial;

describe('Fleet', () => {
  it('tracks connection, last seen, version, rate, outbox, idle over >= 5 s windows, and leased-unfilled slots', () => {
    let now = 1_000_000;
    const f = new Fleet(() => now);
    f.connected({ actorId: 'a0', incarnation: 'i1' });
    f.connected({ actorId: 'a1', incarnation: 'i1' });
    f.trial(trial('a0', 3, { actorBusyMs: 0, actorUpMs: 0, outboxDepth: 2 }));
    now += 1000;
    f.trial(trial('a0', 4, { actorBusyMs: 500, actorUpMs: 1000 })); // too short a window: no idle figure yet
    expect(f.rows([])[0].idleFrac).toBeUndefined();
    now += 5000;
    f.trial(trial('a0', 4, { actorBusyMs: 1500, actorUpMs: 6000 }));
    now += 10_000;
    f.gone({ actorId: 'a1', incarnation: 'i1' });
    now += 2000;
    const groups = [
      {
        slots: [null, { offset: 0, actorId: 'a0' }, null],
        leases: {
          0: { lessee: 'a0/i1', leaseId: 'L0', at: 0 },
          1: { lessee: 'a0/i1', leaseId: 'L0', at: 0 },
          2: { lessee: 'a1/i1', leaseId: 'L1', at: 0 },
        },
      },
    ] as unknown as GroupState[];
    const [a0, a1] = f.rows(groups);
    expect(a0).toMatchObject({
      actorId: 'a0',
      connected: true,
      version: 4,
      trials: 3,
      outbox: 2,
      leased: 1,
      lastSeenSec: 12,
    });
    expect(a0.idleFrac).toBeCloseTo(0.75);
    expect(a0.trialsPerSec).toBeCloseTo(3 / 60);
    expect(a1).toMatchObject({ actorId: 'a1', connected: false, goneSec: 2, version: -1, leased: 1 });
  });

  it('forgets actors gone for an hour, and a new incarnation starts a fresh row', () => {
    let now = 0;
    const f = new Fleet(() => now);
    f.connected({ actorId: 'a0', incarnation: 'i1' });
    f.trial(trial('a0', 1));
    f.connected({ actorId: 'a0', incarnation: 'i2' });
    expect(f.rows([])[0]).toMatchObject({ incarnation: 'i2', trials: 0 });
    f.gone({ actorId: 'a0', incarnation: 'i1' }); // the old incarnation's close does not mark the new one gone
    expect(f.rows([])[0].connected).toBe(true);
    f.gone({ actorId: 'a0', incarnation: 'i2' });
    now += 3_600_001;
    expect(f.rows([])).toEqual([]);
  });
});
