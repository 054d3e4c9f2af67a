/**
 * The process fleet of a chaos run: one `lamer learner` and N `lamer actor` processes. Starts them, restarts them
 * after a kill (same actor id and outbox, new incarnation; learner on the same port and run directory), notices
 * crashes (exits the driver did not cause), winds them down at the end and never leaves one behind.
 */
import { join } from 'node:path';
import { deriveActorToken } from '../../learner/auth.js';
import { badInput } from '../../shared/errors.js';
import type { ChaosObserver } from './observer.js';
import { type Proc, type SpawnCliOptions, signal, sleep, spawnCli, waitExit } from './procs.js';

/** The tiny, fast training configuration chaos and soak runs use (2 cores must run learner and actors at once). */
export const TINY = [
  'env.groupSize=2',
  'algo.groupsPerUpdate=2',
  'run.evalTasks=4',
  'run.evalEvery=0',
  'learner.checkpointEvery=1',
  'learner.heartbeatMs=500',
  'model.dModel=16',
  'model.nLayer=1',
  'model.nHead=2',
  'model.nCtx=160',
  'model.init=random',
  'log.level=info',
  'run.progressSec=5',
];

/** Pause after each checkpoint file in chaos runs (learner/checkpoint-store.ts test hook). */
export const CHECKPOINT_PAUSE_MS = 25;

/** `lamer learner` arguments for a chaos/soak run (tiny model, checkpoint every version). */
export function learnerArgs(o: {
  listen: string;
  runDir: string;
  minutes: number;
  seed: number;
  set?: string[];
}): string[] {
  return [
    'learner',
    '--listen',
    o.listen,
    '--run-dir',
    o.runDir,
    '--iterations',
    '0',
    '--minutes',
    o.minutes.toFixed(3),
    '--seed',
    String(o.seed),
    ...[...TINY, ...(o.set ?? [])].flatMap((s) => ['--set', s]),
  ];
}

/** `lamer actor` arguments for a chaos/soak run. */
export function actorArgs(o: {
  url: string;
  actorId: string;
  runId: string;
  outboxDir: string;
  trialLog: string;
}): string[] {
  return [
    'actor',
    '--learner',
    o.url,
    '--actor-id',
    o.actorId,
    '--run-id',
    o.runId,
    '--outbox-dir',
    o.outboxDir,
    '--trial-log',
    o.trialLog,
    '--groups',
    '2',
    '--threads',
    '1',
    '--log-level',
    'info',
  ];
}

export interface ActorSlot {
  id: string;
  /** The current process (null before the first start). */
  proc: Proc | null;
  outboxDir: string;
  trialLog: string;
  stderr: string;
}

export interface FleetOptions {
  /** Work directory: `logs/`, `outbox/<id>/`, `trials/<id>.jsonl` live here. */
  root: string;
  runDir: string;
  /** Where the learner listens (kept across restarts). */
  host: string;
  port: number;
  actors: number;
  seed: number;
  /** Extra learner `--set` overrides. */
  set?: string[];
  /** Wall-clock end of the run (ms). */
  endAt: number;
  /**
   * The learner's `--minutes`: a total over the run directory's invocations, so every (re)start gets the same value
   * (time between a kill and the restart does not count: the learner ends a little after `endAt`).
   */
  minutes: number;
  /** Network namespaces of the learner and the actors (`--netns` runs). */
  learnerNs?: string;
  actorNs?: string;
  observer: ChaosObserver;
  /** Starts a process (tests pass a fake). */
  spawn?: (o: SpawnCliOptions) => Proc;
}

export class ChaosFleet {
  readonly actors: ActorSlot[];
  readonly url: string;
  private current: Proc | null = null;
  private readonly live = new Set<Proc>();
  private readonly killed = new Set<Proc>();
  private runId = '';
  private masterKey = '';
  private readonly spawn: (o: SpawnCliOptions) => Proc;
  // Also on an abrupt exit (Ctrl-C): no child outlives the driver.
  private readonly killAllNow = () => {
    for (const p of this.live) {
      signal(p, 'SIGCONT');
      signal(p, 'SIGKILL');
    }
  };

  constructor(private readonly o: FleetOptions) {
    this.spawn = o.spawn ?? spawnCli;
    this.url = `ws://${o.host}:${o.port}`;
    this.actors = Array.from({ length: o.actors }, (_, i) => ({
      id: `a${i}`,
      proc: null,
      outboxDir: join(o.root, 'outbox', `a${i}`),
      trialLog: join(o.root, 'trials', `a${i}.jsonl`),
      stderr: join(o.root, 'logs', `a${i}.log`),
    }));
    process.once('exit', this.killAllNow);
  }

  /** The current learner process. */
  get learner(): Proc {
    if (!this.current) throw new Error('chaos: the learner has not been started');
    return this.current;
  }

  /** Starts (or restarts) the learner for the rest of the run. */
  startLearner(): Proc {
    const minutes = this.o.minutes;
    const p = this.track(
      this.spawn({
        role: 'learner',
        stderrFile: join(this.o.root, 'logs', 'learner.stderr'),
        netns: this.o.learnerNs,
        // Each checkpoint file write is followed by a short pause, so a kill can land inside the write.
        env: { LAMER_DEBUG_CHECKPOINT_DELAY_MS: String(CHECKPOINT_PAUSE_MS) },
        args: learnerArgs({
          listen: `${this.o.host}:${this.o.port}`,
          runDir: this.o.runDir,
          minutes,
          seed: this.o.seed,
          set: this.o.set,
        }),
      }),
    );
    this.current = p;
    return p;
  }

  /** Starts every actor of the run `runId` (their tokens derive from the learner's master key). */
  startActors(runId: string, masterKey: string): void {
    this.runId = runId;
    this.masterKey = masterKey;
    this.actors.forEach((a) => this.startActor(a));
  }

  startActor(a: ActorSlot): void {
    a.proc = this.track(
      this.spawn({
        role: a.id,
        stderrFile: a.stderr,
        netns: this.o.actorNs,
        env: { LAMER_TOKEN: deriveActorToken(this.masterKey, a.id) },
        args: actorArgs({
          url: this.url,
          actorId: a.id,
          runId: this.runId,
          outboxDir: a.outboxDir,
          trialLog: a.trialLog,
        }),
      }),
    );
  }

  /** The driver is about to kill `p`: its exit is not a crash. */
  markKilled(p: Proc): void {
    this.o.observer.killing?.(p);
    this.killed.add(p);
  }

  /** Restarts every actor that is down; one that exited without being killed crashed (reported, restarted). */
  ensureActorsUp(): void {
    for (const a of this.actors) {
      if (a.proc?.exited && !this.killed.has(a.proc)) this.o.observer.crashed?.(`${a.id}: ${exitOf(a.proc)}`);
      if (!a.proc || a.proc.exited) this.startActor(a);
    }
  }

  /** The learner never exits on its own before the end: if it did, it crashed; report it and restart it. */
  restartCrashedLearner(): void {
    if (!this.learner.exited) return;
    this.o.observer.crashed?.(`learner: ${exitOf(this.learner)}`);
    this.startLearner();
  }

  /** At the end of the fault window: a learner that is down and was not killed crashed. */
  checkLearnerAfterFaults(): void {
    if (this.learner.exited && !this.killed.has(this.learner))
      this.o.observer.crashed?.(`learner: ${exitOf(this.learner)}`);
  }

  /** Polls `f` every 100 ms; fails when the learner exits first or after `ms`. */
  async until(what: string, f: () => boolean, ms: number): Promise<void> {
    const t0 = Date.now();
    const learner = this.learner;
    while (!f()) {
      if (learner.exited) {
        const r = await learner.exit;
        throw badInput(
          `chaos: the learner exited (${r.signal ?? `code ${r.code}`}) while waiting for ${what}; ` +
            `its last output: ${learner.stdout().slice(-300).trim()}`,
        );
      }
      if (Date.now() - t0 > ms) throw badInput(`chaos: timed out after ${ms / 1000} s waiting for ${what}`);
      await sleep(100);
    }
  }

  /**
   * Lets the run end normally: waits for the learner to exit (SIGKILL after `ms`), then gives the actors (they got
   * `bye`) 15 s to flush before stopping stragglers with SIGTERM (their outboxes stay on disk). Returns how the
   * learner exited.
   */
  async finish(ms: number): Promise<string> {
    const r = await waitExit(this.learner, ms);
    const learnerExit = r.forced ? 'forced (did not stop in time)' : r.signal ? `signal ${r.signal}` : `code ${r.code}`;
    await Promise.all(
      this.actors.map(async (a) => {
        if (!a.proc) return;
        const g = await Promise.race([a.proc.exit.then(() => true), sleep(15_000).then(() => false)]);
        if (!g) {
          signal(a.proc, 'SIGTERM');
          await waitExit(a.proc, 10_000);
        }
      }),
    );
    return learnerExit;
  }

  /** Kills whatever is still running (also paused processes) and waits for the exits. */
  async stopAll(): Promise<void> {
    this.killAllNow();
    await Promise.all([...this.live].map((p) => p.exit));
    process.off('exit', this.killAllNow);
  }

  private track(p: Proc): Proc {
    this.live.add(p);
    void p.exit.then(() => this.live.delete(p));
    this.o.observer.spawned?.(p);
    return p;
  }
}

function exitOf(p: Proc): string {
  return `${p.child.exitCode ?? p.child.signalCode}`;
}
