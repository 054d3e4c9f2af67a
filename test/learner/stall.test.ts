import { describe, expect, it } from 'vitest';
import type { ActorRow } from '../../learner/fleet.js';
import { describeActors, StallWatch } from '../../learner/stall.js';

const row = (over: Partial<ActorRow>): ActorRow => ({
  actorId: 'a0',
  incarnation: 'i',
  connected: true,
  lastSeenSec: 1,
  version: 0,
  trials: 0,
  trialsPerSec: 0,
  leased: 0,
  ...over,
});

describe('StallWatch', () => {
  it(
    'reports a wait only after stallSec without progress, ' +
      'once per stall, and clears when the stage gets what it waited for',
    () => {
      let now = 0;
      let actors: ActorRow[] = [
        row({ actorId: 'a1', lastSeenSec: 3 }),
        row({ actorId: 'a2', lastSeenSec: 40, leased: 2 }),
      ];
      const w = new StallWatch({ stallSec: 30, actors: () => actors, now: () => now });
      w.waiting({ stage: 'learner', what: '2 train groups (3/8 trials)' });
      now = 29_000;
      expect(w.check()).toBeNull();
      w.progressed(); // a trial arrived: the wait is slow, not stalled
      now = 50_000;
      expect(w.check()).toBeNull();
      now = 59_500;
      const s = w.check()!;
      expect(s.message).toBe(
        'learner waiting 60 s for 2 train groups (3/8 trials); 2 actors connected, ' +
          '2 trials in flight: actor a2 last seen 40 s ago (2 leased), actor a1 last seen 3 s ago',
      );
      expect(w.newStall()).not.toBeNull();
      expect(w.newStall()).toBeNull(); // logged once
      w.done('learner');
      expect(w.check()).toBeNull();
      w.waiting({ stage: 'trainer', what: 'the update to v5' });
      now += 31_000;
      actors = [];
      expect(w.check()!.message).toBe(
        'trainer worker busy 31 s on the update to v5; 0 actors connected, ' +
          '0 trials in flight: no actor has connected yet (start one with `lamer actor`)',
      );
      expect(w.newStall()).not.toBeNull(); // a new stall is logged again
    },
  );

  it('puts gone actors that hold leases first', () => {
    expect(
      describeActors([
        row({ actorId: 'a1' }),
        row({ actorId: 'a3', connected: false, goneSec: 12, lastSeenSec: 20, leased: 2 }),
      ]),
    ).toBe(
      '1 actor connected, 2 trials in flight: actor a3 disconnected 12 s ago (2 leased), actor a1 last seen 1 s ago',
    );
  });
});
