import { afterEach, describe, expect, it } from 'vitest';
import { PolicyPublisher } from '../../learner/publisher.js';
import { toTensor } from '../../proto/messages.js';
import { RawClient, startHarness, type Harness } from './harness.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

describe('connection scale', () => {
  it('holds 2,000 handshaken connections with heartbeats running and no errors', async () => {
    const n = 2000;
    // Clients and server share this process's event loop here, so keep the interval realistic (3 s to a kill).
    h = await startHarness({ heartbeatMs: 1000, maxConnections: n + 10 });
    const clients: RawClient[] = [];
    // Connect in waves so the accept backlog is not the thing being tested.
    for (let i = 0; i < n; i += 200) {
      clients.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(200, n - i) }, (_, j) => RawClient.ready(h!.server.url, `actor-${i + j}`)),
        )),
      );
    }
    expect(h.server.connections()).toHaveLength(n);
    // Over two heartbeat intervals: every connection is pinged at least twice and must survive.
    await new Promise((r) => setTimeout(r, 2500));
    const m = h.server.metrics();
    expect(m.connectionsLive).toBe(n);
    expect(m.pingsSent).toBeGreaterThanOrEqual(2 * n);
    expect(m.heartbeatTimeouts).toBe(0);
    expect(m.wsErrors).toBe(0);
    expect(m.internalErr).toBe(0);
    // Everyone is still served: published weights reach every connection.
    const pub = new PolicyPublisher({ peers: () => h!.server.connections() });
    pub.publish({ policyVersion: 4, learnerEpoch: 1, config: {}, weights: toTensor(new Float32Array([1, 2, 3])) });
    const got = await Promise.all(clients.map((c) => c.next()));
    pub.close();
    expect(pub.stats().sent).toBe(n);
    expect(got.every((msg) => msg.type === 'policy' && msg.policyVersion === 4)).toBe(true);
    for (const c of clients) c.ws.terminate();
  }, 60_000);
});
