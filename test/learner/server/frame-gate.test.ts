/** The inbound door of one connection: each verdict's close code, reason and counter, and the decode budget. */
import { describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { FrameGate, admitFrame } from '../../../learner/server/frame-gate.js';
import { zeroMetrics } from '../../../learner/server/metrics.js';
import { encode } from '../../../proto/codec.js';
import { LIMITS } from '../../../proto/messages.js';
import { CloseCode } from '../../../proto/wire.js';
import { sampleKey, sampleTrial } from '../../proto/samples.js';
import { hello } from '../harness.js';

const plain = new Packr({ useRecords: false });
const bin = (x: Uint8Array) => Buffer.from(x);

describe('admitFrame', () => {
  it('refuses by type, phase and size alone', () => {
    expect(admitFrame('hello', 'hello', 100)).toBeNull();
    expect(admitFrame('hello', 'trial', 100)).toBe("expected hello, got 'trial'");
    expect(admitFrame('ready', 'hello', 100)).toBe('duplicate hello');
    expect(admitFrame('ready', 'policy', 100)).toBe("actors may not send 'policy'");
    expect(admitFrame('ready', 'x'.repeat(100), 1)).toBe(`actors may not send '${'x'.repeat(64)}'`);
    expect(admitFrame('ready', 'trial', LIMITS.smallFrameBytes * 4)).toBeNull();
    expect(admitFrame('ready', 'heartbeat', LIMITS.smallFrameBytes + 1)).toMatch(/'heartbeat' frame of \d+ bytes/);
    expect(admitFrame('ready', undefined, 10)).toBeNull(); // no type: the schema says what is wrong
  });
});

describe('FrameGate', () => {
  it('passes a valid frame with its exact bytes, and gives each refusal its documented code and counter', () => {
    const m = zeroMetrics();
    const gate = new FrameGate({ decodeBudgetMs: 1_000_000, metrics: m });
    const h = bin(encode(hello('a')));
    const ok = gate.check(h, true, 'hello');
    expect(ok).toMatchObject({ ok: true, msg: { type: 'hello', actorId: 'a' } });
    expect(ok.ok && ok.bytes).toBe(h);
    expect(gate.check(bin(encode({ type: 'heartbeat', t: 1 })), false, 'ready')).toEqual({
      ok: false,
      code: CloseCode.UNSUPPORTED_DATA,
      reason: 'binary frames only',
      explain: false,
    });
    const trial = sampleTrial(1, sampleKey(0));
    expect(gate.check(bin(encode(trial)), true, 'hello')).toMatchObject({
      ok: false,
      code: CloseCode.POLICY_VIOLATION,
      reason: "expected hello, got 'trial'",
      explain: true,
    });
    expect(gate.check(Buffer.from([0x91]), true, 'ready')).toMatchObject({
      code: CloseCode.INVALID_PAYLOAD,
      reason: 'undecodable frame: truncated msgpack',
    });
    expect(gate.check(bin(plain.pack({ type: 'heartbeat', t: 'x' })), true, 'ready')).toMatchObject({
      code: CloseCode.POLICY_VIOLATION,
      reason: expect.stringMatching(/^schema: /),
    });
    expect(m).toMatchObject({ textFrames: 1, protocolErr: 1, decodeErr: 1, schemaErr: 1, decodeBudgetExceeded: 0 });
    expect(m.bytesIn).toBeGreaterThan(h.byteLength); // every binary frame is counted, refused ones too
  });

  it('charges decode time against a per-second budget and refuses once it is spent, until it refills', () => {
    let now = 0;
    const m = zeroMetrics();
    // This clock advances 5 ms on every read, so each decode "takes" 5 ms; the budget is 10 ms per second.
    const gate = new FrameGate({
      decodeBudgetMs: 10,
      metrics: m,
      now: () => {
        now += 5;
        return now;
      },
    });
    const frame = bin(encode({ type: 'heartbeat', t: 1 }));
    const verdicts: boolean[] = [];
    for (let i = 0; i < 5; i++) verdicts.push(gate.check(frame, true, 'ready').ok);
    // 10 ms of credit, refilled by 0.05 ms between frames: 10 -> 5.05 -> 0.1 -> -4.85, then refused.
    expect(verdicts.slice(0, 3)).toEqual([true, true, true]);
    expect(verdicts[3]).toBe(false);
    expect(gate.check(frame, true, 'ready')).toMatchObject({
      ok: false,
      code: CloseCode.POLICY_VIOLATION,
      reason: 'decode budget exceeded',
    });
    expect(m.decodeBudgetExceeded).toBeGreaterThanOrEqual(2);
    now += 5000; // a quiet while refills the bucket (up to one second's worth)
    expect(gate.check(frame, true, 'ready').ok).toBe(true);
  });
});
