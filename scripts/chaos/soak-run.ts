/**
 * `lamer soak`: a long training run of real processes with faults at a low rate, measured for what grows.
 *
 * - Processes: one learner (`lamer learner`) and N actors (`lamer actor`), default model sizes, random init.
 * - Faults: an actor SIGKILL every `actorKillEveryMin` (default min(3, M/6) min; the actor is restarted at
 *   once), a learner restart every `learnerRestartEveryMin` (default min(20, M/3) min; SIGKILL and SIGTERM
 *   alternately, restarted at once on the same port and run directory).
 * - Retention on: ledger segments of 1 MiB, 2 covered segments kept, older ones moved to `<dir>/ledger-archive`
 *   (outside the run directory, so the run's disk is bounded and the checker still reads every record);
 *   size-rotated logs and metrics.
 * - Sampled every `sampleSec`: per process RSS and open fds (/proc), run-directory disk use (total, ledger,
 *   logs, checkpoints). Read back from the logs afterwards: heap and event-loop lag (`process stats` lines),
 *   learner start-up time after each (re)start (spawn -> `learner listening`), trials trained per minute.
 * - Reported: the slope of each series over the second half (memory and fds fitted within each process
 *   incarnation, so restarts do not hide or fake growth), the chaos checker's counts, and a PNG plot.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveActorToken } from '../../learner/auth.js';
import { badInput } from '../../shared/errors.js';
import { logFileEnv } from '../../shared/logger.js';
import { chartSvg, svgToPng, type Panel } from '../../shared/plot.js';
import { openFds } from '../../shared/process-probe.js';
import { archivedPieces, archiveRotatedPieces, rotatedPieces } from '../../shared/rotating-file.js';
import { checkRun, readLearnerLog, type CheckReport } from './checker.js';
import { actorArgs } from './fleet.js';
import { freePort, readMem, signal, sleep, spawnCli, waitExit, type Proc } from './procs.js';
import { lsSlope } from './soak.js';

export interface LongSoakOptions {
  minutes: number;
  actors?: number;
  seed?: number;
  sampleSec?: number;
  actorKillEveryMin?: number;
  learnerRestartEveryMin?: number;
  /** The last this many actors are never killed, so a process's memory is measured over hours (default 1 if >= 2). */
  steadyActors?: number;
  dir?: string;
  set?: string[];
  say?: (line: string) => void;
}

/** Learner settings of a soak: the default model, retention and rotation on, cheap evaluations. */
export const SOAK_SET = [
  'model.init=random',
  'run.evalEvery=0',
  'run.evalTasks=8',
  'run.progressSec=10',
  'learner.checkpointEvery=2',
  'ledger.segmentMB=1',
  'ledger.retention=2',
  'log.maxMB=1',
  'log.keep=2',
  'log.metricsMaxMB=1',
  'log.metricsKeep=2',
];

/** Rotation of actor logs in a soak (all pieces kept: the checker reads them). */
const ACTOR_LOG_ROTATION = { maxBytes: 1 << 20, keep: 100 };

export interface Sample {
  t: number;
  role: string;
  pid: number;
  rssMB: number;
  fds: number | null;
}
export interface DiskSample {
  t: number;
  runMB: number;
  ledgerMB: number;
  logsMB: number;
  checkpointsMB: number;
}

export interface LongSoakReport {
  label: string;
  minutes: number;
  lost: number;
  duplicated: number;
  checker: Omit<CheckReport, 'lostKeys' | 'rejectReasons'>;
  /**
   * Slopes over the second half, per process role (within-incarnation fit after each one's warm-up): MB/hour,
   * fds/hour.
   */
  rss: Record<string, number>;
  fd: Record<string, number>;
  heap: Record<string, number>;
  /** Event-loop delay p99 slope (ms/hour) and the mean over the second half (ms). */
  lagP99: Record<string, { slope: number; mean: number }>;
  /** Run-directory disk use: slope over the second half (MB/hour) and the final size (MB). */
  disk: {
    run: number;
    ledger: number;
    logs: number;
    checkpoints: number;
    finalRunMB: number;
    finalLedgerMB: number;
    archivedMB: number;
  };
  /** Learner start-up seconds per start, their slope (s/hour) and last/first. */
  startup: { learner: number; seconds: number[]; lastOverFirst: number | null };
  /** Trials trained per second in the first and last windows after warm-up (window = run/5, 1..10 min). */
  trialsPerSec: { first: number | null; last: number | null; lastOverFirst: number | null };
  /**
   * `learnerSelfExits`: learner exits the soak did not cause (a crash, or a budget spent early); `actorSelfExits`:
   * the same for actors (a crash, giving up, or a learner that told them to stop while it was only restarting). Both
   * 0 when healthy.
   */
  faults: { actorKills: number; learnerRestarts: number; learnerSelfExits: number; actorSelfExits: number };
  compactions: number;
  finalPolicyVersion: number | null;
  plot: string;
  dir: string;
}

/** Slope of y over x pooled within groups (each group its own intercept): growth that restarts would reset. */
export function pooledSlope(points: ReadonlyArray<{ x: number; y: number; g: string | number }>): number {
  const groups = new Map<string | number, Array<{ x: number; y: number }>>();
  for (const p of points) groups.set(p.g, [...(groups.get(p.g) ?? []), p]);
  let sxy = 0,
    sxx = 0;
  for (const ps of groups.values()) {
    if (ps.length < 2) continue;
    const mx = ps.reduce((a, p) => a + p.x, 0) / ps.length,
      my = ps.reduce((a, p) => a + p.y, 0) / ps.length;
    for (const p of ps) {
      sxy += (p.x - mx) * (p.y - my);
      sxx += (p.x - mx) ** 2;
    }
  }
  return sxx > 0 ? sxy / sxx : 0;
}

/** Bytes under a directory (0 if absent). */
export function duBytes(path: string): number {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of readdirSync(path)) n += duBytes(join(path, e));
  return n;
}

/** pino JSON lines of a (rotated) log with the given message. */
/** `archive`: where the harness copied the file's rotated pieces (archiveRotatedPieces). */
export function logLines(file: string, msg: string, archive?: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const p of archive ? archivedPieces(file, archive) : rotatedPieces(file)) {
    for (const line of readFileSync(p, 'utf8').split('\n')) {
      if (!line.startsWith('{') || !line.includes(msg)) continue;
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        if (o.msg === msg) out.push(o);
      } catch {
        /* torn by SIGKILL */
      }
    }
  }
  return out;
}

/** Trials trained per second in windows of `windowSec` over [from, to] (ms), from the learner's `trained` lines. */
export function trialsPerSecWindows(
  trained: ReadonlyArray<{ at: number; trials: number }>,
  from: number,
  to: number,
  windowSec: number,
): number[] {
  const out: number[] = [];
  for (let w = from; w + windowSec * 1000 <= to + 1; w += windowSec * 1000) {
    const n = trained.filter((t) => t.at >= w && t.at < w + windowSec * 1000).reduce((a, t) => a + t.trials, 0);
    out.push(n / windowSec);
  }
  return out;
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const secondHalf = <T extends { t: number }>(xs: T[], t0: number, t1: number) =>
  xs.filter((x) => x.t >= t0 + (t1 - t0) / 2);

/** Each process incarnation's own warm-up (JIT, worker pools, first model load), left out of its slope. */
export const INCARNATION_WARMUP_MS = 120_000;

/**
 * Per role, the within-incarnation slope (units/hour) of `y` over the second half of [t0, t1], leaving out the
 * first `warmMs` of every incarnation (pid): a restarted process's warm-up is growth, not a leak.
 */
export function roleSlopes<T extends { t: number; role: string; pid: number }>(
  xs: T[],
  y: (x: T) => number | null,
  roles: string[],
  t0: number,
  t1: number,
  warmMs = INCARNATION_WARMUP_MS,
): Record<string, number> {
  const born = new Map<number, number>();
  for (const x of xs) born.set(x.pid, Math.min(born.get(x.pid) ?? Infinity, x.t));
  const steady = secondHalf(xs, t0, t1).filter((x) => x.t >= born.get(x.pid)! + warmMs && y(x) !== null);
  return Object.fromEntries(
    roles.map((r) => [
      r,
      r2(
        pooledSlope(steady.filter((x) => x.role === r).map((x) => ({ x: (x.t - t0) / 3_600_000, y: y(x)!, g: x.pid }))),
      ),
    ]),
  );
}

export async function runLongSoak(o: LongSoakOptions): Promise<LongSoakReport> {
  if (!(o.minutes > 0)) throw badInput(`soak: --minutes must be > 0, got ${o.minutes}`);
  const actors = o.actors ?? 2;
  if (!Number.isInteger(actors) || actors < 1) throw badInput(`soak: --actors must be an integer >= 1, got ${actors}`);
  const steadyActors = o.steadyActors ?? (actors >= 2 ? 1 : 0);
  if (!Number.isInteger(steadyActors) || steadyActors < 0 || steadyActors >= actors)
    throw badInput(`soak: --steady-actors must be an integer in [0, actors), got ${steadyActors}`);
  const sampleSec = o.sampleSec ?? 10;
  const actorEvery = o.actorKillEveryMin ?? Math.min(3, o.minutes / 6);
  const learnerEvery = o.learnerRestartEveryMin ?? Math.min(20, o.minutes / 3);
  const say = o.say ?? (() => undefined);
  const root = o.dir ?? mkdtempSync(join(tmpdir(), 'lamer-longsoak-'));
  const runDir = join(root, 'run');
  const archive = join(root, 'ledger-archive');
  // The run keeps 2 rotated learner-log pieces (its bounded disk is measured); the checker needs the whole log, so
  // every rotated piece is copied out of the run directory as it appears.
  const logArchive = join(root, 'learner-log-archive');
  const learnerLog = join(runDir, 'logs', 'learner.log');
  const archivedIds = new Set<string>();
  mkdirSync(join(root, 'logs'), { recursive: true });
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}`;
  const sets = [...SOAK_SET, `ledger.archiveDir=${archive}`, ...(o.set ?? [])];
  const t0 = Date.now();
  const end = t0 + o.minutes * 60_000;
  const all: Proc[] = [];
  const killAll = () => {
    for (const p of all) signal(p, 'SIGKILL');
  };
  process.once('exit', killAll);

  const spawns: Array<{ pid: number; at: number }> = [];
  const startLearner = (): Proc => {
    // `--minutes` is a total over the run directory's invocations, so every (re)start gets the run's length; time
    // between a kill and the restart does not count, so the learner ends a little after `end`.
    const minutes = o.minutes;
    const p = spawnCli({
      role: 'learner',
      stderrFile: join(root, 'logs', 'learner.stderr'),
      args: [
        'learner',
        '--listen',
        `127.0.0.1:${port}`,
        '--run-dir',
        runDir,
        '--iterations',
        '0',
        '--minutes',
        minutes.toFixed(3),
        '--seed',
        String(o.seed ?? 1),
        ...sets.flatMap((s) => ['--set', s]),
      ],
    });
    spawns.push({ pid: p.pid, at: p.startedAt });
    all.push(p);
    return p;
  };
  let learner = startLearner();
  while (!(existsSync(join(runDir, 'run-id')) && existsSync(join(runDir, 'secrets', 'master.key')))) {
    if (learner.exited)
      throw badInput(`soak: the learner exited during start-up (see ${root}/logs and ${runDir}/logs)`);
    if (Date.now() - t0 > 120_000) throw badInput('soak: the learner did not start within 120 s');
    await sleep(200);
  }
  const runId = readFileSync(join(runDir, 'run-id'), 'utf8').trim();
  const key = readFileSync(join(runDir, 'secrets', 'master.key'), 'utf8').trim();
  const slots = Array.from({ length: actors }, (_, i) => ({
    id: `a${i}`,
    outboxDir: join(root, 'outbox', `a${i}`),
    trialLog: join(root, 'trials', `a${i}.jsonl`),
    log: join(root, 'logs', `a${i}.log`),
    proc: null as Proc | null,
  }));
  const startActor = (s: (typeof slots)[number]) => {
    s.proc = spawnCli({
      role: s.id,
      stderrFile: join(root, 'logs', `${s.id}.stderr`),
      env: { LAMER_TOKEN: deriveActorToken(key, s.id), ...logFileEnv(s.log, ACTOR_LOG_ROTATION) },
      args: actorArgs({ url, actorId: s.id, runId, outboxDir: s.outboxDir, trialLog: s.trialLog }),
    });
    all.push(s.proc);
  };
  slots.forEach(startActor);
  say(
    `soak: ${o.minutes} min, ${actors} actors (${steadyActors} never killed), ` +
      `actor kill every ${actorEvery.toFixed(1)} min, ` +
      `learner restart every ${learnerEvery.toFixed(1)} min; in ${root}`,
  );

  const samples: Sample[] = [];
  const disk: DiskSample[] = [];
  const sampleAll = () => {
    const t = Date.now();
    archiveRotatedPieces(learnerLog, logArchive, archivedIds);
    for (const p of [learner, ...slots.map((s) => s.proc)]) {
      if (!p || p.exited) continue;
      const m = readMem(p.pid);
      if (!m || m.rss === 0) continue;
      samples.push({ t, role: p.role, pid: p.pid, rssMB: m.rss / 2 ** 20, fds: openFds(p.pid) });
    }
    const mb = (x: number) => x / 2 ** 20;
    disk.push({
      t,
      runMB: mb(duBytes(runDir)),
      ledgerMB: mb(duBytes(join(runDir, 'ledger'))),
      logsMB: mb(duBytes(join(runDir, 'logs'))),
      checkpointsMB: mb(duBytes(join(runDir, 'checkpoints'))),
    });
  };
  let actorKills = 0,
    learnerRestarts = 0,
    learnerSelfExits = 0,
    actorSelfExits = 0;
  let nextActorKill = t0 + actorEvery * 60_000;
  let nextLearnerRestart = t0 + learnerEvery * 60_000;
  let lastSay = t0;
  let lastSample = 0;
  try {
    // Faults stop one sample interval plus a minute before the end, so the run ends normally.
    const faultsUntil = end - 60_000 - sampleSec * 1000;
    while (!(learner.exited && Date.now() >= end) && Date.now() < end + 300_000) {
      const now = Date.now();
      if (now - lastSample >= sampleSec * 1000) {
        lastSample = now;
        sampleAll();
      }
      if (now >= nextActorKill && now < faultsUntil) {
        const s = slots[actorKills % (slots.length - steadyActors)];
        if (s.proc && !s.proc.exited) {
          signal(s.proc, 'SIGKILL');
          await s.proc.exit;
          actorKills++;
          startActor(s);
        }
        nextActorKill += actorEvery * 60_000;
      }
      if (now >= nextLearnerRestart && now < faultsUntil) {
        const sig = learnerRestarts % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
        signal(learner, sig);
        await waitExit(learner, 60_000);
        learnerRestarts++;
        learner = startLearner();
        nextLearnerRestart += learnerEvery * 60_000;
      }
      for (const s of slots) {
        if (!s.proc?.exited || Date.now() >= end) continue;
        actorSelfExits++; // it gave up, crashed, or was told to stop: counted, restarted
        startActor(s);
      }
      if (learner.exited && Date.now() < end - 30_000) {
        // Died on its own before the end: counted (a healthy soak has none), restarted, and the soak goes on.
        learnerSelfExits++;
        learner = startLearner();
      }
      if (now - lastSay > 60_000) {
        lastSay = now;
        const last = disk[disk.length - 1];
        say(
          `soak: +${((now - t0) / 60_000).toFixed(0)} min  run dir ${last?.runMB.toFixed(1)} MB  ${samples
            .filter((x) => x.t === lastSample)
            .map((x) => `${x.role} ${x.rssMB.toFixed(0)} MB/${x.fds} fd`)
            .join('  ')}`,
        );
      }
      await sleep(500);
    }
    if (!learner.exited) {
      signal(learner, 'SIGTERM');
      await waitExit(learner, 60_000);
    }
  } finally {
    await Promise.all(
      slots.map(async (s) => {
        if (!s.proc || s.proc.exited) return;
        await Promise.race([s.proc.exit, sleep(15_000)]);
        signal(s.proc, 'SIGTERM');
        await waitExit(s.proc, 10_000);
      }),
    );
    process.off('exit', killAll);
  }
  const t1 = Date.now();
  sampleAll();

  const check = await checkRun({
    runDir,
    actors: slots.map((s) => ({ id: s.id, trialLog: s.trialLog, outboxDir: s.outboxDir })),
    ledgerArchive: archive,
    learnerLogArchive: logArchive,
  });
  const listening = logLines(learnerLog, 'learner listening', logArchive);
  const startup = spawns
    .map((s) => {
      const l = listening.find((x) => x.pid === s.pid);
      return l ? { t: s.at, sec: (Number(l.time) - s.at) / 1000 } : null;
    })
    .filter((x): x is { t: number; sec: number } => x !== null);
  const stats = [
    ...logLines(learnerLog, 'process stats', logArchive).map(
      (x): Record<string, unknown> => ({ ...x, role: 'learner' }),
    ),
    ...slots.flatMap((s) =>
      logLines(s.log, 'process stats').map((x): Record<string, unknown> => ({ ...x, role: s.id })),
    ),
  ].map((x) => ({
    t: Number(x.time),
    role: String(x.role),
    pid: Number(x.pid),
    heap: Number(x.heapUsedMB),
    lag: Number(x.loopLagP99Ms),
  }));
  const trained = readLearnerLog(learnerLog, logArchive).trained.map((t) => ({ at: t.at, trials: t.offsets.length }));
  const compactions = logLines(learnerLog, 'ledger compacted', logArchive).length;

  const hours = (t: number) => (t - t0) / 3_600_000;
  const roles = ['learner', ...slots.map((s) => s.id)];
  const perRole = <T extends { t: number; role: string; pid: number }>(xs: T[], y: (x: T) => number | null) =>
    roleSlopes(xs, y, roles, t0, t1);
  const diskHalf = secondHalf(disk, t0, t1);
  const diskSlope = (f: (d: DiskSample) => number) =>
    r2(
      lsSlope(
        diskHalf.map((d) => hours(d.t)),
        diskHalf.map(f),
      ).slope,
    );
  const warm = Math.min(10 * 60_000, (t1 - t0) / 5);
  const windowSec = Math.max(60, Math.round(Math.min(600, (t1 - t0) / 5000)));
  // Warm-up: a fifth of the run (at most 10 min), and at least until the first update.
  const tps = trialsPerSecWindows(trained, Math.max(t0 + warm, trained[0]?.at ?? t1), t1, windowSec);
  const lastDisk = disk[disk.length - 1];

  const plotPath = join(root, 'soak.png');
  const byRole = <T extends { t: number; role: string }>(xs: T[], y: (x: T) => number | null) =>
    roles.map((r) => ({
      name: r,
      points: xs
        .filter((x) => x.role === r && y(x) !== null)
        .map((x) => [(x.t - t0) / 60_000, y(x)!] as [number, number]),
    }));
  const panels: Panel[] = [
    { title: 'resident set', xLabel: 'minutes', yLabel: 'MB', series: byRole(samples, (x) => x.rssMB) },
    { title: 'open file descriptors', xLabel: 'minutes', yLabel: 'fds', series: byRole(samples, (x) => x.fds) },
    { title: 'V8 heap used', xLabel: 'minutes', yLabel: 'MB', series: byRole(stats, (x) => x.heap) },
    { title: 'event-loop delay p99', xLabel: 'minutes', yLabel: 'ms', series: byRole(stats, (x) => x.lag) },
    {
      title: 'run directory on disk',
      xLabel: 'minutes',
      yLabel: 'MB',
      series: (['runMB', 'ledgerMB', 'logsMB', 'checkpointsMB'] as const).map((k) => ({
        name: k.replace('MB', ''),
        points: disk.map((d) => [(d.t - t0) / 60_000, d[k]] as [number, number]),
      })),
    },
    {
      title: 'trials trained per second (1-min windows)',
      xLabel: 'minutes',
      yLabel: 'trials/s',
      series: [
        {
          name: 'learner',
          points: trialsPerSecWindows(trained, t0, t1, 60).map((v, i) => [i + 1, v] as [number, number]),
        },
      ],
    },
    {
      title: 'learner start-up after each (re)start',
      xLabel: 'minutes',
      yLabel: 's',
      series: [{ name: 'start-up', points: startup.map((s) => [(s.t - t0) / 60_000, s.sec] as [number, number]) }],
    },
  ];
  writeFileSync(plotPath, svgToPng(chartSvg(panels, { columns: 2 })));

  const { lostKeys: _lk, rejectReasons: _rr, ...counts } = check;
  const report: LongSoakReport = {
    label: o.minutes >= 120 ? 'soak' : `short soak (${o.minutes} min; the target is 120 min)`,
    minutes: o.minutes,
    lost: check.lost,
    duplicated: check.duplicated,
    checker: counts,
    rss: perRole(samples, (x) => x.rssMB),
    fd: perRole(samples, (x) => x.fds),
    heap: perRole(stats, (x) => x.heap),
    lagP99: Object.fromEntries(
      roles.map((r) => {
        const h = secondHalf(
          stats.filter((x) => x.role === r),
          t0,
          t1,
        );
        return [
          r,
          {
            slope: roleSlopes(stats, (x) => x.lag, [r], t0, t1)[r],
            mean: r2(h.reduce((a, x) => a + x.lag, 0) / Math.max(1, h.length)),
          },
        ];
      }),
    ),
    disk: {
      run: diskSlope((d) => d.runMB),
      ledger: diskSlope((d) => d.ledgerMB),
      logs: diskSlope((d) => d.logsMB),
      checkpoints: diskSlope((d) => d.checkpointsMB),
      finalRunMB: r2(lastDisk.runMB),
      finalLedgerMB: r2(lastDisk.ledgerMB),
      archivedMB: r2(duBytes(archive) / 2 ** 20),
    },
    startup: {
      learner: r2(
        lsSlope(
          startup.map((s) => hours(s.t)),
          startup.map((s) => s.sec),
        ).slope,
      ),
      seconds: startup.map((s) => r2(s.sec)),
      lastOverFirst: startup.length >= 2 ? r2(startup[startup.length - 1].sec / startup[0].sec) : null,
    },
    trialsPerSec: {
      first: tps.length ? r2(tps[0]) : null,
      last: tps.length ? r2(tps[tps.length - 1]) : null,
      lastOverFirst: tps.length >= 2 && tps[0] > 0 ? r2(tps[tps.length - 1] / tps[0]) : null,
    },
    faults: { actorKills, learnerRestarts, learnerSelfExits, actorSelfExits },
    compactions,
    finalPolicyVersion: trained.length
      ? Math.max(...readLearnerLog(learnerLog, logArchive).trained.map((t) => t.policyVersion))
      : null,
    plot: plotPath,
    dir: root,
  };
  writeFileSync(
    join(root, 'soak.json'),
    JSON.stringify({ ...report, samples, disk, stats, startupDetail: startup }, null, 1) + '\n',
  );
  return report;
}
