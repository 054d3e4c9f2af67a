/**
 * TensorBoard files parse back to the logged values: TFRecord frames are checked (lengths, masked CRC-32C) and
 * the events decoded with protobufjs from TensorFlow's message definitions — an independent decoder, so the
 * hand-written encoder cannot agree with itself by accident.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { crc32c, maskedCrc32c, tensorboardSink } from '../../../shared/metrics/tensorboard.js';

const root = protobuf.parse(`
syntax = "proto3";
package tensorflow;
message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    oneof value { float simple_value = 2; bytes obsolete_old_style_histogram = 3; }
  }
  repeated Value value = 1;
}
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what { string file_version = 3; bytes graph_def = 4; Summary summary = 5; }
}
`).root;
const Event = root.lookupType('tensorflow.Event');

function readRecords(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let o = 0;
  while (o < buf.length) {
    const len = Number(buf.readBigUInt64LE(o));
    expect(buf.readUInt32LE(o + 8)).toBe(maskedCrc32c(buf.subarray(o, o + 8)));
    const data = buf.subarray(o + 12, o + 12 + len);
    expect(buf.readUInt32LE(o + 12 + len)).toBe(maskedCrc32c(data));
    out.push(data);
    o += 12 + len + 4;
  }
  return out;
}

describe('tensorboard sink', () => {
  it('computes CRC-32C (RFC 3720 check value)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  });

  it('writes events that decode back to the logged scalars and steps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-tb-'));
    const t0 = 1_700_000_000_000;
    const sink = tensorboardSink(dir, t0);
    sink.write(1.5, 3, { 'train/loss': 0.25, 'eval/pass@1': 0.125 });
    sink.write(2.25, 300, { 'perf/update_ms': 1234.5 });
    sink.close!();
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^events\.out\.tfevents\.1700000000\./);
    const events = readRecords(readFileSync(join(dir, files[0]))).map((r) =>
      Event.toObject(Event.decode(r), { longs: Number }),
    );
    expect(events[0]).toMatchObject({ fileVersion: 'brain.Event:2', wallTime: 1_700_000_000 });
    expect(events[1].step).toBe(3);
    expect(events[1].wallTime).toBeCloseTo(1_700_000_001.5, 6);
    expect(events[1].summary.value).toEqual([
      { tag: 'train/loss', simpleValue: 0.25 },
      { tag: 'eval/pass@1', simpleValue: 0.125 },
    ]);
    expect(events[2].step).toBe(300);
    expect(events[2].summary.value).toEqual([{ tag: 'perf/update_ms', simpleValue: 1234.5 }]);
  });

  it('rotates by size: every piece is a readable event file, and old files go while the rest exceed keep x max', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-tb-'));
    // An earlier process's file, older by name (its time comes first): pruned before this process's pieces.
    writeFileSync(join(dir, 'events.out.tfevents.1600000000.host.1'), Buffer.alloc(3000));
    const maxBytes = 2000;
    const sink = tensorboardSink(dir, 1_700_000_000_000, { maxBytes, keep: 2 });
    for (let v = 1; v <= 200; v++) sink.write(v, v, { 'train/loss': v / 100, 'rollout/pass@1': 0.5 });
    sink.close!();
    const files = readdirSync(dir).sort();
    expect(files.some((f) => f.startsWith('events.out.tfevents.1600000000'))).toBe(false);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const sizes = files.map((f) => statSync(join(dir, f)).size);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3 * maxBytes);
    expect(files[files.length - 1]).toBe(sink.path.split('/').pop());
    // Read in name order, the kept pieces hold one contiguous run of steps ending at the last one written.
    const steps: number[] = [];
    for (const f of files) {
      const events = readRecords(readFileSync(join(dir, f))).map((r) =>
        Event.toObject(Event.decode(r), { longs: Number }),
      );
      expect(events[0].fileVersion).toBe('brain.Event:2');
      for (const e of events.slice(1)) steps.push(e.step);
    }
    expect(steps[steps.length - 1]).toBe(200);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, k) => 201 - steps.length + k));
  });

  it('maxBytes 0 keeps one growing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-tb-'));
    const sink = tensorboardSink(dir, 1_700_000_000_000, { maxBytes: 0, keep: 1 });
    for (let v = 1; v <= 200; v++) sink.write(v, v, { 'train/loss': v / 100 });
    sink.close!();
    expect(readdirSync(dir)).toHaveLength(1);
  });
});
