/** The heartbeat sweep: silent peers terminated, overdue sends closed 4005 and logged, pings when due and allowed. */
import { describe, expect, it } from 'vitest';
import { Heartbeat, MISSED_INTERVALS, type Beating } from '../../../learner/server/heartbeat.js';
import { zeroMetrics } from '../../../learner/server/metrics.js';
import { CloseCode } from '../../../proto/wire.js';

class FakeConn implements Beating {
  readonly remoteAddress = '10.0.0.7';
  lastSeen = 0;
  nextPingAt = 0;
  closing = false;
  closed = false;
  canPing = true;
  pendingSends = 0;
  oldestMs = 0;
  pingThrows = false;
  readonly did: string[] = [];
  constructor(readonly actorId: string) {}
  oldestSendMs(): number {
    return this.oldestMs;
  }
  ping(): void {
    if (this.pingThrows) throw new Error('socket gone');
    this.did.push('ping');
  }
  terminate(): void {
    this.did.push('terminate');
  }
  close(code: number, reason: string): void {
    this.closing = true;
    this.did.push(`close ${code} ${reason}`);
  }
}

function setup(sendTimeoutMs = 500) {
  const conns: FakeConn[] = [];
  const warnings: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const logger = { warn: (obj: Record<string, unknown>, msg: string) => warnings.push({ obj, msg }) } as never;
  const m = zeroMetrics();
  const hb = new Heartbeat({ heartbeatMs: 100, sendTimeoutMs, connections: () => conns, metrics: m, logger });
  return { conns, warnings, m, hb };
}

describe('Heartbeat', () => {
  it(`terminates a connection silent for more than ${MISSED_INTERVALS} intervals`, () => {
    const { conns, m, hb } = setup();
    const c = new FakeConn('a');
    conns.push(c);
    hb.sweep(300); // exactly 3 intervals: still alive (and pinged)
    expect(c.did).toEqual(['ping']);
    hb.sweep(301);
    expect(c.did).toEqual(['ping', 'terminate']);
    expect(m.heartbeatTimeouts).toBe(1);
  });

  it('pings once per interval, not a peer whose buffer is full, and terminates one whose ping throws', () => {
    const { conns, m, hb } = setup();
    const [a, b, c] = [new FakeConn('a'), new FakeConn('b'), new FakeConn('c')];
    b.canPing = false;
    c.pingThrows = true;
    conns.push(a, b, c);
    for (const x of conns) x.lastSeen = 1000;
    hb.sweep(1000);
    hb.sweep(1050); // not due again yet
    hb.sweep(1100);
    expect(a.did).toEqual(['ping', 'ping']);
    expect(a.nextPingAt).toBe(1200);
    expect(b.did).toEqual([]);
    expect(b.nextPingAt).toBe(1200); // skipped this interval, tried again next one
    expect(c.did).toEqual(['terminate', 'terminate']);
    expect(m.pingsSent).toBe(2);
  });

  it('closes a connection whose oldest send is past the deadline with 4005 and logs the peer and the wait', () => {
    const { conns, warnings, m, hb } = setup(500);
    const [late, onTime] = [new FakeConn('late'), new FakeConn('on-time')];
    conns.push(late, onTime);
    late.oldestMs = 501;
    late.pendingSends = 3;
    onTime.oldestMs = 500;
    hb.sweep(0);
    expect(late.did).toEqual([`close ${CloseCode.SEND_TIMEOUT} a send did not complete within 500 ms`]);
    expect(onTime.did).toEqual(['ping']);
    expect(m.sendTimeouts).toBe(1);
    expect(warnings).toEqual([
      {
        obj: { actorId: 'late', remoteAddress: '10.0.0.7', waitedMs: 501, limitMs: 500, pendingSends: 3 },
        msg: 'a send to this actor did not complete in time (it stopped reading?): closing the connection',
      },
    ]);
    // Closing: not closed again on the next sweeps (the connection terminates it after its grace).
    hb.sweep(10);
    expect(m.sendTimeouts).toBe(1);
    expect(late.did).toHaveLength(1);
  });

  it('sendTimeoutMs 0 is no deadline', () => {
    const { conns, m, hb } = setup(0);
    const c = new FakeConn('a');
    c.oldestMs = 10_000_000;
    conns.push(c);
    hb.sweep(0);
    expect(c.did).toEqual(['ping']);
    expect(m.sendTimeouts).toBe(0);
  });

  it('skips closed connections and still terminates silent closing ones', () => {
    const { conns, hb } = setup();
    const [closed, closing] = [new FakeConn('a'), new FakeConn('b')];
    closed.closed = true;
    closing.closing = true;
    conns.push(closed, closing);
    hb.sweep(50);
    expect(closed.did).toEqual([]);
    expect(closing.did).toEqual([]); // no ping while closing
    hb.sweep(1000);
    expect(closed.did).toEqual([]);
    expect(closing.did).toEqual(['terminate']);
  });

  it('start/stop run the sweep on a timer', async () => {
    const { conns, m, hb } = setup();
    const c = new FakeConn('a');
    c.lastSeen = Number.POSITIVE_INFINITY; // never silent
    conns.push(c);
    hb.start();
    await new Promise((r) => setTimeout(r, 80));
    hb.stop();
    const pings = m.pingsSent;
    expect(pings).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 80));
    expect(m.pingsSent).toBe(pings);
  });
});
