/**
 * `lamer chaos --soak`: a fault-free training run of real processes (the chaos run's tiny configuration) that
 * samples every process's resident set (VmRSS) at a fixed interval and reports, per process, the RSS slope in
 * MB/hour fitted by least squares over the second half of the run (the first half includes warm-up growth:
 * JIT, worker pools, allocator arenas). A leak shows as a slope that stays positive however long the run.
 */
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveActorToken } from '../../learner/auth.js';
import { badInput } from '../../shared/errors.js';
import { actorArgs, learnerArgs } from './fleet.js';
import { freePort, readMem, signal, sleep, spawnCli, waitExit, type Proc } from './procs.js';

export interface SoakOptions {
  minutes: number;
  actors: number;
  seed: number;
  sampleSec: number;
  dir?: string;
  set?: string[];
  say?: (line: string) => void;
}

export interface SoakProcess {
  role: string;
  samples: number;
  firstMB: number;
  lastMB: number;
  maxMB: number;
  /** Least-squares slope of RSS over the second half of the samples, and its standard error. */
  slopeMBPerHour: number;
  slopeStderrMBPerHour: number;
  /** The same over all samples (includes warm-up). */
  slopeAllMBPerHour: number;
  exitedEarly: boolean;
}

export interface SoakReport {
  minutes: number;
  sampleSec: number;
  processes: SoakProcess[];
  finalPolicyVersion: number | null;
  trialsCommitted: number | null;
  dir: string;
}

/**
 * Least-squares slope of y over x and its standard error (0 for fewer than 3 points or no spread in x). The
 * error assumes independent residuals; RSS samples are autocorrelated (GC cycles), so it is optimistic.
 */
export function lsSlope(xs: readonly number[], ys: readonly number[]): { slope: number; stderr: number } {
  const n = xs.length;
  if (n < 3) return { slope: 0, stderr: 0 };
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0,
    sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  if (sxx === 0) return { slope: 0, stderr: 0 };
  const slope = sxy / sxx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i] - my - slope * (xs[i] - mx)) ** 2;
  return { slope, stderr: Math.sqrt(sse / (n - 2) / sxx) };
}

/** Runs the soak; every child is stopped before it returns. */
export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  if (!(o.minutes > 0)) throw badInput(`soak: --minutes must be > 0, got ${o.minutes}`);
  if (!Number.isInteger(o.sampleSec) || o.sampleSec < 1)
    throw badInput(`soak: --sample must be an integer >= 1, got ${o.sampleSec}`);
  const say = o.say ?? (() => undefined);
  const root = o.dir ?? mkdtempSync(join(tmpdir(), 'lamer-soak-'));
  mkdirSync(join(root, 'logs'), { recursive: true });
  const runDir = join(root, 'run');
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}`;
  const procs: Proc[] = [];
  const killAll = () => {
    for (const p of procs) signal(p, 'SIGKILL');
  };
  process.once('exit', killAll);
  const series = new Map<string, Array<{ t: number; mb: number }>>();
  const t0 = Date.now();
  let sampler: NodeJS.Timeout | null = null;
  try {
    const learner = spawnCli({
      role: 'learner',
      stderrFile: join(root, 'logs', 'learner.stderr'),
      args: learnerArgs({ listen: `127.0.0.1:${port}`, runDir, minutes: o.minutes, seed: o.seed, set: o.set }),
    });
    procs.push(learner);
    const t1 = Date.now();
    while (!(existsSync(join(runDir, 'run-id')) && existsSync(join(runDir, 'secrets', 'master.key')))) {
      if (learner.exited) throw badInput('soak: the learner exited during start-up (see its logs)');
      if (Date.now() - t1 > 60_000) throw badInput('soak: the learner did not start within 60 s');
      await sleep(100);
    }
    const runId = readFileSync(join(runDir, 'run-id'), 'utf8').trim();
    const key = readFileSync(join(runDir, 'secrets', 'master.key'), 'utf8').trim();
    for (let i = 0; i < o.actors; i++) {
      const id = `a${i}`;
      procs.push(
        spawnCli({
          role: id,
          stderrFile: join(root, 'logs', `${id}.log`),
          env: { LAMER_TOKEN: deriveActorToken(key, id) },
          args: actorArgs({
            url,
            actorId: id,
            runId,
            outboxDir: join(root, 'outbox', id),
            trialLog: join(root, 'trials', `${id}.jsonl`),
          }),
        }),
      );
    }
    say(`soak: ${o.minutes} min, ${o.actors} actors, RSS every ${o.sampleSec} s; run in ${root}`);
    const sampleAll = () => {
      for (const p of procs) {
        const m = readMem(p.pid);
        if (!m || m.rss === 0) continue; // a process caught between fork and exec has no RSS yet
        const s = series.get(p.role) ?? [];
        s.push({ t: (Date.now() - t0) / 3_600_000, mb: m.rss / 2 ** 20 });
        series.set(p.role, s);
      }
    };
    sampleAll();
    sampler = setInterval(sampleAll, o.sampleSec * 1000);
    let lastSay = Date.now();
    while (!learner.exited) {
      await sleep(1000);
      if (Date.now() - lastSay > 60_000) {
        lastSay = Date.now();
        say(
          `soak: +${((Date.now() - t0) / 60_000).toFixed(0)} min  ` +
            [...series].map(([r, s]) => `${r} ${s[s.length - 1].mb.toFixed(0)} MB`).join('  '),
        );
      }
      // The learner stops at its time budget, plus its final evaluation and checkpoint.
      if (Date.now() - t0 > o.minutes * 60_000 + 300_000) {
        signal(learner, 'SIGTERM');
        await waitExit(learner, 30_000);
      }
    }
  } finally {
    if (sampler) clearInterval(sampler);
    await Promise.all(
      procs.map(async (p) => {
        if (p.exited) return;
        await Promise.race([p.exit, sleep(15_000)]);
        signal(p, 'SIGTERM');
        await waitExit(p, 10_000);
      }),
    );
    process.off('exit', killAll);
  }
  const processes: SoakProcess[] = [...series].map(([role, s]) => {
    const half = s.slice(Math.floor(s.length / 2));
    const p = procs.find((x) => x.role === role)!;
    return {
      role,
      samples: s.length,
      firstMB: round1(s[0].mb),
      lastMB: round1(s[s.length - 1].mb),
      maxMB: round1(Math.max(...s.map((x) => x.mb))),
      ...(() => {
        const h = lsSlope(
          half.map((x) => x.t),
          half.map((x) => x.mb),
        );
        return { slopeMBPerHour: round1(h.slope), slopeStderrMBPerHour: round1(h.stderr) };
      })(),
      slopeAllMBPerHour: round1(
        lsSlope(
          s.map((x) => x.t),
          s.map((x) => x.mb),
        ).slope,
      ),
      exitedEarly: p.exited && s[s.length - 1].t * 60 < o.minutes * 0.9,
    };
  });
  const summaryFile = join(runDir, 'summary.json');
  const summary = existsSync(summaryFile)
    ? (JSON.parse(readFileSync(summaryFile, 'utf8')) as { policyVersion: number; trialsCommitted: number })
    : null;
  const report: SoakReport = {
    minutes: o.minutes,
    sampleSec: o.sampleSec,
    processes,
    finalPolicyVersion: summary?.policyVersion ?? null,
    trialsCommitted: summary?.trialsCommitted ?? null,
    dir: root,
  };
  writeFileSync(
    join(root, 'soak.json'),
    JSON.stringify({ ...report, series: Object.fromEntries(series) }, null, 2) + '\n',
  );
  return report;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
