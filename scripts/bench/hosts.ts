/**
 * `lamer bench hosts`: the learner and the actors on two "hosts" — two Linux network namespaces joined by a veth
 * pair, each with its own address — so every trial record and weight broadcast crosses a real (virtual) NIC instead
 * of loopback. Runs Meta-RL sync and async legs (interleaved) with `lamer learner` in one namespace and
 * `lamer actor` processes in the other, and reports the throughput bench's figures for each. Needs root and
 * `ip` (iproute2); an optional `rate` caps the actors' egress with a token-bucket filter (tc tbf).
 *
 * On real machines the same run is: `lamer learner --listen 0.0.0.0:7070 ...` on the learner host, then on each actor
 * host `LAMER_TOKEN=$(lamer token --run-dir RUN --actor-id aK) lamer actor --learner ws://LEARNER:7070 --actor-id aK
 * --run-id $(cat RUN/run-id)` (docs/throughput.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveActorToken } from '../../learner/auth.js';
import { defaultRunDir } from '../../shared/run-dir.js';
import { NetnsPair } from '../chaos/netns.js';
import { exited, until } from '../lib/processes.js';
import { ALGO_SETS, WORKLOADS, legFigures, type LegFigures, type Mode } from './throughput.js';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));

export interface HostsOptions {
  actors?: number;
  iterations?: number;
  rounds?: number;
  workload?: string;
  set?: string[];
  outDir?: string;
  /** tc tbf rate for the actors' egress, e.g. '100mbit' (default: none). */
  rate?: string;
  onLeg?: (f: LegFigures) => void;
}

export interface HostsResult {
  learnerAddress: string;
  actorAddress: string;
  rate: string | null;
  outDir: string;
  legs: LegFigures[];
  syncTrialsPerSec: number;
  asyncTrialsPerSec: number;
  asyncOverSync: number;
  weightSwitchMsP50: number;
}

function inNs(ns: string, args: string[], env: Record<string, string>, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  return p;
}

export async function benchHosts(o: HostsOptions = {}): Promise<HostsResult> {
  const actors = o.actors ?? 1;
  const iterations = o.iterations ?? 10;
  const rounds = o.rounds ?? 1;
  const workload = o.workload ?? 'generation';
  if (!Object.hasOwn(WORKLOADS, workload)) throw new Error(`unknown workload '${workload}'`);
  const outDir = o.outDir ?? defaultRunDir().replace(/^runs[\\/]/, 'runs/bench-hosts-');
  mkdirSync(outDir, { recursive: true });
  const hosts = new NetnsPair(`h${process.pid.toString(36).slice(-6)}`);
  hosts.setup({ what: 'bench hosts', tools: o.rate ? ['ip', 'tc'] : ['ip'] });
  if (o.rate) {
    try {
      hosts.limitActorEgress(o.rate);
    } catch (e) {
      hosts.teardown();
      throw e;
    }
  }
  const children: ChildProcess[] = [];
  const onSignal = () => {
    for (const c of children) c.kill('SIGKILL');
    hosts.teardown();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  const legs: LegFigures[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      for (const mode of (r % 2 === 0 ? ['sync', 'async'] : ['async', 'sync']) as Mode[]) {
        const runDir = join(outDir, `metarl-${mode}-r${r}`);
        const set = [
          'run.evalEvery=0',
          'run.evalTasks=4',
          'run.evalAttempts=1',
          'run.progressSec=2',
          'log.level=warn',
          ...WORKLOADS[workload],
          ...ALGO_SETS.metarl,
          ...(mode === 'sync' ? ['algo.eta=0'] : []),
          ...(o.set ?? []),
        ].flatMap((s) => ['--set', s]);
        const port = 7070;
        const learner = inNs(
          hosts.learnerNs,
          [
            'learner',
            '--listen',
            `${hosts.learnerIp}:${port}`,
            '--run-dir',
            runDir,
            '--fresh',
            '--mode',
            mode,
            '--iterations',
            String(iterations),
            '--minutes',
            '0',
            ...set,
          ],
          {},
          join(outDir, `learner-${mode}-r${r}.out`),
        );
        children.push(learner);
        const runId = await until(
          'the learner run id',
          () => existsSync(join(runDir, 'run-id')) && readFileSync(join(runDir, 'run-id'), 'utf8').trim(),
          120_000,
        );
        const key = readFileSync(join(runDir, 'secrets', 'master.key'), 'utf8').trim();
        const acts = Array.from({ length: actors }, (_, i) => {
          const id = `h${i}`;
          const p = inNs(
            hosts.actorNs,
            [
              'actor',
              '--learner',
              `ws://${hosts.learnerIp}:${port}`,
              '--actor-id',
              id,
              '--run-id',
              runId,
              '--outbox-dir',
              join(runDir, 'outbox', id),
              '--log-level',
              'warn',
            ],
            { LAMER_TOKEN: deriveActorToken(key, id) },
            join(outDir, `actor-${id}-${mode}-r${r}.log`),
          );
          children.push(p);
          return p;
        });
        const code = await exited(learner);
        if (code !== 0) throw new Error(`learner (${mode}) exited with ${code}; see ${outDir}`);
        await Promise.all(acts.map((a) => Promise.race([exited(a), new Promise((res) => setTimeout(res, 30_000))])));
        for (const a of acts) if (a.exitCode === null) a.kill('SIGKILL');
        const f = legFigures(join(runDir, 'metrics.csv'), { algo: 'metarl', mode, actors, round: r });
        legs.push(f);
        o.onLeg?.(f);
      }
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    hosts.teardown();
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const s = med(legs.filter((l) => l.mode === 'sync').map((l) => l.trialsPerSec));
  const a = med(legs.filter((l) => l.mode === 'async').map((l) => l.trialsPerSec));
  const result: HostsResult = {
    learnerAddress: hosts.learnerIp,
    actorAddress: hosts.actorIp,
    rate: o.rate ?? null,
    outDir,
    legs,
    syncTrialsPerSec: s,
    asyncTrialsPerSec: a,
    asyncOverSync: a / s,
    weightSwitchMsP50: med(legs.map((l) => l.weightSwitchMsP50).filter(Number.isFinite)),
  };
  writeFileSync(join(outDir, 'hosts.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}
