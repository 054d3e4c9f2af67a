/**
 * `lamer chaos`: a Jepsen-style run against real processes. One `lamer learner` and several `lamer actor`
 * processes train a tiny model for real while a seeded schedule of faults is injected:
 *
 * - actor SIGKILL at a random moment (mostly mid-trial), right after a trial is logged complete, or right after a
 *   completed trial lands in the durable outbox (before it is logged: the "indeterminate" window);
 * - learner SIGKILL at a random moment, during a checkpoint write (a `ckpt-*.partial-*` directory exists), and after
 *   flipping one byte of the newest checkpoint (the restart must fall back to the previous one and say so);
 * - SIGSTOP/SIGCONT of an actor or of the learner (longer than the heartbeat timeout);
 * - with `netns`: partitions, TCP resets and 20% packet loss between an actor namespace and a learner namespace.
 *
 * Killed processes are restarted (same actor id and outbox, new incarnation; learner on the same port and run
 * directory). The last stretch is fault-free so the run ends normally; then {@link checkRun} compares the actors'
 * trial logs with the ledger and the learner's training log.
 *
 * This file only wires the components: the process fleet (fleet.ts), the seeded schedule (schedule.ts), the fault
 * injector (faults.ts), the memory sampler (memory.ts), the checker (checker.ts) and the report (report.ts); they
 * talk through the observer hooks of observer.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { badInput } from '../../shared/errors.js';
import { createRng } from '../../shared/rng.js';
import { type CheckReport, checkRun, readLearnerLog } from './checker.js';
import { FaultInjector } from './faults.js';
import { ChaosFleet } from './fleet.js';
import { MemorySampler } from './memory.js';
import { NetnsPair } from './netns.js';
import { type ChaosObserver, fanOut } from './observer.js';
import { newestStep } from './probes.js';
import { freePort } from './procs.js';
import { buildChaosReport, type ChaosReport, FaultTally } from './report.js';
import { schedule } from './schedule.js';

export interface ChaosOptions {
  /** Total wall time of the run, minutes (faults stop `quietSec` before the end). */
  minutes: number;
  /** Actor SIGKILLs to inject. */
  actorKills: number;
  /** Learner SIGKILLs to inject (kinds cycle: during checkpoint write, corrupt newest checkpoint, plain). */
  learnerKills: number;
  /** SIGSTOP/SIGCONT pauses (alternating actor / learner). */
  stops: number;
  /** Network faults (only with `netns`). */
  netFaults: number;
  actors: number;
  seed: number;
  netns: boolean;
  /** Fault-free tail so the run can end normally (default 30 s). */
  quietSec?: number;
  /** Work directory (default: a new temp dir). */
  dir?: string;
  /** Extra `--set` overrides for the learner (after the tiny defaults). */
  set?: string[];
  /** Progress lines (stderr in the CLI). */
  say?: (line: string) => void;
}

/** Rejects options that cannot make a run, before any process starts. */
export function validateChaosOptions(o: ChaosOptions): void {
  const counts = { actorKills: o.actorKills, learnerKills: o.learnerKills, stops: o.stops, netFaults: o.netFaults };
  for (const [k, v] of Object.entries(counts)) {
    if (!Number.isInteger(v) || v < 0) throw badInput(`chaos: ${k} must be an integer >= 0, got ${v}`);
  }
  if (!Number.isInteger(o.actors) || o.actors < 1) {
    throw badInput(`chaos: --actors must be an integer >= 1, got ${o.actors}`);
  }
  if (!(o.minutes > 0)) throw badInput(`chaos: --minutes must be > 0, got ${o.minutes}`);
  // Warm-up (start-up and the first checkpoint) takes 10-25 s here; fail before spending it.
  if (o.minutes * 60 - (o.quietSec ?? 30) < 30) {
    throw badInput(
      `chaos: --minutes ${o.minutes} minus the ${o.quietSec ?? 30} s quiet tail leaves under 30 s ` +
        'for warm-up and faults',
    );
  }
}

/** Progress lines for the faults worth a line of their own. */
function progressLines(say: (line: string) => void, t0: number): ChaosObserver {
  let learnerKills = 0;
  return {
    learnerKilled: (rec) => say(`chaos: learner kill ${++learnerKills} (${rec.kind}) at +${secondsSince(t0)} s`),
    skipped: (n, why) => {
      if (why === 'out of time') say(`chaos: out of time, ${n} faults not injected`);
    },
  };
}

const secondsSince = (t0: number, t = Date.now()) => ((t - t0) / 1000).toFixed(0);

/** Runs the whole experiment and the checker. Never leaves processes or namespaces behind. */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  validateChaosOptions(o);
  const say = o.say ?? (() => undefined);
  const rng = createRng(o.seed);
  const root = o.dir ?? mkdtempSync(join(tmpdir(), 'lamer-chaos-'));
  mkdirSync(join(root, 'logs'), { recursive: true });
  const runDir = join(root, 'run');
  const ckptDir = join(runDir, 'checkpoints');
  const t0 = Date.now();
  const endAt = t0 + o.minutes * 60_000;
  const quietMs = (o.quietSec ?? 30) * 1000;

  const net = o.netns ? new NetnsPair(`c${process.pid.toString(36).slice(-6)}`) : null;
  net?.setup();
  const host = net ? net.learnerIp : '127.0.0.1';
  const port = net ? 20_000 + rng.int(20_000) : await freePort();

  const tally = new FaultTally();
  const memory = new MemorySampler();
  const observer = fanOut([memory, tally, progressLines(say, t0)]);
  const fleet = new ChaosFleet({
    root,
    runDir,
    host,
    port,
    actors: o.actors,
    seed: o.seed,
    set: o.set,
    endAt,
    minutes: o.minutes,
    learnerNs: net?.learnerNs,
    actorNs: net?.actorNs,
    observer,
  });
  const faults = new FaultInjector({ fleet, rng, runDir, net, observer });
  memory.start();
  let learnerExit = 'not finished';
  let report: CheckReport;
  try {
    fleet.startLearner();
    await fleet.until(
      'learner run id and key',
      () => existsSync(join(runDir, 'run-id')) && existsSync(join(runDir, 'secrets', 'master.key')),
      60_000,
    );
    const runId = readFileSync(join(runDir, 'run-id'), 'utf8').trim();
    fleet.startActors(runId, readFileSync(join(runDir, 'secrets', 'master.key'), 'utf8').trim());
    say(
      `chaos: run ${runId} in ${root}; ${o.actors} actors -> ${fleet.url}` +
        (net ? ` (netns ${net.actorNs} -> ${net.learnerNs})` : ''),
    );
    await fleet.until('first checkpoint', () => newestStep(ckptDir) >= 1, 180_000);
    const faultStart = Date.now();
    const faultEnd = endAt - quietMs;
    if (faultEnd - faultStart < 10_000) {
      throw badInput(
        `chaos: --minutes ${o.minutes} leaves no time for faults ` +
          `(warm-up took ${secondsSince(t0, faultStart)} s, quiet tail ${quietMs / 1000} s)`,
      );
    }
    const events = schedule(rng, o, faultStart, faultEnd);
    say(
      `chaos: warm-up done in ${secondsSince(t0, faultStart)} s; ` +
        `${events.length} faults until +${secondsSince(t0, faultEnd)} s`,
    );

    await faults.run(events, faultEnd + quietMs / 2);
    fleet.ensureActorsUp();
    fleet.checkLearnerAfterFaults();
    say(
      `chaos: faults done at +${secondsSince(t0)} s ` +
        `(${tally.actorKills} actor kills, ${tally.restarts.length} learner kills); letting the run finish`,
    );

    learnerExit = await fleet.finish(Math.max(60_000, endAt - Date.now() + 240_000));
    await faults.settled();
    report = await checkRun({
      runDir,
      actors: fleet.actors.map((a) => ({ id: a.id, trialLog: a.trialLog, outboxDir: a.outboxDir })),
    });
  } finally {
    memory.stop();
    await fleet.stopAll();
    net?.teardown();
  }

  const learnerLog = join(runDir, 'logs', 'learner.log');
  const summaryFile = join(runDir, 'summary.json');
  const out = buildChaosReport({
    check: report,
    tally,
    log: readLearnerLog(learnerLog),
    learnerLogText: readFileSync(learnerLog, 'utf8'),
    netFaults: (net?.log ?? []).map((x) => ({ fault: x.fault, ms: x.ms })),
    finalPolicyVersion: existsSync(summaryFile)
      ? Number(JSON.parse(readFileSync(summaryFile, 'utf8')).policyVersion)
      : null,
    learnerExit,
    maxRssMB: memory.maxRssMB(),
    seconds: Math.round((Date.now() - t0) / 1000),
    dir: root,
  });
  writeFileSync(join(root, 'report.json'), `${JSON.stringify(out, null, 2)}\n`);
  return out;
}
