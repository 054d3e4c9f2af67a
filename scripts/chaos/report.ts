/**
 * The chaos report: the tally of injected faults (an observer of the run), each learner restart matched with what
 * the restarted process logged, and the verdict — nothing lost, duplicated or acked without a ledger record, every
 * restart resumed from the newest valid checkpoint with its optimizer state, no crash.
 */
import type { CheckReport, LearnerLogFacts } from './checker.js';
import type { NetFault } from './netns.js';
import type { ChaosObserver } from './observer.js';
import type { RestartRecord } from './schedule.js';

export interface ChaosReport extends CheckReport {
  ok: boolean;
  actorKills: number;
  actorKillModes: Record<string, number>;
  learnerKills: number;
  restarts: RestartRecord[];
  /** Learner restarts that resumed at another version than the newest valid checkpoint's. */
  versionMismatches: number;
  /** Restarted learners killed again before they resumed (under load start-up can take tens of seconds). */
  restartsKilledBeforeResume: number;
  /** Restarts that loaded the checkpoint's optimizer step and whose next checkpoint counted on from it. */
  optimizerRestored: number;
  /** Restarts killed again before their first checkpoint (restoration loaded but not verifiable by advance). */
  optimizerUnverified: number;
  /** Restarts that loaded another optimizer step than the checkpoint's, or whose next checkpoint started over. */
  optimizerFailures: number;
  corruptFallbacks: number;
  checkpointWriteKills: number;
  stops: number;
  /** Processes that exited during the fault window without being killed by the driver (crashes): must be none. */
  unexpectedExits: string[];
  /** Scheduled faults that could not be injected (target already gone, or the fault window ran out). */
  faultsSkipped: number;
  netFaults: Array<{ fault: NetFault; ms: number }>;
  /** Learner log: times unfinished trial slots of a killed, frozen or cut-off actor were released for re-leasing. */
  slotReleases: number;
  finalPolicyVersion: number | null;
  learnerExit: string;
  maxRssMB: Record<string, number>;
  seconds: number;
  dir: string;
}

/** Counts what the fleet and the fault injector report. */
export class FaultTally implements ChaosObserver {
  actorKills = 0;
  readonly actorKillModes: Record<string, number> = {};
  readonly restarts: RestartRecord[] = [];
  stops = 0;
  faultsSkipped = 0;
  readonly unexpectedExits: string[] = [];

  actorKilled(_actorId: string, how: string): void {
    this.actorKills++;
    this.actorKillModes[how] = (this.actorKillModes[how] ?? 0) + 1;
  }

  learnerKilled(rec: RestartRecord): void {
    this.restarts.push(rec);
  }

  stopped(): void {
    this.stops++;
  }

  skipped(n: number): void {
    this.faultsSkipped += n;
  }

  crashed(what: string): void {
    this.unexpectedExits.push(what);
  }
}

/**
 * Fills each restart's epoch, resumed version and optimizer step from the learner log, matched by pid: a process
 * killed again before it wrote its epoch leaves no resume line, and the next start reuses that epoch number
 * harmlessly (it never published).
 */
export function matchRestarts(restarts: RestartRecord[], log: LearnerLogFacts): void {
  for (const rec of restarts) {
    const res = log.resumes.find((x) => x.pid === rec.pid);
    rec.epoch = res?.learnerEpoch ?? null;
    rec.resumedVersion = res?.policyVersion ?? null;
    rec.resumedOptimizerStep = res?.optimizerStep ?? null;
    if (rec.corrupted) rec.fallbackReported = log.skippedCorrupt.some((s) => s.checkpoint === rec.corrupted);
  }
}

/** Learner log lines saying unfinished trial slots of a gone actor were released for re-leasing. */
export function countSlotReleases(learnerLogText: string): number {
  return learnerLogText
    .split('\n')
    .filter((l) => /released slots of a (previous incarnation|disconnected actor)/.test(l)).length;
}

export interface ReportInputs {
  check: CheckReport;
  tally: FaultTally;
  /** The learner log, parsed (restarts are matched against it) and as text (slot releases are counted in it). */
  log: LearnerLogFacts;
  learnerLogText: string;
  netFaults: Array<{ fault: NetFault; ms: number }>;
  finalPolicyVersion: number | null;
  learnerExit: string;
  maxRssMB: Record<string, number>;
  seconds: number;
  dir: string;
}

/** Matches the restarts with the log and computes the report and its verdict `ok`. */
export function buildChaosReport(i: ReportInputs): ChaosReport {
  const { tally } = i;
  const restarts = tally.restarts;
  matchRestarts(restarts, i.log);
  const resumed = restarts.filter((r) => r.epoch !== null);
  const out: ChaosReport = {
    ...i.check,
    ok: false,
    actorKills: tally.actorKills,
    actorKillModes: tally.actorKillModes,
    learnerKills: restarts.length,
    restarts,
    versionMismatches: resumed.filter((r) => r.resumedVersion !== r.expectedVersion).length,
    restartsKilledBeforeResume: restarts.length - resumed.length,
    optimizerRestored: resumed.filter(
      (r) =>
        r.expectedOptimizerStep !== null &&
        r.resumedOptimizerStep === r.expectedOptimizerStep &&
        r.optimizerAdvanced === true,
    ).length,
    optimizerUnverified: resumed.filter(
      (r) => r.resumedOptimizerStep === r.expectedOptimizerStep && r.optimizerAdvanced === null,
    ).length,
    optimizerFailures: resumed.filter(
      (r) => r.resumedOptimizerStep !== r.expectedOptimizerStep || r.optimizerAdvanced === false,
    ).length,
    corruptFallbacks: restarts.filter(
      (r) => r.corrupted && r.fallbackReported && r.resumedVersion === r.expectedVersion,
    ).length,
    checkpointWriteKills: restarts.filter((r) => r.partialLeft).length,
    stops: tally.stops,
    unexpectedExits: tally.unexpectedExits,
    faultsSkipped: tally.faultsSkipped,
    netFaults: i.netFaults,
    slotReleases: countSlotReleases(i.learnerLogText),
    finalPolicyVersion: i.finalPolicyVersion,
    learnerExit: i.learnerExit,
    maxRssMB: i.maxRssMB,
    seconds: i.seconds,
    dir: i.dir,
  };
  out.ok =
    out.lost === 0 &&
    out.duplicated === 0 &&
    out.ackedNotInLedger === 0 &&
    out.contentMismatch === 0 &&
    out.versionMismatches === 0 &&
    out.optimizerFailures === 0 &&
    out.unexpectedExits.length === 0;
  return out;
}
