/** Leases, lockstep cohorts and the admission rule (learner/scheduler.ts) against a real task book. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from '../../learner/scheduler.js';
import { TaskBook } from '../../learner/task-book.js';
import type { Config } from '../../shared/config.js';
import { config, fakeConn, silent } from './components.js';

function setup(cfg: Config, conns = [fakeConn('a0'), fakeConn('a1')]) {
  const book = new TaskBook({
    seed: 1,
    groupSize: cfg.env.groupSize,
    attempts: cfg.env.attempts,
    evalTasks: cfg.run.evalTasks,
    evalAttempts: 3,
  });
  let version = 0;
  let accepting = true;
  const changes = { n: 0 };
  const s = new Scheduler({
    config: cfg,
    book,
    logger: silent,
    version: () => version,
    acceptingNewGroups: () => accepting,
    connections: () => conns,
    connection: (id) => conns.find((c) => c.actorId === id),
    onChange: () => changes.n++,
  });
  return {
    s,
    book,
    conns,
    changes,
    setVersion: (v: number) => {
      version = v;
    },
    stopAccepting: () => {
      accepting = false;
    },
  };
}

afterEach(() => vi.useRealTimers());

describe('sync mode: lockstep through the admission rule (η = 0 whatever algo.eta says)', () => {
  it('hands out exactly B new groups per version, round-robin, one cohort per actor, and never more', () => {
    const t = setup(config({ run: { mode: 'sync', evalTasks: 3 }, algo: { groupsPerUpdate: 3, eta: 4 } }));
    t.s.pushCohorts('train');
    t.s.pushCohorts('train'); // a second push (the loop re-pushes while waiting) starts nothing new
    expect(t.book.groups.map((g) => g.groupId)).toEqual(['g0', 'g1', 'g2']);
    const [a0, a1] = t.conns;
    expect(a0.sent.map((l) => l.groupId)).toEqual(['g0', 'g2']);
    expect(a1.sent.map((l) => l.groupId)).toEqual(['g1']);
    expect(new Set(a0.sent.map((l) => l.trial.cohort)).size).toBe(1);
    expect(a0.sent[0].trial.cohortSize).toBe(2);
    // Version 1 after the three groups were trained: three more, not before.
    for (const g of [...t.book.groups])
      g.slots.forEach((_, i) => t.book.fill(g.groupId, i, { offset: i, actorId: 'a0' }));
    t.book.consume(t.book.groups.map((g) => g.groupId));
    t.s.pushCohorts('train');
    expect(t.book.groups.length).toBe(0); // still version 0: admission says no
    t.setVersion(1);
    t.s.pushCohorts('train');
    expect(t.book.groups.map((g) => g.groupId)).toEqual(['g3', 'g4', 'g5']);
  });

  it('re-leases the open slots of an actor that left, to the actors still connected', () => {
    const t = setup(config({ run: { mode: 'sync', evalTasks: 3 } }));
    t.s.pushCohorts('train');
    expect(t.book.release((l) => l.startsWith('a1/'))).toBe(2); // a1's group g1 (2 slots) is orphaned
    t.conns.pop();
    t.s.pushCohorts('train');
    expect(t.conns[0].sent.map((l) => l.groupId)).toEqual(['g0', 'g1']);
    expect(t.book.groups.length).toBe(2);
  });

  it('ignores lease requests (sync pushes) and pushes eval groups only as eval cohorts', () => {
    const t = setup(config({ run: { mode: 'sync', evalTasks: 3 } }));
    t.s.onLeaseRequest(t.conns[0], 4);
    expect(t.conns[0].sent).toEqual([]);
    t.book.openEvalRound(0);
    t.s.pushCohorts('eval');
    expect([...t.conns[0].sent, ...t.conns[1].sent].map((l) => l.mode)).toEqual(['eval', 'eval', 'eval']);
    expect(t.book.groups.filter((g) => g.kind === 'train')).toEqual([]);
  });
});

describe('async mode', () => {
  it('grants on request as far as the admission rule allows ((η + v + 1)·B groups in all)', () => {
    const t = setup(config({ algo: { groupsPerUpdate: 2, eta: 1 } }));
    t.s.onLeaseRequest(t.conns[0], 10);
    expect(t.conns[0].sent.length).toBe(4); // (1 + 0 + 1)·2
    expect(t.conns[0].sent[0].trial.temperature).toBe(1);
    t.s.onLeaseRequest(t.conns[1], 10);
    expect(t.conns[1].sent.length).toBe(0);
  });

  it('hands out evaluation slots first, with evaluation sampling', () => {
    const t = setup(config());
    t.book.openEvalRound(0);
    t.s.onLeaseRequest(t.conns[0], 2);
    expect(t.conns[0].sent.map((l) => [l.mode, l.trial.temperature])).toEqual([
      ['eval', 0.7],
      ['eval', 0.7],
    ]);
  });

  it('once the budget is spent, only slots of existing groups go out', () => {
    const t = setup(config());
    t.stopAccepting();
    t.s.onLeaseRequest(t.conns[0], 4);
    expect(t.conns[0].sent).toEqual([]);
  });
});

describe('lessee lifecycle', () => {
  it("a new incarnation releases its predecessor's slots; a rejected trial re-opens its slot at once", () => {
    const t = setup(config());
    const old = t.conns[0];
    t.s.onLeaseRequest(old, 1);
    const g = t.book.groups[0];
    expect(Object.values(g.leases).map((l) => l.lessee)).toEqual(['a0/inc-a', 'a0/inc-a']);
    const leaseId = old.sent[0].leaseId;
    t.s.onRejected(
      {
        groupId: 'g0',
        trialIndex: 1,
        leaseId: 'forged',
        key: { runId: 'r', actorId: 'a0', incarnation: 'inc-a', seq: 0 },
      },
      'bad',
      old,
    );
    expect(g.open).toEqual([]); // a record naming another lease releases nothing
    t.s.onRejected(
      { groupId: 'g0', trialIndex: 1, leaseId, key: { runId: 'r', actorId: 'a0', incarnation: 'inc-a', seq: 0 } },
      'bad record',
      old,
    );
    expect(g.open).toEqual([1]);
    t.s.onReady(fakeConn('a0', 'inc-b'));
    expect(g.open).toEqual([0, 1]);
    expect(t.changes.n).toBe(1);
  });

  it('a disconnected actor keeps its leases for a grace period, then they are released', () => {
    vi.useFakeTimers();
    const t = setup(config({ learner: { heartbeatMs: 1000 } }));
    const a0 = t.conns[0];
    t.s.onLeaseRequest(a0, 1);
    t.conns.splice(0, 1);
    t.s.onGone(a0);
    vi.advanceTimersByTime(2999);
    expect(t.book.groups[0].open).toEqual([]);
    vi.advanceTimersByTime(2);
    expect(t.book.groups[0].open).toEqual([0, 1]);
    t.s.close();
  });

  it('an actor that comes back with the same incarnation within the grace period keeps its leases', () => {
    vi.useFakeTimers();
    const t = setup(config({ learner: { heartbeatMs: 1000 } }));
    const a0 = t.conns[0];
    t.s.onLeaseRequest(a0, 1);
    t.s.onGone(a0);
    t.s.onReady(a0);
    vi.advanceTimersByTime(10_000);
    expect(t.book.groups[0].open).toEqual([]);
  });
});
