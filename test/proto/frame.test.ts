/**
 * The structural pre-pass (proto/frame.ts) must agree with a real msgpack decoder on what one well-formed value is,
 * read the top-level `type` the decoder would see, and enforce its depth and value limits exactly.
 */
import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { scanFrame } from '../../proto/frame.js';

const RUNS = Number(process.env.LAMER_FUZZ_RUNS ?? 2000);
const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const loose = { maxDepth: 1 << 20, maxValues: 1 << 30 };
const json = fc.jsonValue({ maxDepth: 6 });

describe('scanFrame', () => {
  it('accepts every packed JSON-like value and reads the top-level type', () => {
    fc.assert(
      fc.property(json, fc.option(fc.string({ maxLength: 20 }), { nil: undefined }), (v, type) => {
        const value =
          type === undefined ? v : { ...(typeof v === 'object' && v && !Array.isArray(v) ? v : { v }), type };
        const scan = scanFrame(packr.pack(value), loose);
        expect(scan.ok).toBe(true);
        if (scan.ok) expect(scan.type).toBe(type);
      }),
      { numRuns: RUNS, seed: 5 },
    );
  });

  it('refuses exactly what does not decode as one value: truncations, trailing bytes, the never-used byte', () => {
    fc.assert(
      fc.property(json, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 }), (v, cutAt, tail) => {
        const bytes = packr.pack(v);
        const cut = bytes.subarray(0, cutAt % bytes.length);
        expect(scanFrame(cut, loose).ok).toBe(false);
        expect(scanFrame(Buffer.concat([bytes, tail]), loose).ok).toBe(false);
      }),
      { numRuns: RUNS, seed: 6 },
    );
    expect(scanFrame(Buffer.from([0xc1]), loose)).toEqual({ ok: false, reason: 'invalid msgpack byte 0xc1' });
    expect(scanFrame(Buffer.alloc(0), loose).ok).toBe(false);
  });

  it('agrees with msgpackr on arbitrary bytes: whatever it accepts, msgpackr decodes as exactly one value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        if (!scanFrame(bytes, loose).ok) return;
        // msgpackr may still refuse (extension types, invalid UTF-8 are its business), but never over the structure.
        try {
          unpackr.unpack(bytes);
        } catch (e) {
          expect((e as Error).message).not.toMatch(/Unexpected end|Data read, but end of buffer not reached/);
        }
      }),
      { numRuns: RUNS, seed: 7 },
    );
  });

  it('enforces depth and value limits exactly', () => {
    const nested = (d: number) => Buffer.concat([Buffer.alloc(d, 0x91), Buffer.from([0x01])]); // [[[...1]]]
    expect(scanFrame(nested(32), { maxDepth: 32, maxValues: 100 })).toMatchObject({ ok: true, depth: 32, values: 33 });
    expect(scanFrame(nested(33), { maxDepth: 32, maxValues: 100 })).toEqual({
      ok: false,
      reason: 'nesting deeper than 32',
    });
    expect(scanFrame(nested(32), { maxDepth: 64, maxValues: 32 })).toEqual({
      ok: false,
      reason: 'more than 32 values in one frame',
    });
    // A container header claiming more elements than there are bytes is refused at once, without a loop.
    expect(scanFrame(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), loose)).toEqual({
      ok: false,
      reason: 'truncated msgpack',
    });
    // Strings, bins and extension payloads are skipped by length, not walked.
    const big = packr.pack({ type: 'trial', data: Buffer.alloc(1 << 20) });
    expect(scanFrame(big, { maxDepth: 4, maxValues: 8 })).toMatchObject({ ok: true, type: 'trial', values: 5 });
  });
});
