import { afterEach, describe, expect, it } from 'vitest';
import { PolicyPublisher, type PolicyPeer } from '../../learner/publisher.js';
import { decode, sha256Hex } from '../../proto/codec.js';
import { toTensor, type Message } from '../../proto/messages.js';
import { RawClient, startHarness, until, type Harness } from './harness.js';

class FakePeer implements PolicyPeer {
  bufferedAmount = 0;
  isOpen = true;
  received: Message[] = [];
  constructor(readonly initialPolicy?: { learnerEpoch: number; policyVersion: number }) {}
  sendBytes(bytes: Uint8Array, cb?: (err?: Error) => void): void {
    const r = decode(bytes);
    if (!r.ok) throw new Error('publisher sent an invalid frame');
    this.received.push(r.msg);
    cb?.();
  }
  versions(): number[] {
    return this.received.map((m) => (m.type === 'policy' ? m.policyVersion : -1));
  }
}

const weights = (n: number, v = 0) => toTensor(Float32Array.from({ length: n }, (_, i) => i + v));
let pubs: PolicyPublisher[] = [];
let h: Harness | null = null;
afterEach(async () => {
  for (const p of pubs) p.close();
  pubs = [];
  await h?.stop();
  h = null;
});

describe('PolicyPublisher (fake peers)', () => {
  it(
    'sends each version once to peers with room, ' + 'skips stalled peers, and sends only the latest after they drain',
    async () => {
      const fast = new FakePeer();
      const stalled = new FakePeer();
      const upToDate = new FakePeer({ learnerEpoch: 1, policyVersion: 10 });
      const pub = new PolicyPublisher({ peers: () => [fast, stalled, upToDate], sweepMs: 10_000 });
      pubs.push(pub);
      stalled.bufferedAmount = 10 << 20;
      for (let v = 1; v <= 10; v++) {
        const r = pub.publish({ policyVersion: v, learnerEpoch: 1, config: { d: 4 }, weights: weights(256, v) });
        expect(r.sha256).toBe(sha256Hex(weights(256, v).data));
      }
      expect(fast.versions()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(stalled.versions()).toEqual([]);
      expect(upToDate.versions()).toEqual([]);
      expect(pub.stats()).toMatchObject({ published: 10, behind: 1 });
      stalled.bufferedAmount = 0;
      pub.sweep();
      pub.sweep();
      expect(stalled.versions()).toEqual([10]);
      const got = stalled.received[0];
      expect(got.type === 'policy' && got.sha256).toBe(sha256Hex(weights(256, 10).data));
      expect(pub.stats().superseded).toBe(9);
      // A new learner epoch reaches everyone, even at a lower version.
      pub.publish({ policyVersion: 4, learnerEpoch: 2, config: {}, weights: weights(8) });
      expect(upToDate.versions()).toEqual([4]);
      expect(() => pub.publish({ policyVersion: 4, learnerEpoch: 2, config: {}, weights: weights(8) })).toThrow(
        /not newer/,
      );
    },
  );
});

describe('PolicyPublisher over real sockets', () => {
  it('bounds bufferedAmount of a peer that never reads while a live peer gets every update', async () => {
    h = await startHarness({ heartbeatMs: 60_000 });
    const fast = await RawClient.ready(h.server.url, 'fast');
    const stalled = await RawClient.ready(h.server.url, 'stalled');
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // SIGSTOP-like: never reads
    const pub = new PolicyPublisher({ peers: () => h!.server.connections(), sweepMs: 20 });
    pubs.push(pub);
    const stalledConn = h.server.connection('stalled')!;
    const n = 1 << 18; // 1 MiB of float32 weights per version
    let maxBuffered = 0;
    for (let v = 1; v <= 30; v++) {
      pub.publish({ policyVersion: v, learnerEpoch: 1, config: {}, weights: weights(n, v) });
      maxBuffered = Math.max(maxBuffered, stalledConn.bufferedAmount);
      await new Promise((r) => setTimeout(r, 15));
      maxBuffered = Math.max(maxBuffered, stalledConn.bufferedAmount);
    }
    expect(maxBuffered).toBeLessThanOrEqual(pub.capBytes);
    expect(pub.stats().maxBufferedAfterSend).toBeLessThanOrEqual(pub.capBytes);
    expect(pub.stats().deferred).toBeGreaterThan(0);
    // 30 MiB were published; without the cap all of it would sit in the stalled peer's buffer.
    expect(pub.capBytes).toBeLessThan(3 << 20);
    await until(() => fast.messages.some((m) => m.type === 'policy' && m.policyVersion === 30), 10_000);
    // Once the stalled peer reads again it converges on the latest version.
    (stalled.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await until(() => stalled.messages.some((m) => m.type === 'policy' && m.policyVersion === 30), 10_000);
    const versions = stalled.messages.flatMap((m) => (m.type === 'policy' ? [m.policyVersion] : []));
    expect(versions.length).toBeLessThan(30);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    fast.ws.close();
    stalled.ws.close();
  });
});
