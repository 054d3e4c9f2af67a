/** The outgoing side of one connection: control-frame cap (4004), bulk allowance, and the send clock. */
import { describe, expect, it } from 'vitest';
import { zeroMetrics } from '../../../learner/server/metrics.js';
import { Outgoing, type SendSocket } from '../../../learner/server/outgoing.js';

/** A socket that queues sends until `flush` and reports what it holds as `bufferedAmount`. */
function fakeSocket() {
  const queued: Array<{ bytes: Uint8Array; cb?: (err?: Error) => void }> = [];
  const s = {
    OPEN: 1,
    readyState: 1,
    get bufferedAmount() {
      return queued.reduce((n, q) => n + q.bytes.byteLength, 0);
    },
    send(bytes: Uint8Array, _opts: { binary: boolean }, cb?: (err?: Error) => void) {
      queued.push({ bytes, cb });
    },
    /** The kernel took the oldest `n` frames. */
    flush(n = queued.length) {
      for (const q of queued.splice(0, n)) q.cb?.();
    },
    queued,
  };
  return s satisfies SendSocket;
}

describe('Outgoing', () => {
  it('queues control frames while what waits is under the cap; past it refuses with slow-reader', () => {
    const ws = fakeSocket();
    const m = zeroMetrics();
    const out = new Outgoing(ws, { maxBufferedBytes: 100, metrics: m });
    // What is already queued decides: a frame larger than the cap still goes out when nothing waits.
    expect(out.send(new Uint8Array(150))).toBe('queued');
    const errors: string[] = [];
    expect(out.send(new Uint8Array(10), (e) => errors.push(e?.message ?? 'ok'))).toBe('slow-reader');
    expect(errors).toEqual(['peer is not reading']);
    expect(m).toMatchObject({ slowReaders: 1, bytesOut: 150 });
    expect(out.hasRoom).toBe(false);
    ws.flush();
    expect(out.hasRoom).toBe(true);
    expect(out.send(new Uint8Array(10))).toBe('queued');
    expect(m.bytesOut).toBe(160);
  });

  it('weights (bulk) are not capped here, and raise the control cap by two of the largest', () => {
    const ws = fakeSocket();
    const out = new Outgoing(ws, { maxBufferedBytes: 100, metrics: zeroMetrics() });
    expect(out.capBytes).toBe(100);
    expect(out.send(new Uint8Array(1000), undefined, true)).toBe('queued');
    expect(out.send(new Uint8Array(1000), undefined, true)).toBe('queued');
    expect(out.capBytes).toBe(2100);
    expect(out.send(new Uint8Array(50))).toBe('queued'); // 2000 waiting <= 2100
    expect(out.send(new Uint8Array(60))).toBe('queued'); // 2050 waiting <= 2100
    expect(out.send(new Uint8Array(1))).toBe('slow-reader'); // 2110 waiting
  });

  it('sends nothing on a socket that is not open', () => {
    const ws = fakeSocket();
    ws.readyState = 2;
    const m = zeroMetrics();
    const out = new Outgoing(ws, { maxBufferedBytes: 100, metrics: m });
    let err: Error | undefined;
    expect(out.send(new Uint8Array(5), (e) => (err = e))).toBe('not-open');
    expect(err?.message).toBe('connection is not open');
    expect(ws.queued).toHaveLength(0);
    expect(m.bytesOut).toBe(0);
  });

  it('times every send: the oldest one not taken by the socket, until its callback fires', () => {
    const ws = fakeSocket();
    let now = 1000;
    const out = new Outgoing(ws, { maxBufferedBytes: 1 << 20, metrics: zeroMetrics(), now: () => now });
    expect(out.oldestSendMs()).toBe(0);
    const done: string[] = [];
    out.send(new Uint8Array(1), () => done.push('a'));
    now += 300;
    out.send(new Uint8Array(1), () => done.push('b'));
    now += 200;
    expect(out.pendingSends).toBe(2);
    expect(out.oldestSendMs()).toBe(500);
    ws.flush(1);
    expect(done).toEqual(['a']); // the caller's callback still runs
    expect(out.oldestSendMs()).toBe(200);
    ws.flush();
    expect(out.pendingSends).toBe(0);
    expect(out.oldestSendMs()).toBe(0);
  });
});
