import { describe, expect, it } from 'vitest';
import { TaskBook } from '../../learner/task-book.js';

const book = () => new TaskBook({ seed: 1, groupSize: 4, attempts: 3, evalTasks: 2, evalAttempts: 3 });
const always = () => 1;

describe('TaskBook.releaseSlot (a rejected trial hands its slot out again)', () => {
  it('re-opens an unfilled slot leased to the rejecting actor, and the next grant hands it out', () => {
    const b = book();
    const [g] = b.grant('actor-1/0', 1, 0, always);
    expect(g.trialIndices).toEqual([0, 1, 2, 3]);
    expect(b.releaseSlot(g.groupId, 2, 'actor-1/0', g.leaseId)).toBe(true);
    const again = b.grant('actor-2/0', 1, 0, () => 0);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ groupId: g.groupId, trialIndices: [2], taskSeed: g.taskSeed });
  });

  it("leaves filled slots, other lessees' slots and unknown groups alone", () => {
    const b = book();
    const [g] = b.grant('actor-1/0', 1, 0, always);
    expect(b.fill(g.groupId, 1, { offset: 0, actorId: 'actor-1' })).toBe('filled');
    expect(b.releaseSlot(g.groupId, 1, 'actor-1/0', g.leaseId)).toBe(false); // already filled: the record counts
    expect(b.releaseSlot(g.groupId, 0, 'actor-1/1', g.leaseId)).toBe(false); // another incarnation holds no lease here
    expect(b.releaseSlot('no-such-group', 0, 'actor-1/0', g.leaseId)).toBe(false);
    expect(b.grant('actor-2/0', 1, 0, () => 0)).toEqual([]);
  });

  it(
    'a released slot that the first lessee fills after all ' + 'makes the second delivery surplus, not a double count',
    () => {
      const b = book();
      const [g] = b.grant('actor-1/0', 1, 0, always);
      b.releaseSlot(g.groupId, 3, 'actor-1/0', g.leaseId);
      b.grant('actor-2/0', 1, 0, () => 0);
      expect(b.fill(g.groupId, 3, { offset: 10, actorId: 'actor-2' })).toBe('filled');
      expect(b.fill(g.groupId, 3, { offset: 11, actorId: 'actor-1' })).toBe('surplus');
    },
  );
});

describe("TaskBook.release (a dead actor's unfilled slots)", () => {
  it('re-opens only the unfilled slots of matching lessees, sorted', () => {
    const b = book();
    const [g] = b.grant('actor-1/0', 1, 0, always);
    b.fill(g.groupId, 0, { offset: 0, actorId: 'actor-1' });
    expect(b.release((l) => l === 'actor-2/0')).toBe(0);
    expect(b.release((l) => l === 'actor-1/0')).toBe(3);
    expect(b.grant('actor-2/0', 1, 0, () => 0)[0].trialIndices).toEqual([1, 2, 3]);
  });
});
