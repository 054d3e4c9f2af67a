/**
 * TensorBoard event files, written directly: TFRecord framing (length, masked CRC-32C of the length, the record,
 * masked CRC-32C of the record) around `tensorflow.Event` protobufs holding scalar summaries. TensorBoard reads
 * any `events.out.tfevents.*` file in the directory it is pointed at (`tensorboard --logdir RUN/tensorboard`).
 * The two protobuf messages needed are encoded by hand: a dependency on a protobuf runtime and TensorFlow's
 * .proto files would be larger than this file.
 */
import { closeSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RotationOptions } from '../rotating-file.js';
import type { MetricSink } from './sink.js';

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1; // Castagnoli polynomial, reflected
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli), as TFRecord uses. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC32C_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 and add a constant (checksums of checksums stay distinguishable). */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: u64 length, u32 masked CRC of the length bytes, data, u32 masked CRC of the data (little endian). */
export function tfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

function varint(n: number): number[] {
  const b: number[] = [];
  let v = BigInt(n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    b.push(byte);
  } while (v > 0n);
  return b;
}

function lengthDelimited(field: number, bytes: Uint8Array): number[] {
  return [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
}

/** `Summary.Value { tag = 1; simple_value = 2 }`. */
function scalarValue(tag: string, value: number): number[] {
  const f = Buffer.alloc(4);
  f.writeFloatLE(value, 0);
  return [...lengthDelimited(1, Buffer.from(tag, 'utf8')), (2 << 3) | 5, ...f];
}

/** `Event { wall_time = 1 (double); step = 2 (int64); file_version = 3 | summary = 5 }`. */
export function eventBytes(e: {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars?: Record<string, number>;
}): Uint8Array {
  const wt = Buffer.alloc(8);
  wt.writeDoubleLE(e.wallTime, 0);
  const out: number[] = [(1 << 3) | 1, ...wt, (2 << 3) | 0, ...varint(Math.max(0, Math.trunc(e.step)))];
  if (e.fileVersion !== undefined) out.push(...lengthDelimited(3, Buffer.from(e.fileVersion, 'utf8')));
  if (e.scalars) {
    const summary = Object.entries(e.scalars).flatMap(([tag, v]) =>
      lengthDelimited(1, Uint8Array.from(scalarValue(tag, v))),
    );
    out.push(...lengthDelimited(5, Uint8Array.from(summary)));
  }
  return Uint8Array.from(out);
}

/**
 * Scalars of every logged event, step = policy version, in `<dir>/events.out.tfevents.<time>.<host>.<pid>[.<n>]`.
 * With `rotate.maxBytes` > 0 a full file is closed and a new one started (TensorBoard reads them all, in name
 * order), and the oldest files in the directory, from this and earlier processes, are deleted while the others
 * exceed `keep` x maxBytes: the directory stays within (keep + 1) x maxBytes.
 */
export function tensorboardSink(
  dir: string,
  t0: number,
  rotate: RotationOptions = { maxBytes: 0, keep: 0 },
): MetricSink & { readonly path: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = `${Math.floor(t0 / 1000)}.${hostname()}.${process.pid}`;
  let piece = 0;
  let path = '';
  let fd: number | null = null;
  let size = 0;
  let fresh = true; // the current file holds only its header event
  const append = (bytes: Buffer) => {
    writeSync(fd!, bytes);
    size += bytes.length;
  };
  const start = (wallTime: number) => {
    path = join(dir, `events.out.tfevents.${stamp}${piece ? `.${String(piece).padStart(6, '0')}` : ''}`);
    fd = openSync(path, 'a');
    size = 0;
    fresh = true;
    append(tfRecord(eventBytes({ wallTime, step: 0, fileVersion: 'brain.Event:2' })));
    if (rotate.maxBytes > 0) prune(dir, path, rotate);
  };
  start(t0 / 1000);
  return {
    name: 'tensorboard',
    get path() {
      return path;
    },
    write(wall, version, values) {
      if (fd === null) return;
      const record = tfRecord(eventBytes({ wallTime: t0 / 1000 + wall, step: version, scalars: values }));
      // Rotate before a write that would pass the bound, so every file stays within maxBytes.
      if (rotate.maxBytes > 0 && !fresh && size + record.length > rotate.maxBytes) {
        closeSync(fd);
        piece++;
        start(t0 / 1000 + wall);
      }
      append(record);
      fresh = false;
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}

/** Deletes the oldest event files (by name: the time comes first) until the others fit in keep x maxBytes. */
function prune(dir: string, current: string, rotate: RotationOptions): void {
  const others = readdirSync(dir)
    .filter((n) => n.startsWith('events.out.tfevents.') && join(dir, n) !== current)
    .sort()
    .map((n) => ({ file: join(dir, n), size: statSync(join(dir, n)).size }));
  let total = others.reduce((a, f) => a + f.size, 0);
  for (const f of others) {
    if (total <= rotate.keep * rotate.maxBytes) break;
    unlinkSync(f.file);
    total -= f.size;
  }
}
