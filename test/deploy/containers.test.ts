/**
 * The image end to end (docs/deploy.md): builds it, then runs a learner container and two actor containers on the
 * host network (loopback only) with the commands of the Kubernetes manifests (deploy/k8s), a tiny model and budget.
 * An actor container is killed and replaced (same identity and outbox volume, as the kubelet restarts a container
 * in its pod); the learner container is killed and a new one started on the same run directory, which must resume
 * at its newest checkpoint. The chaos checker then finds every acked trial in the ledger exactly once: 0 lost,
 * 0 duplicated. Prints the image size, start-to-first-trial and resume times, peak RSS and CPU per container.
 *
 * Needs a Docker engine and the base image (LAMER_BASE, default lamer-base:node20, made by
 * deploy/docker/base-from-host.sh); fails, never skips, without them. Run: `npm run test:containers`.
 */
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRun } from '../../scripts/chaos/checker.js';
import { TINY } from '../../scripts/chaos/fleet.js';
import { freePort, sleep } from '../../scripts/chaos/procs.js';
import { generateMasterKey } from '../../learner/auth.js';
import { docker, dockerOk, isRunning, runDetached, usage, waitExit } from './docker.js';
import { configData, flag, fleet } from './k8s.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BASE = process.env.LAMER_BASE ?? 'lamer-base:node20';
const IMAGE = process.env.LAMER_IMAGE ?? 'lamer:e2e';
/** Policy updates of the whole run (a total over both learner containers). */
const ITERATIONS = 16;
const tag = `lamer-e2e-${process.pid}`;
const started: string[] = [];

/** Where the run lives on the host, mounted into the containers as the manifests mount their volumes. */
function layout() {
  const root = mkdtempSync(join(tmpdir(), 'lamer-containers-'));
  const runs = join(root, 'runs');
  const keyFile = join(root, 'master.key');
  const runYaml = join(root, 'run.yaml');
  mkdirSync(runs);
  writeFileSync(keyFile, generateMasterKey() + '\n', { mode: 0o400 });
  writeFileSync(runYaml, configData(fleet().configMap)['run.yaml']);
  const actors = ['lamer-actor-e2e-0', 'lamer-actor-e2e-1'].map((id) => {
    const dir = join(root, id);
    mkdirSync(join(dir, 'outbox'), { recursive: true });
    return { id, dir, trialLog: join(dir, 'trials.jsonl'), outboxDir: join(dir, 'outbox') };
  });
  // As root the containers run as the image's user (uid 1000), so the host directories are given to it; otherwise
  // they run as the caller.
  const root0 = process.getuid?.() === 0;
  if (root0) for (const p of [runs, keyFile, ...actors.flatMap((a) => [a.dir, a.outboxDir])]) chownSync(p, 1000, 1000);
  else chmodSync(keyFile, 0o400);
  const user = root0 ? undefined : `${process.getuid?.()}:${process.getgid?.()}`;
  return { root, runs, keyFile, runYaml, actors, user };
}

/** The learner's and actors' arguments from the manifests, with this machine's addresses and the tiny budget. */
function commands(wsPort: number, httpPort: number) {
  const { learner, actor } = fleet();
  const largs = [...learner.args!];
  largs[largs.indexOf('--listen') + 1] = `127.0.0.1:${wsPort}`;
  largs[largs.indexOf('--metrics-listen') + 1] = `127.0.0.1:${httpPort}`;
  largs.push('--iterations', String(ITERATIONS), ...TINY.flatMap((s) => ['--set', s]));
  const aargs = (id: string) => {
    const a = [...actor.args!];
    a[a.indexOf('--learner') + 1] = `ws://127.0.0.1:${wsPort}`;
    a[a.indexOf('--actor-id') + 1] = id;
    a[a.indexOf('--outbox-dir') + 1] = '/actor/outbox';
    return [...a, '--trial-log', '/actor/trials.jsonl', '--groups', '2'];
  };
  const mounts = {
    runDir: flag(largs, '--run-dir')!,
    config: flag(largs, '--config')!,
    learnerKey: flag(largs, '--key-file')!,
    actorKey: flag(actor.args!, '--key-file')!,
  };
  return { largs, aargs, mounts };
}

function doneLines(file: string): number {
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"t":"done"')).length;
}

function logLines(runs: string): Array<Record<string, unknown>> {
  const file = join(runs, 'run', 'logs', 'learner.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return []; // a line torn by the kill
      }
    });
}

function trainedVersion(runs: string): number {
  return Math.max(0, ...logLines(runs).flatMap((o) => (o.msg === 'trained' ? [Number(o.policyVersion)] : [])));
}

function newestCheckpoint(runs: string): number {
  const dir = join(runs, 'run', 'checkpoints');
  if (!existsSync(dir)) return -1;
  return Math.max(-1, ...readdirSync(dir).flatMap((d) => (/^ckpt-(\d{12})$/.exec(d) ? [Number(d.slice(5))] : [])));
}

async function until(what: string, f: () => boolean | Promise<boolean>, ms: number, watch?: string): Promise<number> {
  const t0 = Date.now();
  while (!(await f())) {
    if (watch && !(await isRunning(watch))) {
      const logs = await docker(['logs', '--tail', '30', watch]);
      throw new Error(`${watch} exited while waiting for ${what}: ${logs.stdout}${logs.stderr}`);
    }
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(200);
  }
  return Date.now();
}

afterAll(async () => {
  // LAMER_KEEP_CONTAINERS=1 leaves them for `docker logs` after a failure.
  if (started.length && process.env.LAMER_KEEP_CONTAINERS !== '1') await docker(['rm', '-f', ...started]);
});

describe('the lamer image', () => {
  it('builds; a learner and two actors train, survive an actor kill and a learner kill, lose nothing', async () => {
    const info = await docker(['info', '--format', '{{.ServerVersion}}']);
    expect(info.code, `a Docker engine must be running (docs/deploy.md): ${info.stderr}`).toBe(0);
    const base = await docker(['image', 'inspect', BASE]);
    expect(base.code, `base image ${BASE} is missing: run deploy/docker/base-from-host.sh ${BASE}`).toBe(0);

    const t0 = Date.now();
    // NODE_EXTRA_CA_CERTS: this machine's setting, if any, for npm ci behind an intercepting proxy (Dockerfile).
    const build = ['build', '--network', 'host', '--build-arg', `BASE=${BASE}`, '--build-arg', 'NODE_EXTRA_CA_CERTS'];
    await dockerOk([...build, '-t', IMAGE, REPO], 900_000);
    const buildSec = (Date.now() - t0) / 1000;
    const imageBytes = Number(await dockerOk(['image', 'inspect', '-f', '{{.Size}}', IMAGE]));
    // The entrypoint is the CLI, as the manifests use it.
    expect(await dockerOk(['run', '--rm', '--network', 'host', IMAGE, '--version'])).toMatch(/^\d+\.\d+\.\d+$/);

    const L = layout();
    const wsPort = await freePort();
    const httpPort = await freePort();
    const { largs, aargs, mounts } = commands(wsPort, httpPort);
    const runId = `e2e-${process.pid}`;
    const learnerSpec = (name: string) => ({
      name,
      image: IMAGE,
      args: largs,
      user: L.user,
      env: { LAMER_RUN_ID: runId },
      mounts: [
        [L.runs, '/runs'],
        [L.runYaml, mounts.config, true],
        [L.keyFile, mounts.learnerKey, true],
      ] as Array<[string, string, boolean?]>,
    });
    const actorSpec = (a: (typeof L.actors)[number], name: string) => ({
      name,
      image: IMAGE,
      args: aargs(a.id),
      user: L.user,
      env: { LAMER_RUN_ID: runId },
      mounts: [
        [a.dir, '/actor'],
        [L.keyFile, mounts.actorKey, true],
      ] as Array<[string, string, boolean?]>,
    });
    expect(mounts.runDir.startsWith('/runs/')).toBe(true);

    // ---- start: learner, then two actors; time to the first trial an actor completed ---------------------------
    const tStart = Date.now();
    started.push(`${tag}-learner-1`);
    await runDetached(learnerSpec(`${tag}-learner-1`));
    for (const [i, a] of L.actors.entries()) {
      started.push(`${tag}-a${i}-1`);
      await runDetached(actorSpec(a, `${tag}-a${i}-1`));
    }
    const ready = async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => null))?.status === 200;
    const tReady = await until('the learner to be ready', ready, 180_000, `${tag}-learner-1`);
    const tFirst = await until(
      'the first trial',
      () => L.actors.some((a) => doneLines(a.trialLog) > 0),
      180_000,
      `${tag}-learner-1`,
    );
    // The run id and the master key came from outside: none was generated into the run directory.
    expect(readFileSync(join(L.runs, 'run', 'run-id'), 'utf8').trim()).toBe(runId);
    expect(existsSync(join(L.runs, 'run', 'secrets', 'master.key'))).toBe(false);
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    expect(health.status).toBe(200);

    // ---- an actor container is killed and replaced (same identity and outbox) ----------------------------------
    await until('policy v2', () => trainedVersion(L.runs) >= 2, 240_000, `${tag}-learner-1`);
    const actorUse = await usage(`${tag}-a0-1`);
    await dockerOk(['kill', `${tag}-a0-1`]);
    started.push(`${tag}-a0-2`);
    await runDetached(actorSpec(L.actors[0], `${tag}-a0-2`));

    // ---- the learner container is killed; a new one on the same volume resumes -----------------------------------
    await until('policy v4', () => trainedVersion(L.runs) >= 4, 240_000, `${tag}-learner-1`);
    const learnerUse = await usage(`${tag}-learner-1`);
    await dockerOk(['kill', `${tag}-learner-1`]);
    await waitExit(`${tag}-learner-1`, 30_000);
    const newest = newestCheckpoint(L.runs);
    expect(newest).toBeGreaterThanOrEqual(1);
    const tRestart = Date.now();
    started.push(`${tag}-learner-2`);
    await runDetached(learnerSpec(`${tag}-learner-2`));
    const resumed = () => logLines(L.runs).find((o) => o.msg === 'resumed from checkpoint');
    await until('the resume', () => resumed() !== undefined, 180_000, `${tag}-learner-2`);
    const tResumedReady = await until('the resumed learner to be ready', ready, 180_000, `${tag}-learner-2`);
    expect(Number(resumed()!.policyVersion), 'resumed at the newest checkpoint').toBe(newest);
    const trialsAtRestart = L.actors.reduce((n, a) => n + doneLines(a.trialLog), 0);
    const tTrialAfter = await until(
      'a trial after the restart',
      () => L.actors.reduce((n, a) => n + doneLines(a.trialLog), 0) > trialsAtRestart,
      180_000,
      `${tag}-learner-2`,
    );

    // ---- the run ends at its budget; every actor container gets the learner's goodbye -------------------------
    const code = await waitExit(`${tag}-learner-2`, 480_000);
    expect(code, 'the learner finished its iterations').toBe(0);
    for (const name of [`${tag}-a0-2`, `${tag}-a1-1`]) {
      if ((await waitExit(name, 30_000)) === null) await docker(['stop', name]);
    }

    const report = await checkRun({ runDir: join(L.runs, 'run'), actors: L.actors });
    expect(report.completed).toBeGreaterThan(0);
    expect(report.lost, JSON.stringify(report)).toBe(0);
    expect(report.duplicated, JSON.stringify(report)).toBe(0);
    expect(report.ackedNotInLedger).toBe(0);
    expect(report.lineageGaps).toBe(0);
    expect(report.trainedVersions).toBe(ITERATIONS);

    const mb = (b: number | undefined) => (b === undefined ? 'n/a' : `${(b / 2 ** 20).toFixed(0)} MiB`);
    const figures = {
      imageMiB: +(imageBytes / 2 ** 20).toFixed(0),
      buildSec: +buildSec.toFixed(1),
      startToReadySec: +((tReady - tStart) / 1000).toFixed(1),
      startToFirstTrialSec: +((tFirst - tStart) / 1000).toFixed(1),
      resumeToReadySec: +((tResumedReady - tRestart) / 1000).toFixed(1),
      resumeToTrialSec: +((tTrialAfter - tRestart) / 1000).toFixed(1),
      resumedAt: newest,
      learnerPeakRss: mb(learnerUse?.peakRss),
      learnerCpuSec: learnerUse?.cpuSeconds,
      actorPeakRss: mb(actorUse?.peakRss),
      actorCpuSec: actorUse?.cpuSeconds,
      completed: report.completed,
      committed: report.committed,
      rejected: report.rejected,
      pending: report.pending,
      lost: report.lost,
      duplicated: report.duplicated,
    };
    process.stdout.write(`container e2e: ${JSON.stringify(figures)}\n`);
  }, 1_500_000);
});
