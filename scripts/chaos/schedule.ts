/**
 * The fault schedule of a chaos run: which faults, of which kind, at which moment, from a seed. Also the record
 * kept of each learner restart (what it must resume from, what it did).
 */
import type { Rng } from '../../shared/rng.js';
import type { NetFault } from './netns.js';

export type ActorKillMode = 'random' | 'after-done' | 'after-outbox';
export type LearnerKillKind = 'checkpoint-write' | 'corrupt' | 'plain';

/** How many faults of each kind to schedule. */
export interface FaultCounts {
  actorKills: number;
  learnerKills: number;
  stops: number;
  /** Only scheduled with `netns`. */
  netFaults: number;
  netns: boolean;
}

export type FaultEvent = { at: number } & (
  | { type: 'actorKill'; mode: ActorKillMode }
  | { type: 'learnerKill'; kind: LearnerKillKind }
  | { type: 'stop'; target: 'actor' | 'learner'; ms: number }
  | { type: 'net'; fault: NetFault; ms: number }
);

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

/**
 * Spreads every fault evenly (with jitter) over [start, end), seeded. Actor kill modes and learner kill kinds
 * cycle; stops alternate actor / learner.
 */
export function schedule(rng: Rng, o: FaultCounts, start: number, end: number): FaultEvent[] {
  const span = end - start;
  const spread = (n: number, phase: number) =>
    Array.from({ length: n }, (_, i) => start + ((i + phase + (rng.next() - 0.5) * 0.5) / n) * span);
  const modes: ActorKillMode[] = ['random', 'after-done', 'after-outbox'];
  const kinds: LearnerKillKind[] = ['checkpoint-write', 'corrupt', 'plain'];
  const faults: NetFault[] = ['partition', 'loss', 'reset'];
  const ev: FaultEvent[] = [
    ...spread(o.actorKills, 0.5).map((at, i) => ({ at, type: 'actorKill' as const, mode: modes[i % modes.length] })),
    ...spread(o.learnerKills, 0.5).map((at, i) => ({
      at,
      type: 'learnerKill' as const,
      kind: kinds[i % kinds.length],
    })),
    ...spread(o.stops, 0.3).map((at, i) => ({
      at,
      type: 'stop' as const,
      target: (i % 2 ? 'learner' : 'actor') as 'actor' | 'learner',
      ms: 2000 + rng.int(2000),
    })),
    ...(o.netns
      ? spread(o.netFaults, 0.7).map((at, i) => ({
          at,
          type: 'net' as const,
          fault: faults[i % faults.length],
          ms: 2000 + rng.int(3000),
        }))
      : []),
  ];
  return ev.sort((a, b) => a.at - b.at);
}
