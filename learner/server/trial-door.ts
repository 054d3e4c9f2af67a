/**
 * Exactly-once trial ingest with ack-after-commit (docs/reliability.md §1–§2): a trial from a handshaken
 * connection is counted against its credit window, checked (key, content against the run's model shape, digest,
 * the learner's own check), appended to the ledger, and acked only once the ledger made it durable. Content
 * problems are acked `rejected` rather than closing the connection: a record the actor keeps resending must not
 * turn into a reconnect loop. A ledger failure acks nothing and closes 1011 (the actor resends to a healthy learner).
 */
import { verifyTrialDigest } from '../../proto/codec.js';
import { LIMITS, validateTrial, type Ack, type Trial, type TrialKey } from '../../proto/messages.js';
import { CloseCode } from '../../proto/wire.js';
import type { Logger } from '../../shared/logger.js';
import type { Ledger } from '../ledger.js';
import type { ActorConnection, CommitInfo } from './connection.js';
import type { ServerMetrics } from './metrics.js';

/** What the door needs of a handshaken connection. */
export interface TrialPeer {
  readonly actorId: string;
  /** The learner's view of it; its `send` sends nothing once the connection is closing. */
  readonly view: ActorConnection;
  /** Trials received and not yet acked (the credit in use). */
  trialsInFlight: number;
  close(code: number, reason: string): void;
}

export interface TrialDoorOptions {
  runId: string;
  ledger: Ledger;
  /** Unacked trials allowed per connection. */
  creditWindow: number;
  policyState: () => { policyVersion: number };
  modelShape?: () => { vocabSize: number; contextLength: number };
  checkTrial?: (trial: Trial, conn: ActorConnection) => string | null;
  onTrialRejected?: (trial: Trial, reason: string, conn: ActorConnection) => void;
  onTrialCommitted?: (trial: Trial, info: CommitInfo) => void;
  metrics: ServerMetrics;
  logger?: Logger;
}

export class TrialDoor {
  constructor(private readonly o: TrialDoorOptions) {}

  /** Handles one trial frame (`bytes`: the exact frame, which is what the ledger stores). */
  receive(c: TrialPeer, trial: Trial, bytes: Uint8Array): void {
    const { o } = this;
    const m = o.metrics;
    const log = o.logger;
    m.trialsReceived++;
    if (c.trialsInFlight >= o.creditWindow) {
      m.creditViolations++;
      return c.close(CloseCode.POLICY_VIOLATION, `more than ${o.creditWindow} unacked trials`);
    }
    c.trialsInFlight++;
    const reject = (reason: string, ours = true) => {
      m.rejected++;
      log?.warn({ actorId: c.actorId, seq: trial.key.seq, reason }, 'trial rejected');
      this.ack(c, trial.key, 'rejected', reason);
      if (!ours) return;
      try {
        o.onTrialRejected?.(trial, reason, c.view);
      } catch (e) {
        m.internalErr++;
        log?.error({ actorId: c.actorId, seq: trial.key.seq, err: (e as Error).message }, 'onTrialRejected failed');
      }
    };
    // A record of another run or actor names no lease of ours, so it is not reported.
    if (trial.key.runId !== o.runId) return reject(`key.runId '${trial.key.runId}' is not this run`, false);
    if (trial.key.actorId !== c.actorId) return reject('key.actorId does not match the authenticated actor', false);
    // A key already in the ledger is answered from the ledger (duplicate/conflict) without re-validation:
    // it was valid when committed, even if, say, the learner has since rolled back to an older version.
    if (o.ledger.status(trial.key) === 'absent') {
      const problem = this.problemWith(c, trial);
      if (problem) return reject(problem);
    }
    o.ledger.append(trial.key, bytes).then(
      (res) => {
        switch (res.status) {
          case 'committed':
            m.trialsCommitted++;
            try {
              o.onTrialCommitted?.(trial, { key: trial.key, offset: res.offset, bytes, conn: c.view });
            } catch (e) {
              m.internalErr++;
              log?.error(
                { actorId: c.actorId, seq: trial.key.seq, err: (e as Error).message },
                'onTrialCommitted failed',
              );
            }
            return this.ack(c, trial.key, 'committed');
          case 'duplicate':
            m.dupSuppressed++;
            return this.ack(c, trial.key, 'duplicate');
          case 'conflict':
            m.conflicts++;
            log?.error({ actorId: c.actorId, key: trial.key }, 'conflicting duplicate: same key, different content');
            return this.ack(
              c,
              trial.key,
              'rejected',
              'conflict: a different record is already committed under this key',
            );
          case 'rejected':
            return reject(res.reason);
        }
      },
      (e: Error) => {
        // Never ack without durability: the actor keeps the record and resends it to a healthy learner.
        m.internalErr++;
        c.trialsInFlight--;
        log?.error({ actorId: c.actorId, err: e.message }, 'ledger append failed');
        c.close(CloseCode.INTERNAL_ERROR, 'ledger failure');
      },
    );
  }

  /** Why a new record cannot be committed, or null. */
  private problemWith(c: TrialPeer, trial: Trial): string | null {
    const { o } = this;
    try {
      return (
        validateTrial(trial, { learnerPolicyVersion: o.policyState().policyVersion, ...o.modelShape?.() }) ??
        (verifyTrialDigest(trial) ? null : 'sha256 does not match the record') ??
        o.checkTrial?.(trial, c.view) ??
        null
      );
    } catch (e) {
      // A check that throws on a record must not take the connection (or the learner) with it: the record is refused.
      o.metrics.internalErr++;
      o.logger?.error({ actorId: c.actorId, seq: trial.key.seq, err: (e as Error)?.message }, 'trial check failed');
      return 'the learner could not check this record';
    }
  }

  /** Frees the record's credit and acks it (nothing is sent once the connection is closing: the actor resends). */
  private ack(c: TrialPeer, key: TrialKey, status: Ack['status'], reason?: string): void {
    c.trialsInFlight--;
    c.view.send(
      reason === undefined
        ? { type: 'ack', key, status }
        : { type: 'ack', key, status, reason: reason.slice(0, LIMITS.textChars) },
    );
  }
}
