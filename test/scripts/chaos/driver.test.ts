/** The chaos driver's option checks (the run itself: test/scripts/chaos.test.ts, real processes). */
import { describe, expect, it } from 'vitest';
import { type ChaosOptions, validateChaosOptions } from '../../../scripts/chaos/driver.js';

const ok: ChaosOptions = {
  minutes: 2,
  actorKills: 1,
  learnerKills: 1,
  stops: 1,
  netFaults: 0,
  actors: 2,
  seed: 1,
  netns: false,
};

describe('chaos options', () => {
  it('accepts a run with room for warm-up and faults', () => {
    expect(() => validateChaosOptions(ok)).not.toThrow();
    expect(() => validateChaosOptions({ ...ok, minutes: 1, quietSec: 30 })).not.toThrow();
  });

  it('names the bad option', () => {
    expect(() => validateChaosOptions({ ...ok, stops: -1 })).toThrow(/stops must be an integer >= 0, got -1/);
    expect(() => validateChaosOptions({ ...ok, actorKills: 1.5 })).toThrow(/actorKills must be an integer/);
    expect(() => validateChaosOptions({ ...ok, actors: 0 })).toThrow(/--actors must be an integer >= 1/);
    expect(() => validateChaosOptions({ ...ok, minutes: 0 })).toThrow(/--minutes must be > 0/);
    expect(() => validateChaosOptions({ ...ok, minutes: 0.9, quietSec: 30 })).toThrow(/leaves under 30 s/);
  });
});
