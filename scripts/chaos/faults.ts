/**
 * The fault injector of a chaos run: plays a schedule (scripts/chaos/schedule.ts) against the fleet — actor
 * SIGKILLs (at random, right after a logged trial, right after an outbox write), learner SIGKILLs (during a
 * checkpoint write, after corrupting the newest checkpoint, plain) followed by a restart, SIGSTOP/SIGCONT pauses
 * and network faults — and reports each through the observer hooks.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Rng } from '../../shared/rng.js';
import { type ActorSlot, CHECKPOINT_PAUSE_MS, type ChaosFleet } from './fleet.js';
import type { NetnsPair } from './netns.js';
import type { ChaosObserver } from './observer.js';
import {
  corruptNewest,
  killOnPartialCheckpoint,
  lastTrainedVersion,
  newestValidCheckpoint,
  waitForDoneLine,
  waitForOutboxFile,
  watchOptimizerAdvance,
} from './probes.js';
import { signal, sleep } from './procs.js';
import type { ActorKillMode, FaultEvent, LearnerKillKind, RestartRecord } from './schedule.js';

export interface FaultInjectorOptions {
  fleet: ChaosFleet;
  /** The run's seeded stream (targets and restart delays draw from it). */
  rng: Rng;
  runDir: string;
  /** Only for `net` events. */
  net: NetnsPair | null;
  observer: ChaosObserver;
}

export class FaultInjector {
  private readonly optimizerChecks: Array<Promise<void>> = [];
  private readonly ckptDir: string;

  constructor(private readonly o: FaultInjectorOptions) {
    this.ckptDir = join(o.runDir, 'checkpoints');
  }

  /**
   * Injects `events` at their times. Before each, restarts crashed processes; gives up on the rest once the clock
   * passes `giveUpAt`.
   */
  async run(events: readonly FaultEvent[], giveUpAt: number): Promise<void> {
    for (const [i, ev] of events.entries()) {
      const wait = ev.at - Date.now();
      if (wait > 0) await sleep(wait);
      if (Date.now() > giveUpAt) {
        this.o.observer.skipped?.(events.length - i, 'out of time');
        break;
      }
      this.o.fleet.ensureActorsUp();
      this.o.fleet.restartCrashedLearner();
      await this.inject(ev);
    }
  }

  /** Resolves when every restart's optimizer check is done (they watch checkpoints in the background). */
  async settled(): Promise<void> {
    await Promise.all(this.optimizerChecks);
  }

  async inject(ev: FaultEvent): Promise<void> {
    const { fleet, rng } = this.o;
    switch (ev.type) {
      case 'actorKill': {
        // Triggered kills go to the longest-running actor: a freshly restarted one needs seconds before its
        // first trial.
        const oldest = [...fleet.actors].sort((x, y) => startedAt(x) - startedAt(y))[0];
        await this.killActor(ev.mode === 'random' ? fleet.actors[rng.int(fleet.actors.length)] : oldest, ev.mode);
        break;
      }
      case 'learnerKill':
        await this.killLearner(ev.kind);
        break;
      case 'stop': {
        const target = ev.target === 'learner' ? fleet.learner : fleet.actors[rng.int(fleet.actors.length)].proc;
        if (target && signal(target, 'SIGSTOP')) {
          await sleep(ev.ms);
          signal(target, 'SIGCONT');
          this.o.observer.stopped?.(target);
        }
        break;
      }
      case 'net':
        if (!this.o.net) throw new Error('chaos: a network fault without network namespaces');
        await this.o.net.apply(ev.fault, ev.ms);
        break;
    }
  }

  private async killActor(a: ActorSlot, mode: ActorKillMode): Promise<void> {
    const p = a.proc;
    let how: string = mode;
    if (mode !== 'random') {
      const hit = await (mode === 'after-done'
        ? waitForDoneLine(a.trialLog, 4000)
        : waitForOutboxFile(a.outboxDir, 4000));
      if (!hit) how = `${mode}-timeout`;
    }
    if (!p || p.exited) {
      this.o.observer.skipped?.(1, 'target gone');
      return;
    }
    this.o.fleet.markKilled(p);
    signal(p, 'SIGKILL');
    await p.exit;
    this.o.observer.actorKilled?.(a.id, how);
    await sleep(100 + this.o.rng.int(900));
    this.o.fleet.startActor(a);
  }

  private async killLearner(kind: LearnerKillKind): Promise<void> {
    const { fleet, rng, runDir } = this.o;
    const p = fleet.learner;
    fleet.markKilled(p);
    let partialLeft: boolean | undefined;
    if (kind === 'checkpoint-write') {
      const seen = await killOnPartialCheckpoint(this.ckptDir, p, 30_000, rng.int(5 * CHECKPOINT_PAUSE_MS));
      partialLeft = seen && readdirSync(this.ckptDir).some((n) => n.includes('.partial-'));
    } else {
      signal(p, 'SIGKILL');
    }
    await p.exit;
    const rec: RestartRecord = {
      kind,
      pid: -1,
      epoch: null,
      versionBeforeKill: lastTrainedVersion(runDir),
      expectedVersion: null,
      expectedOptimizerStep: null,
      resumedVersion: null,
      resumedOptimizerStep: null,
      optimizerAdvanced: null,
      ...(partialLeft !== undefined ? { partialLeft } : {}),
    };
    if (kind === 'corrupt') rec.corrupted = (await corruptNewest(this.ckptDir)) ?? undefined;
    const expected = await newestValidCheckpoint(this.ckptDir);
    rec.expectedVersion = expected.version;
    rec.expectedOptimizerStep = expected.optimizerStep;
    await sleep(200 + rng.int(800));
    const next = fleet.startLearner();
    rec.pid = next.pid;
    this.optimizerChecks.push(watchOptimizerAdvance(runDir, rec, () => next.exited));
    this.o.observer.learnerKilled?.(rec);
  }
}

function startedAt(a: ActorSlot): number {
  return a.proc?.startedAt ?? 0;
}
