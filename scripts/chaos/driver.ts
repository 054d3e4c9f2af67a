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
 */
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveActorToken } from '../../learner/auth.js';
import { CheckpointStore } from '../../learner/checkpoint-store.js';
import { parseModel } from '../../shared/model/checkpoint-files.js';
import { badInput } from '../../shared/errors.js';
import { createRng, type Rng } from '../../shared/rng.js';
import { checkRun, readLearnerLog, type CheckReport } from './checker.js';
import { NetnsPair, type NetFault } from './netns.js';
import { freePort, readMem, signal, sleep, spawnCli, waitExit, type Proc } from './procs.js';

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

type ActorKillMode = 'random' | 'after-done' | 'after-outbox';
type LearnerKillKind = 'checkpoint-write' | 'corrupt' | 'plain';

export interface RestartRecord {
  kind: LearnerKillKind;
  /** Pid of the restarted learner (its log lines carry it). */
  pid: number;
  /** Epoch the restarted learner ran in (from its log); null if it was killed again before it resumed. */
  epoch: number | null;
  /** Last version the killed learner trained (its log), i.e. the policy version before the restart. */
  versionBeforeKill: number;
  /** Newest valid checkpoint when the learner was restarted (what it must resume from). */
  expectedVersion: number | null;
  expectedOptimizerStep: number | null;
  /** What the restarted learner logged. */
  resumedVersion: number | null;
  resumedOptimizerStep: number | null;
  /** First checkpoint written after the restart had a larger optimizer step than the one resumed. */
  optimizerAdvanced: boolean | null;
  /** checkpoint-write: the kill left a partial checkpoint directory (it landed mid-write). */
  partialLeft?: boolean;
  /** corrupt: the checkpoint whose file got a flipped byte, and whether the learner reported skipping it. */
  corrupted?: string;
  fallbackReported?: boolean;
}

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

/** The tiny, fast training configuration chaos and soak runs use (2 cores must run learner and actors at once). */
export const TINY = [
  'env.groupSize=2', 'algo.groupsPerUpdate=2', 'run.evalTasks=4', 'run.evalEvery=0', 'learner.checkpointEvery=1', 'learner.heartbeatMs=500',
  'model.dModel=16', 'model.nLayer=1', 'model.nHead=2', 'model.nCtx=160', 'model.init=random', 'log.level=info', 'run.progressSec=5',
];

/** Pause after each checkpoint file in chaos runs (learner/checkpoint-store.ts test hook). */
const CHECKPOINT_PAUSE_MS = 25;

/** `lamer learner` arguments for a chaos/soak run (tiny model, checkpoint every version). */
export function learnerArgs(o: { listen: string; runDir: string; minutes: number; seed: number; set?: string[] }): string[] {
  return ['learner', '--listen', o.listen, '--run-dir', o.runDir, '--iterations', '0', '--minutes', o.minutes.toFixed(3),
    '--seed', String(o.seed), ...[...TINY, ...(o.set ?? [])].flatMap((s) => ['--set', s])];
}

/** `lamer actor` arguments for a chaos/soak run. */
export function actorArgs(o: { url: string; actorId: string; runId: string; outboxDir: string; trialLog: string }): string[] {
  return ['actor', '--learner', o.url, '--actor-id', o.actorId, '--run-id', o.runId, '--outbox-dir', o.outboxDir, '--trial-log', o.trialLog,
    '--groups', '2', '--threads', '1', '--log-level', 'info'];
}

interface ActorSlot {
  id: string;
  proc: Proc | null;
  outboxDir: string;
  trialLog: string;
  stderr: string;
}

/** Runs the whole experiment and the checker. Never leaves processes or namespaces behind. */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  for (const [k, v] of Object.entries({ actorKills: o.actorKills, learnerKills: o.learnerKills, stops: o.stops, netFaults: o.netFaults })) {
    if (!Number.isInteger(v) || v < 0) throw badInput(`chaos: ${k} must be an integer >= 0, got ${v}`);
  }
  if (!Number.isInteger(o.actors) || o.actors < 1) throw badInput(`chaos: --actors must be an integer >= 1, got ${o.actors}`);
  if (!(o.minutes > 0)) throw badInput(`chaos: --minutes must be > 0, got ${o.minutes}`);
  // Warm-up (start-up and the first checkpoint) takes 10-25 s here; fail before spending it.
  if (o.minutes * 60 - (o.quietSec ?? 30) < 30) throw badInput(`chaos: --minutes ${o.minutes} minus the ${o.quietSec ?? 30} s quiet tail leaves under 30 s for warm-up and faults`);
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
  const url = `ws://${host}:${port}`;

  const procs = new Set<Proc>();
  // Also on an abrupt exit (Ctrl-C): no child outlives the driver.
  const killAll = () => { for (const p of procs) { signal(p, 'SIGCONT'); signal(p, 'SIGKILL'); } };
  process.once('exit', killAll);
  const maxHwm = new Map<string, number>();
  const sample = (p: Proc) => {
    const m = readMem(p.pid);
    if (m) maxHwm.set(p.role, Math.max(maxHwm.get(p.role) ?? 0, m.hwm));
  };
  const sampler = setInterval(() => { for (const p of procs) if (!p.exited) sample(p); }, 1000);
  const track = (p: Proc) => {
    procs.add(p);
    void p.exit.then(() => procs.delete(p));
    return p;
  };

  let learner = null as Proc | null; // `as`: assigned in closures, keep TS from narrowing it to null
  const startLearner = () => {
    // --minutes is a total over the run directory's invocations (time between a kill and the restart does not count,
    // so the learner ends a little after endAt; the final wait allows for that).
    const minutes = o.minutes;
    const p = track(spawnCli({
      role: 'learner', stderrFile: join(root, 'logs', 'learner.stderr'), netns: net?.learnerNs,
      // Each checkpoint file write is followed by a short pause, so a kill can land inside the write.
      env: { LAMER_DEBUG_CHECKPOINT_DELAY_MS: String(CHECKPOINT_PAUSE_MS) },
      args: learnerArgs({ listen: `${host}:${port}`, runDir, minutes, seed: o.seed, set: o.set }),
    }));
    learner = p;
    return p;
  };

  const actors: ActorSlot[] = Array.from({ length: o.actors }, (_, i) => ({
    id: `a${i}`, proc: null, outboxDir: join(root, 'outbox', `a${i}`), trialLog: join(root, 'trials', `a${i}.jsonl`), stderr: join(root, 'logs', `a${i}.log`),
  }));
  let runId = '';
  let masterKey = '';
  const startActor = (a: ActorSlot) => {
    a.proc = track(spawnCli({
      role: a.id, stderrFile: a.stderr, netns: net?.actorNs, env: { LAMER_TOKEN: deriveActorToken(masterKey, a.id) },
      args: actorArgs({ url, actorId: a.id, runId, outboxDir: a.outboxDir, trialLog: a.trialLog }),
    }));
  };

  const restarts: RestartRecord[] = [];
  const optimizerChecks: Array<Promise<void>> = [];
  const actorKillModes: Record<string, number> = {};
  let actorKills = 0, stops = 0, faultsSkipped = 0;
  const killed = new Set<Proc>();
  const unexpectedExits: string[] = [];
  let learnerExit = 'not finished';
  let report: CheckReport;
  try {
    startLearner();
    await until('learner run id and key', () => existsSync(join(runDir, 'run-id')) && existsSync(join(runDir, 'secrets', 'master.key')), 60_000, learner!);
    runId = readFileSync(join(runDir, 'run-id'), 'utf8').trim();
    masterKey = readFileSync(join(runDir, 'secrets', 'master.key'), 'utf8').trim();
    actors.forEach(startActor);
    say(`chaos: run ${runId} in ${root}; ${o.actors} actors -> ${url}${net ? ` (netns ${net.actorNs} -> ${net.learnerNs})` : ''}`);
    await until('first checkpoint', () => newestStep(ckptDir) >= 1, 180_000, learner!);
    const faultStart = Date.now();
    const faultEnd = endAt - quietMs;
    if (faultEnd - faultStart < 10_000) throw badInput(`chaos: --minutes ${o.minutes} leaves no time for faults (warm-up took ${((faultStart - t0) / 1000).toFixed(0)} s, quiet tail ${quietMs / 1000} s)`);
    const events = schedule(rng, o, faultStart, faultEnd);
    say(`chaos: warm-up done in ${((faultStart - t0) / 1000).toFixed(0)} s; ${events.length} faults until +${((faultEnd - t0) / 1000).toFixed(0)} s`);

    // A process that exits during the fault window without being killed by the driver crashed: counted, restarted.
    const ensureActorsUp = () => {
      for (const a of actors) {
        if (a.proc && a.proc.exited && !killed.has(a.proc)) unexpectedExits.push(`${a.id}: ${a.proc.child.exitCode ?? a.proc.child.signalCode}`);
        if (!a.proc || a.proc.exited) startActor(a);
      }
    };
    const killActor = async (a: ActorSlot, mode: ActorKillMode) => {
      const p = a.proc!;
      let how: string = mode;
      if (mode !== 'random') {
        const hit = await (mode === 'after-done' ? waitForDoneLine(a.trialLog, 4000) : waitForOutboxFile(a.outboxDir, 4000));
        if (!hit) how = `${mode}-timeout`;
      }
      if (p.exited) {
        faultsSkipped++;
        return;
      }
      sample(p);
      killed.add(p);
      signal(p, 'SIGKILL');
      await p.exit;
      actorKills++;
      actorKillModes[how] = (actorKillModes[how] ?? 0) + 1;
      await sleep(100 + rng.int(900));
      startActor(a);
    };

    const killLearner = async (kind: LearnerKillKind) => {
      const p = learner!;
      killed.add(p);
      let partialLeft: boolean | undefined;
      if (kind === 'checkpoint-write') {
        sample(p);
        const seen = await killOnPartialCheckpoint(ckptDir, p, 30_000, rng.int(5 * CHECKPOINT_PAUSE_MS));
        partialLeft = seen && readdirSync(ckptDir).some((n) => n.includes('.partial-'));
      } else {
        sample(p);
        signal(p, 'SIGKILL');
      }
      await p.exit;
      const rec: RestartRecord = {
        kind, pid: -1, epoch: null, versionBeforeKill: lastTrainedVersion(runDir), expectedVersion: null, expectedOptimizerStep: null,
        resumedVersion: null, resumedOptimizerStep: null, optimizerAdvanced: null, ...(partialLeft !== undefined ? { partialLeft } : {}),
      };
      if (kind === 'corrupt') rec.corrupted = await corruptNewest(ckptDir) ?? undefined;
      const expected = await new CheckpointStore(ckptDir).loadLatest();
      rec.expectedVersion = expected ? Number(expected.meta.policyVersion) : null;
      rec.expectedOptimizerStep = expected ? parseModel(expected.files).optimizer?.step ?? null : null;
      restarts.push(rec);
      await sleep(200 + rng.int(800));
      const next = startLearner();
      rec.pid = next.pid;
      optimizerChecks.push(watchOptimizerAdvance(runDir, rec, () => next.exited));
    };

    for (const ev of events) {
      const wait = ev.at - Date.now();
      if (wait > 0) await sleep(wait);
      if (Date.now() > faultEnd + quietMs / 2) {
        faultsSkipped = events.length - events.indexOf(ev);
        say(`chaos: out of time, ${faultsSkipped} faults not injected`);
        break;
      }
      ensureActorsUp();
      if (learner!.exited) { // it should never exit on its own before the end: a crash; restart and go on
        unexpectedExits.push(`learner: ${learner!.child.exitCode ?? learner!.child.signalCode}`);
        startLearner();
      }
      switch (ev.type) {
        case 'actorKill': {
          // Triggered kills go to the longest-running actor: a freshly restarted one needs seconds before its first trial.
          const oldest = [...actors].sort((x, y) => x.proc!.startedAt - y.proc!.startedAt)[0];
          await killActor(ev.mode === 'random' ? actors[rng.int(actors.length)] : oldest, ev.mode);
          break;
        }
        case 'learnerKill':
          await killLearner(ev.kind);
          say(`chaos: learner kill ${restarts.length} (${ev.kind}) at +${((Date.now() - t0) / 1000).toFixed(0)} s`);
          break;
        case 'stop': {
          const target = ev.target === 'learner' ? learner! : actors[rng.int(actors.length)].proc!;
          if (signal(target, 'SIGSTOP')) {
            stops++;
            await sleep(ev.ms);
            signal(target, 'SIGCONT');
          }
          break;
        }
        case 'net':
          await net!.apply(ev.fault, ev.ms);
          break;
      }
    }
    ensureActorsUp();
    if (learner!.exited && !killed.has(learner!)) unexpectedExits.push(`learner: ${learner!.child.exitCode ?? learner!.child.signalCode}`);
    say(`chaos: faults done at +${((Date.now() - t0) / 1000).toFixed(0)} s (${actorKills} actor kills, ${restarts.length} learner kills); letting the run finish`);

    const l = learner!;
    const r = await waitExit(l, Math.max(60_000, endAt - Date.now() + 240_000));
    learnerExit = r.forced ? 'forced (did not stop in time)' : r.signal ? `signal ${r.signal}` : `code ${r.code}`;
    // Actors got `bye`; give them time to flush, then stop stragglers gracefully (their outboxes stay on disk).
    await Promise.all(actors.map(async (a) => {
      if (!a.proc) return;
      const g = await Promise.race([a.proc.exit.then(() => true), sleep(15_000).then(() => false)]);
      if (!g) {
        signal(a.proc, 'SIGTERM');
        await waitExit(a.proc, 10_000);
      }
    }));
    await Promise.all(optimizerChecks);
    report = await checkRun({ runDir, actors: actors.map((a) => ({ id: a.id, trialLog: a.trialLog, outboxDir: a.outboxDir })) });
  } finally {
    clearInterval(sampler);
    for (const p of procs) {
      signal(p, 'SIGCONT');
      signal(p, 'SIGKILL');
    }
    await Promise.all([...procs].map((p) => p.exit));
    process.off('exit', killAll);
    net?.teardown();
  }

  // Match each restart with what the restarted process logged (by pid: a process killed again before it wrote its
  // epoch leaves no resume line, and the next start reuses that epoch number harmlessly: it never published).
  const log = readLearnerLog(join(runDir, 'logs', 'learner.log'));
  for (const rec of restarts) {
    const res = log.resumes.find((x) => x.pid === rec.pid);
    rec.epoch = res?.learnerEpoch ?? null;
    rec.resumedVersion = res?.policyVersion ?? null;
    rec.resumedOptimizerStep = res?.optimizerStep ?? null;
    if (rec.corrupted) rec.fallbackReported = log.skippedCorrupt.some((s) => s.checkpoint === rec.corrupted);
  }
  const resumed = restarts.filter((r) => r.epoch !== null);
  const versionMismatches = resumed.filter((r) => r.resumedVersion !== r.expectedVersion).length;
  const learnerLog = readFileSync(join(runDir, 'logs', 'learner.log'), 'utf8');
  const slotReleases = learnerLog.split('\n').filter((l) => /released slots of a (previous incarnation|disconnected actor)/.test(l)).length;
  const summaryFile = join(runDir, 'summary.json');
  const finalPolicyVersion = existsSync(summaryFile) ? Number(JSON.parse(readFileSync(summaryFile, 'utf8')).policyVersion) : null;
  const maxRssMB = Object.fromEntries([...maxHwm].sort().map(([k, v]) => [k, Math.round(v / 2 ** 20)]));
  const out: ChaosReport = {
    ...report,
    ok: false,
    actorKills, actorKillModes, learnerKills: restarts.length, restarts, versionMismatches,
    restartsKilledBeforeResume: restarts.length - resumed.length,
    optimizerRestored: resumed.filter((r) => r.expectedOptimizerStep !== null && r.resumedOptimizerStep === r.expectedOptimizerStep && r.optimizerAdvanced === true).length,
    optimizerUnverified: resumed.filter((r) => r.resumedOptimizerStep === r.expectedOptimizerStep && r.optimizerAdvanced === null).length,
    optimizerFailures: resumed.filter((r) => r.resumedOptimizerStep !== r.expectedOptimizerStep || r.optimizerAdvanced === false).length,
    corruptFallbacks: restarts.filter((r) => r.corrupted && r.fallbackReported && r.resumedVersion === r.expectedVersion).length,
    checkpointWriteKills: restarts.filter((r) => r.partialLeft).length,
    stops, unexpectedExits, faultsSkipped, netFaults: (net?.log ?? []).map((x) => ({ fault: x.fault, ms: x.ms })), slotReleases: slotReleases,
    finalPolicyVersion, learnerExit, maxRssMB, seconds: Math.round((Date.now() - t0) / 1000), dir: root,
  };
  out.ok = out.lost === 0 && out.duplicated === 0 && out.ackedNotInLedger === 0 && out.contentMismatch === 0 && out.versionMismatches === 0
    && out.optimizerFailures === 0 && out.unexpectedExits.length === 0;
  writeFileSync(join(root, 'report.json'), JSON.stringify(out, null, 2) + '\n');
  return out;
}

// ---- schedule ---------------------------------------------------------------------------------------------------

type Event = { at: number } & (
  | { type: 'actorKill'; mode: ActorKillMode }
  | { type: 'learnerKill'; kind: LearnerKillKind }
  | { type: 'stop'; target: 'actor' | 'learner'; ms: number }
  | { type: 'net'; fault: NetFault; ms: number });

/** Spreads every fault evenly (with jitter) over [start, end), seeded. */
function schedule(rng: Rng, o: ChaosOptions, start: number, end: number): Event[] {
  const span = end - start;
  const spread = (n: number, phase: number) => Array.from({ length: n }, (_, i) => start + ((i + phase + (rng.next() - 0.5) * 0.5) / n) * span);
  const modes: ActorKillMode[] = ['random', 'after-done', 'after-outbox'];
  const kinds: LearnerKillKind[] = ['checkpoint-write', 'corrupt', 'plain'];
  const faults: NetFault[] = ['partition', 'loss', 'reset'];
  const ev: Event[] = [
    ...spread(o.actorKills, 0.5).map((at, i) => ({ at, type: 'actorKill' as const, mode: modes[i % modes.length] })),
    ...spread(o.learnerKills, 0.5).map((at, i) => ({ at, type: 'learnerKill' as const, kind: kinds[i % kinds.length] })),
    ...spread(o.stops, 0.3).map((at, i) => ({ at, type: 'stop' as const, target: (i % 2 ? 'learner' : 'actor') as 'actor' | 'learner', ms: 2000 + rng.int(2000) })),
    ...(o.netns ? spread(o.netFaults, 0.7).map((at, i) => ({ at, type: 'net' as const, fault: faults[i % faults.length], ms: 2000 + rng.int(3000) })) : []),
  ];
  return ev.sort((a, b) => a.at - b.at);
}

// ---- helpers ----------------------------------------------------------------------------------------------------

async function until(what: string, f: () => boolean, ms: number, learner?: Proc): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (learner?.exited) {
      const r = await learner.exit;
      throw badInput(`chaos: the learner exited (${r.signal ?? `code ${r.code}`}) while waiting for ${what}; its last output: ${learner.stdout().slice(-300).trim()}`);
    }
    if (Date.now() - t0 > ms) throw badInput(`chaos: timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

function newestStep(ckptDir: string): number {
  if (!existsSync(ckptDir)) return -1;
  const steps = readdirSync(ckptDir).map((n) => /^ckpt-(\d{12})$/.exec(n)).filter((m) => m !== null).map((m) => Number(m![1]));
  return steps.length ? Math.max(...steps) : -1;
}

function lastTrainedVersion(runDir: string): number {
  const t = readLearnerLog(join(runDir, 'logs', 'learner.log')).trained;
  return t.length ? t[t.length - 1].policyVersion : 0;
}

/** Resolves true as soon as a new `done` line is appended to the trial log (polled every 5 ms). */
async function waitForDoneLine(file: string, ms: number): Promise<boolean> {
  const size0 = existsSync(file) ? statSync(file).size : 0;
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    await sleep(5);
    const size = existsSync(file) ? statSync(file).size : 0;
    if (size > size0) {
      const fresh = readFileSync(file, 'utf8').slice(size0);
      if (fresh.includes('"t":"done"')) return true;
    }
  }
  return false;
}

/** Resolves true when a new completed record appears in the outbox directory (inotify). */
function waitForOutboxFile(dir: string, ms: number): Promise<boolean> {
  mkdirSync(dir, { recursive: true });
  return new Promise((resolve) => {
    let w: FSWatcher | null = null;
    const done = (v: boolean) => {
      w?.close();
      clearTimeout(t);
      resolve(v);
    };
    const t = setTimeout(() => done(false), ms);
    w = watch(dir, (_ev, name) => { if (name && /\.msgpack$/.test(name) && existsSync(join(dir, name))) done(true); });
  });
}

/**
 * SIGKILLs the learner the moment a partial checkpoint directory appears (inotify), i.e. while the files are being
 * written and fsynced. Falls back to a plain kill after `ms`. Returns whether the partial directory was seen.
 */
function killOnPartialCheckpoint(dir: string, p: Proc, ms: number, afterMs: number): Promise<boolean> {
  mkdirSync(dir, { recursive: true });
  return new Promise((resolve) => {
    let w: FSWatcher | null = null;
    let fired = false;
    const fire = (seen: boolean) => {
      if (fired) return;
      fired = true;
      w?.close();
      clearTimeout(t);
      // `afterMs` moves the kill to a random point among the files being written.
      setTimeout(() => {
        const m = readMem(p.pid);
        signal(p, 'SIGKILL');
        resolve(seen && m !== null);
      }, seen ? afterMs : 0);
    };
    const t = setTimeout(() => fire(false), ms);
    // Only a partial directory that exists now: the event of its rename into place comes too late.
    w = watch(dir, (_ev, name) => { if (name && name.includes('.partial-') && existsSync(join(dir, name))) fire(true); });
  });
}

/** Flips one byte in the middle of the largest file of the newest valid checkpoint; returns its directory. */
async function corruptNewest(ckptDir: string): Promise<string | null> {
  const latest = await new CheckpointStore(ckptDir).loadLatest();
  if (!latest) return null;
  const [name] = [...latest.files].sort((a, b) => b[1].byteLength - a[1].byteLength)[0];
  const file = join(latest.dir, name);
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(file, bytes);
  return latest.dir;
}

/**
 * After a restart: waits for the first checkpoint the new epoch writes and checks that its optimizer step went
 * past the resumed one (a learner that silently started a fresh optimizer would count from 0 again).
 */
async function watchOptimizerAdvance(runDir: string, rec: RestartRecord, stop: () => boolean): Promise<void> {
  const store = new CheckpointStore(join(runDir, 'checkpoints'));
  for (;;) {
    const last = stop(); // one more look after the process exited: it may have checkpointed just before
    // The process's epoch, once it has logged its resume.
    const epoch = readLearnerLog(join(runDir, 'logs', 'learner.log')).resumes.find((x) => x.pid === rec.pid)?.learnerEpoch;
    for (const step of epoch === undefined ? [] : (await store.steps()).reverse()) {
      const v = await store.verify(step).catch(() => null);
      if (!v?.ok || Number(v.manifest.meta.learnerEpoch) !== epoch) continue;
      if (rec.expectedVersion !== null && step <= rec.expectedVersion) continue;
      const s = parseModel(v.files).optimizer?.step ?? null;
      rec.optimizerAdvanced = s !== null && rec.expectedOptimizerStep !== null && s > rec.expectedOptimizerStep;
      return;
    }
    if (last) return;
    await sleep(1000);
  }
}
