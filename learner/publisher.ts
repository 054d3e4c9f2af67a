/**
 * Latest-wins weight fan-out (docs/design.md §8.5). A policy message is encoded once and handed to every peer
 * whose send buffer has room (`bufferedAmount + size <= cap`); a peer without room is only marked as behind and
 * gets the then-latest version once it drains (checked on a timer and when a send completes). Old versions are
 * never queued, so a stalled peer holds at most ~cap bytes of weights however many versions are published.
 */
import { encode, sha256Hex } from '../proto/codec.js';
import type { Policy, Tensor } from '../proto/messages.js';
import { badInput } from '../shared/errors.js';

/** What the publisher needs from a connection (learner/server.ts `ActorConnection` fits). */
export interface PolicyPeer {
  readonly bufferedAmount: number;
  readonly isOpen: boolean;
  /** The policy the peer already holds (from its hello); -1 = none. */
  readonly initialPolicy?: { learnerEpoch: number; policyVersion: number };
  sendBytes(bytes: Uint8Array, cb?: (err?: Error) => void): void;
}

export interface PublisherOptions {
  /** The peers to serve, read on every sweep (e.g. `() => server.connections()`). */
  peers: () => Iterable<PolicyPeer>;
  /** Per-peer cap on buffered bytes, as a multiple of one encoded policy message (default 2). */
  capFactor?: number;
  /** How often peers that are behind are retried (default 50 ms). */
  sweepMs?: number;
}

export interface PublisherStats {
  published: number;
  /** Policy messages handed to sockets. */
  sent: number;
  /** Times a peer was skipped for lack of buffer room. */
  deferred: number;
  /** Versions a peer never received because a newer one replaced them first. */
  superseded: number;
  bytesSent: number;
  /** Peers currently not holding the latest version. */
  behind: number;
  /** Largest `bufferedAmount` seen on any peer right after a send. */
  maxBufferedAfterSend: number;
}

export interface PublishInput {
  policyVersion: number;
  learnerEpoch: number;
  config: Policy['config'];
  weights: Tensor;
}

interface PeerState {
  epoch: number;
  version: number;
  /** Latest version this peer was due and had not got yet (for the superseded counter). */
  owed: number;
}

/** See the module comment. */
export class PolicyPublisher {
  private latestMsg: { learnerEpoch: number; policyVersion: number; bytes: Uint8Array; sha256: string } | null = null;
  private readonly state = new WeakMap<PolicyPeer, PeerState>();
  private readonly timer: NodeJS.Timeout;
  private readonly capFactor: number;
  private readonly counters = {
    published: 0,
    sent: 0,
    deferred: 0,
    superseded: 0,
    bytesSent: 0,
    maxBufferedAfterSend: 0,
  };
  private behindCount = 0;

  constructor(private readonly opts: PublisherOptions) {
    this.capFactor = opts.capFactor ?? 2;
    if (!(this.capFactor >= 1)) throw badInput(`publisher capFactor must be >= 1, got ${opts.capFactor}`);
    this.timer = setInterval(() => this.sweep(), opts.sweepMs ?? 50);
    this.timer.unref();
  }

  /** The latest published (epoch, version), or null. */
  latest(): { learnerEpoch: number; policyVersion: number; sha256: string; bytes: number } | null {
    const l = this.latestMsg;
    return (
      l && { learnerEpoch: l.learnerEpoch, policyVersion: l.policyVersion, sha256: l.sha256, bytes: l.bytes.byteLength }
    );
  }

  /** Bytes a peer may have buffered before it is skipped. */
  get capBytes(): number {
    return this.latestMsg ? this.latestMsg.bytes.byteLength * this.capFactor : 0;
  }

  /** Makes `p` the latest policy (checksummed, encoded once) and offers it to every peer now. */
  publish(p: PublishInput): { sha256: string; bytes: number } {
    const prev = this.latestMsg;
    if (prev && p.learnerEpoch === prev.learnerEpoch && p.policyVersion <= prev.policyVersion) {
      throw badInput(
        `policy version ${p.policyVersion} is not newer than the ` +
          `published ${prev.policyVersion} in epoch ${p.learnerEpoch}`,
      );
    }
    const sha256 = sha256Hex(p.weights.data);
    const bytes = encode({
      type: 'policy',
      policyVersion: p.policyVersion,
      learnerEpoch: p.learnerEpoch,
      config: p.config,
      weights: p.weights,
      sha256,
      publishedAt: Date.now(),
    });
    this.latestMsg = { learnerEpoch: p.learnerEpoch, policyVersion: p.policyVersion, bytes, sha256 };
    this.counters.published++;
    this.sweep();
    return { sha256, bytes: bytes.byteLength };
  }

  /** Offers the latest policy to peers that are behind (also runs on the timer). */
  sweep(): void {
    const l = this.latestMsg;
    if (!l) return;
    let behind = 0;
    for (const peer of this.opts.peers()) {
      if (!peer.isOpen) continue;
      let s = this.state.get(peer);
      if (!s) {
        const init = peer.initialPolicy ?? { learnerEpoch: -1, policyVersion: -1 };
        s = { epoch: init.learnerEpoch, version: init.policyVersion, owed: -1 };
        this.state.set(peer, s);
      }
      if (s.epoch === l.learnerEpoch && s.version >= l.policyVersion) continue;
      if (s.owed !== -1 && s.owed !== l.policyVersion) this.counters.superseded++;
      s.owed = l.policyVersion;
      if (peer.bufferedAmount + l.bytes.byteLength > l.bytes.byteLength * this.capFactor) {
        this.counters.deferred++;
        behind++;
        continue;
      }
      s.epoch = l.learnerEpoch;
      s.version = l.policyVersion;
      s.owed = -1;
      this.counters.sent++;
      this.counters.bytesSent += l.bytes.byteLength;
      // A completed send may free room for a version published meanwhile: re-check without waiting for the timer.
      peer.sendBytes(l.bytes, (err) => {
        if (!err && this.latestMsg !== l) this.sweep();
      });
      this.counters.maxBufferedAfterSend = Math.max(this.counters.maxBufferedAfterSend, peer.bufferedAmount);
    }
    this.behindCount = behind;
  }

  stats(): PublisherStats {
    return { ...this.counters, behind: this.behindCount };
  }

  /** Stops the retry timer. */
  close(): void {
    clearInterval(this.timer);
  }
}
