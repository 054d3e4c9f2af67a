/** The chaos report: the tally as an observer, restarts matched with the learner log, the verdict. */
import { describe, expect, it } from 'vitest';
import type { CheckReport, LearnerLogFacts } from '../../../scripts/chaos/checker.js';
import { fanOut } from '../../../scripts/chaos/observer.js';
import { buildChaosReport, countSlotReleases, FaultTally } from '../../../scripts/chaos/report.js';
import type { RestartRecord } from '../../../scripts/chaos/schedule.js';

const clean = { lost: 0, duplicated: 0, ackedNotInLedger: 0, contentMismatch: 0 } as unknown as CheckReport;

const restart = (o: Partial<RestartRecord>): RestartRecord => ({
  kind: 'plain',
  pid: 1,
  epoch: null,
  versionBeforeKill: 5,
  expectedVersion: 5,
  expectedOptimizerStep: 50,
  resumedVersion: null,
  resumedOptimizerStep: null,
  optimizerAdvanced: true,
  ...o,
});

const resume = (pid: number, learnerEpoch: number, policyVersion: number, optimizerStep: number | null) => ({
  pid,
  learnerEpoch,
  policyVersion,
  optimizerStep,
  checkpoint: `ckpt-${policyVersion}`,
  at: 0,
});

function report(tally: FaultTally, log: LearnerLogFacts, check = clean, text = '') {
  return buildChaosReport({
    check,
    tally,
    log,
    learnerLogText: text,
    netFaults: [],
    finalPolicyVersion: 9,
    learnerExit: 'code 0',
    maxRssMB: { learner: 100 },
    seconds: 60,
    dir: '/x',
  });
}

describe('chaos report', () => {
  it('the tally counts what the observers are told (also through fanOut)', () => {
    const tally = new FaultTally();
    const o = fanOut([tally, {}]);
    o.actorKilled('a0', 'random');
    o.actorKilled('a1', 'after-done-timeout');
    o.actorKilled('a1', 'random');
    o.skipped(1, 'target gone');
    o.skipped(3, 'out of time');
    o.crashed('a2: 1');
    o.learnerKilled(restart({}));
    expect(tally).toMatchObject({
      actorKills: 3,
      actorKillModes: { random: 2, 'after-done-timeout': 1 },
      faultsSkipped: 4,
      unexpectedExits: ['a2: 1'],
    });
    expect(tally.restarts).toHaveLength(1);
  });

  it('a clean run with restarts resumed at the expected checkpoint is ok', () => {
    const tally = new FaultTally();
    tally.learnerKilled(restart({ pid: 11, kind: 'checkpoint-write', partialLeft: true }));
    tally.learnerKilled(restart({ pid: 12, kind: 'corrupt', corrupted: '/c/ckpt-6', expectedVersion: 5 }));
    tally.learnerKilled(restart({ pid: 13, optimizerAdvanced: null })); // killed again before its first checkpoint
    tally.learnerKilled(restart({ pid: 14 })); // killed again before it resumed
    const log: LearnerLogFacts = {
      resumes: [resume(11, 2, 5, 50), resume(12, 3, 5, 50), resume(13, 4, 5, 50)],
      skippedCorrupt: [{ checkpoint: '/c/ckpt-6', reason: 'sha256', at: 0 }],
      trained: [],
    };
    const r = report(tally, log);
    expect(r).toMatchObject({
      ok: true,
      learnerKills: 4,
      versionMismatches: 0,
      restartsKilledBeforeResume: 1,
      optimizerRestored: 2,
      optimizerUnverified: 1,
      optimizerFailures: 0,
      corruptFallbacks: 1,
      checkpointWriteKills: 1,
      finalPolicyVersion: 9,
    });
    expect(r.restarts.map((x) => x.epoch)).toEqual([2, 3, 4, null]);
    expect(r.restarts[1].fallbackReported).toBe(true);
  });

  it('each violation fails the verdict', () => {
    const log: LearnerLogFacts = { resumes: [resume(21, 2, 4, 50)], skippedCorrupt: [], trained: [] };
    const wrongVersion = new FaultTally();
    wrongVersion.learnerKilled(restart({ pid: 21 }));
    expect(report(wrongVersion, log)).toMatchObject({ ok: false, versionMismatches: 1 });

    const freshOptimizer = new FaultTally();
    freshOptimizer.learnerKilled(restart({ pid: 21, expectedVersion: 4, optimizerAdvanced: false }));
    expect(report(freshOptimizer, log)).toMatchObject({ ok: false, versionMismatches: 0, optimizerFailures: 1 });

    const crash = new FaultTally();
    crash.crashed('learner: 1');
    expect(report(crash, log).ok).toBe(false);

    for (const k of ['lost', 'duplicated', 'ackedNotInLedger', 'contentMismatch']) {
      expect(report(new FaultTally(), log, { ...clean, [k]: 1 }).ok, k).toBe(false);
    }
    expect(report(new FaultTally(), log).ok).toBe(true);
  });

  it('counts slot releases in the learner log', () => {
    const text = [
      '{"msg":"released slots of a previous incarnation"}',
      '{"msg":"released slots of a disconnected actor"}',
      '{"msg":"trained"}',
    ].join('\n');
    expect(countSlotReleases(text)).toBe(2);
    expect(report(new FaultTally(), { resumes: [], skippedCorrupt: [], trained: [] }, clean, text).slotReleases).toBe(
      2,
    );
  });
});
