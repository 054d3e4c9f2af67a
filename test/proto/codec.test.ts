import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { ProtocolError, decode, decodeTrial, encode, trialDigest, verifyTrialDigest } from '../../proto/codec.js';
import { MessageSchema, fromTensor, toTensor, type Message, type Trial } from '../../proto/messages.js';
import { sampleMessages, sampleTrial } from './samples.js';

/** Byte arrays (Buffer vs Uint8Array) compared by content. */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') };
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

const hostilePackr = new Packr({ moreTypes: true, structuredClone: true, useRecords: true });
const plainPackr = new Packr({ useRecords: false });

const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
function protoIsClean(): boolean {
  return (
    Object.getOwnPropertyNames(Object.prototype).sort().join(',') === PROTO_KEYS &&
    ({} as Record<string, unknown>).polluted === undefined
  );
}

describe('codec round trips', () => {
  it('round-trips every message type', () => {
    const msgs = sampleMessages();
    const types = new Set(msgs.map((m) => m.type));
    expect(types.size).toBe(11); // every member of the union
    for (const m of msgs) {
      const r = decode(encode(m));
      if (!r.ok) throw new Error(`${m.type}: ${r.kind} ${r.reason}`);
      expect(normalize(r.msg)).toEqual(normalize(m));
    }
  });

  it('round-trips every typed array bit-exactly, including special values, through unaligned decoded buffers', () => {
    const f32 = new Float32Array([0, -0, 1.5, -3.25e-38, 3.4e38, Infinity, -Infinity, NaN, Math.fround(Math.PI)]);
    const i32 = new Int32Array([0, 1, -1, 2147483647, -2147483648, 123456]);
    const u8 = new Uint8Array([0, 1, 127, 128, 255]);
    for (const [arr, shape] of [
      [f32, [3, 3]],
      [i32, [6]],
      [u8, [5, 1]],
    ] as const) {
      const msg: Message = {
        type: 'policy',
        policyVersion: 1,
        learnerEpoch: 0,
        config: {},
        weights: toTensor(arr, [...shape]),
        sha256: '0'.repeat(64),
      };
      // Prefix a byte so the decoded bin starts at an odd offset inside the frame.
      const frame = encode(msg);
      const shifted = new Uint8Array(frame.byteLength + 1);
      shifted.set(frame, 1);
      const r = decode(shifted.subarray(1));
      if (!r.ok || r.msg.type !== 'policy') throw new Error('decode failed');
      const back = fromTensor(r.msg.weights);
      expect(back.constructor).toBe(arr.constructor);
      expect(back.byteOffset % 4).toBe(0);
      expect(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(arr.buffer))).toBe(true);
      expect(r.msg.weights.shape).toEqual([...shape]);
    }
  });

  it('toTensor copies its input and rejects a wrong shape; fromTensor copies out', () => {
    const src = new Int32Array([1, 2, 3, 4]);
    const t = toTensor(src, [2, 2]);
    src[0] = 99;
    expect(fromTensor(t)[0]).toBe(1);
    const out = fromTensor(t);
    out[1] = 77;
    expect(fromTensor(t)[1]).toBe(2);
    expect(() => toTensor(src, [3])).toThrow(/shape/);
  });

  it('keeps 2^40 sequence numbers as numbers; an explicitly undefined optional field stays unset', () => {
    const m = {
      type: 'ack',
      key: { runId: 'r', actorId: 'a', incarnation: 'i', seq: 2 ** 40 },
      status: 'committed',
      reason: undefined,
    } as Message;
    const r = decode(encode(m));
    expect(r.ok && r.msg.type === 'ack' && r.msg.key.seq).toBe(2 ** 40);
    expect(r.ok && r.msg.type === 'ack' && r.msg.reason).toBeUndefined();
    // ...but undefined (msgpack extension 0) never satisfies a required field.
    const bad = decode(plainPackr.pack({ type: 'bye', reason: undefined }));
    expect(!bad.ok && bad.kind).toBe('schema');
  });
});

describe('encode rejects invalid messages at the sender', () => {
  it('throws a ProtocolError naming the field', () => {
    const bad = { ...sampleTrial(1), rows: [{ ...sampleTrial(1).rows[0], reward: Number.NaN }] };
    expect(() => encode(bad as Message)).toThrow(ProtocolError);
    expect(() => encode(bad as Message)).toThrow(/rows\.0\.reward/);
    const wrongBytes = {
      type: 'policy',
      policyVersion: 1,
      learnerEpoch: 0,
      config: {},
      weights: { dtype: 'float32', shape: [3], data: new Uint8Array(8) },
      sha256: '0'.repeat(64),
    };
    expect(() => encode(wrongBytes as Message)).toThrow(/byte length/);
    try {
      encode({ type: 'nope' } as unknown as Message);
    } catch (e) {
      expect((e as ProtocolError).code).toBe('RL_ERR_PROTOCOL');
    }
  });
});

describe('decode of hostile input', () => {
  const good = encode(sampleMessages()[0]);

  it('classifies malformed msgpack as undecodable', () => {
    const cases: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array(0)],
      ['truncated', good.subarray(0, good.byteLength - 3)],
      ['trailing bytes', Buffer.concat([good, Buffer.from([0x01])])],
      ['huge str32 header', Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff])],
      ['huge array32 header', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff])],
      ['deep nesting 100k', Buffer.alloc(100_000, 0x91)],
    ];
    for (const [name, bytes] of cases) {
      const r = decode(bytes);
      expect(r.ok, name).toBe(false);
      expect(!r.ok && r.kind, name).toBe('undecodable');
    }
    // The decoder is still healthy after a stack overflow.
    expect(decode(good).ok).toBe(true);
  });

  it('rejects every exotic extension (Error, RegExp, Set, typed arrays, bigint, Date, cycles)', () => {
    const cyclic: Record<string, unknown> = { type: 'bye' };
    cyclic.self = cyclic;
    const values: unknown[] = [
      { type: 'bye', reason: new Error('x') },
      { type: 'bye', reason: /x/g },
      { type: 'bye', reason: new Set([1]) },
      { type: 'heartbeat', t: new Float32Array([1]) },
      { type: 'heartbeat', t: 2n ** 70n },
      { type: 'heartbeat', t: new Date(0) },
      cyclic,
      new Map([['type', 'bye']]),
    ];
    for (const v of values) {
      const r = decode(hostilePackr.pack(v));
      expect(r.ok).toBe(false);
    }
    // Each built-in ext code directly, with a small payload: all undecodable.
    for (const type of [0x01, 0x42, 0x62, 0x65, 0x69, 0x70, 0x72, 0x73, 0x74, 0x78, 0xff]) {
      const r = decode(Buffer.from([0xd6, type, 0x01, 0x02, 0x03, 0x04]));
      expect(!r.ok && r.kind, `ext ${type}`).toBe('undecodable');
    }
  });

  it('keeps Object.prototype clean and rejects __proto__/constructor keys', () => {
    const withProto = plainPackr.pack(JSON.parse('{"type":"bye","reason":"x","__proto__":{"polluted":1}}'));
    const withCtor = plainPackr.pack({ type: 'bye', reason: 'x', constructor: 'y' });
    for (const bytes of [withProto, withCtor]) {
      const r = decode(bytes);
      expect(!r.ok && r.kind).toBe('schema');
    }
    expect(protoIsClean()).toBe(true);
  });

  it('rejects the 0xC1 sentinel, wrong shapes, NaN rewards and unknown types as schema errors', () => {
    const t = sampleTrial(5);
    const cases: unknown[] = [
      { type: 'bye', reason: 'x', extra: 1 },
      { type: 'unknown' },
      { ...t, rows: [{ ...t.rows[0], reward: Number.NaN }] },
      { ...t, rows: [{ ...t.rows[0], prompt: { ...t.rows[0].prompt, shape: [t.rows[0].prompt.shape[0] + 1] } }] },
      { ...t, rows: [{ ...t.rows[0], prompt: { ...t.rows[0].prompt, dtype: 'float32' } }] },
      { ...t, key: { ...t.key, seq: -1 } },
      { ...t, key: { ...t.key, actorId: '../etc' } },
      {
        type: 'hello',
        protocol: 1,
        runId: 'r',
        actorId: 'a',
        incarnation: 'i',
        lastPolicyVersion: 1.5,
        lastLearnerEpoch: 0,
      },
    ];
    for (const v of cases) {
      const r = decode(plainPackr.pack(v));
      expect(!r.ok && r.kind).toBe('schema');
    }
    const c1 = decode(Buffer.from([0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xc1]));
    expect(c1.ok).toBe(false);
  });
});

describe('trial digest and decodeTrial', () => {
  it('verifies an optional end-to-end digest', () => {
    const t = sampleTrial(7);
    const signed: Trial = { ...t, sha256: trialDigest(t) };
    expect(verifyTrialDigest(signed)).toBe(true);
    expect(verifyTrialDigest(t)).toBe(true);
    expect(verifyTrialDigest({ ...signed, taskSeed: signed.taskSeed + 1 })).toBe(false);
    const back = decodeTrial(encode(signed));
    expect(back.ok && verifyTrialDigest(back.trial)).toBe(true);
    expect(decodeTrial(encode({ type: 'bye', reason: 'x' })).ok).toBe(false);
  });
});

describe('decode fuzzing (fast-check, fixed seed)', () => {
  const runs = Number(process.env.LAMER_FUZZ_RUNS ?? 10_000);
  const seed = 20240601;
  // A long run (LAMER_FUZZ_RUNS=1000000) needs more than the default 60 s per test: ~3 ms per run at worst here.
  const timeout = Math.max(60_000, runs * 5);
  const samples = sampleMessages().map(encode);

  /** decode must return (never throw), and `ok` must imply a schema-valid message. */
  function checkDecode(bytes: Uint8Array): void {
    let r: ReturnType<typeof decode>;
    try {
      r = decode(bytes);
    } catch (e) {
      throw new Error(`decode threw ${e instanceof Error ? 'an Error' : 'a non-Error'}: ${String(e)}`);
    }
    if (r.ok) expect(MessageSchema.safeParse(r.msg).success).toBe(true);
    else expect(['undecodable', 'schema']).toContain(r.kind);
    expect(protoIsClean()).toBe(true);
  }

  it(
    `survives ${runs} random byte strings`,
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => checkDecode(bytes)),
        { numRuns: runs, seed },
      );
    },
    timeout,
  );

  it(
    `survives ${runs} mutations of valid frames (byte flips, truncation, splices)`,
    () => {
      const mutation = fc.record({
        base: fc.integer({ min: 0, max: samples.length - 1 }),
        flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
        cut: fc.option(fc.nat()),
        splice: fc.option(fc.uint8Array({ maxLength: 16 })),
      });
      fc.assert(
        fc.property(mutation, ({ base, flips, cut, splice }) => {
          let bytes = Buffer.from(samples[base]);
          for (const f of flips) bytes[f.at % bytes.length] = f.value;
          if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1));
          if (splice !== null)
            bytes = Buffer.concat([bytes.subarray(0, bytes.length >> 1), splice, bytes.subarray(bytes.length >> 1)]);
          checkDecode(bytes);
        }),
        { numRuns: runs, seed },
      );
    },
    timeout,
  );

  it(
    `never accepts ${runs} arbitrary structured values packed with every msgpackr feature on`,
    () => {
      const typeNames = [
        'hello',
        'welcome',
        'lease',
        'leaseRequest',
        'trial',
        'ack',
        'policy',
        'credit',
        'heartbeat',
        'error',
        'bye',
      ];
      const value = fc.oneof(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withNullPrototype: true,
          withSparseArray: true,
          maxDepth: 4,
        }),
        fc
          .record({ type: fc.constantFrom(...typeNames) }, { requiredKeys: ['type'] })
          .chain((base) =>
            fc
              .dictionary(
                fc.string({ maxLength: 12 }),
                fc.anything({ withBigInt: true, withTypedArray: true, maxDepth: 2 }),
                { maxKeys: 6 },
              )
              .map((d) => ({ ...d, ...base })),
          ),
      );
      fc.assert(
        fc.property(value, fc.boolean(), (v, hostile) => {
          let bytes: Uint8Array;
          try {
            bytes = (hostile ? hostilePackr : plainPackr).pack(v);
          } catch {
            return; // not packable: nothing to decode
          }
          checkDecode(bytes);
          const r = decode(bytes);
          // A random value is accepted only if it really is a valid message.
          if (r.ok) expect(MessageSchema.safeParse(v).success).toBe(true);
        }),
        { numRuns: runs, seed },
      );
    },
    timeout,
  );

  it(
    `rejects ${Math.floor(runs / 10)} schema-invalid edits of valid messages`,
    () => {
      const msgs = sampleMessages();
      const edit = fc.record({
        base: fc.integer({ min: 0, max: msgs.length - 1 }),
        kind: fc.constantFrom('extraKey', 'dropType', 'wrongType', 'nanNumber'),
        key: fc.string({ minLength: 1, maxLength: 8 }),
      });
      fc.assert(
        fc.property(edit, ({ base, kind, key }) => {
          const m = { ...(msgs[base] as Record<string, unknown>) };
          if (kind === 'extraKey') {
            if (key in m) return;
            m[key] = 1;
          }
          if (kind === 'dropType') delete m.type;
          if (kind === 'wrongType') m.type = key;
          if (kind === 'nanNumber') {
            const numeric = Object.keys(m).find((k) => typeof m[k] === 'number');
            if (!numeric) return;
            m[numeric] = Number.NaN;
          }
          if (kind === 'wrongType' && typeNames(key)) return;
          const r = decode(plainPackr.pack(m));
          expect(r.ok).toBe(false);
        }),
        { numRuns: Math.floor(runs / 10), seed },
      );
    },
    timeout,
  );
});

function typeNames(k: string): boolean {
  return [
    'hello',
    'welcome',
    'lease',
    'leaseRequest',
    'trial',
    'ack',
    'policy',
    'credit',
    'heartbeat',
    'error',
    'bye',
  ].includes(k);
}
