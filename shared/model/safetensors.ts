/**
 * Our own small safetensors reader/writer (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * header length, a JSON header `{name: {dtype, shape, data_offsets}, __metadata__?}`, then the data bytes.
 * The reader checks everything it trusts: header length, JSON shape, dtypes, shapes against byte sizes, and
 * that offsets are in bounds, contiguous and cover the whole buffer (as the reference implementation does).
 * Tensors read back are fresh copies: they never alias the input bytes.
 */
import { endianness } from 'node:os';
import { LamerError } from '../errors.js';

export type SafeDType = 'F32' | 'F64' | 'I32' | 'I64';
type TypedFor = Float32Array | Float64Array | Int32Array | BigInt64Array;

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: TypedFor;
}

const ITEM: Record<SafeDType, number> = { F32: 4, F64: 8, I32: 4, I64: 8 };
const MAX_HEADER = 100 * 1024 * 1024;

function fail(msg: string): never {
  throw new LamerError('RL_ERR_CHECKPOINT', `safetensors: ${msg}`);
}

function checkHost(): void {
  if (endianness() !== 'LE') fail('only little-endian hosts are supported');
}

function dtypeOf(data: TypedFor): SafeDType {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof BigInt64Array) return 'I64';
  return fail('unsupported typed array');
}

/** Serialises tensors in the given order (header padded with spaces so the data starts 8-byte aligned). */
export function writeSafetensors(
  tensors: Iterable<[string, SafeTensor]>,
  metadata?: Record<string, string>,
): Uint8Array {
  checkHost();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const parts: Array<Uint8Array> = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__' || Object.hasOwn(header, name)) fail(`duplicate or reserved tensor name '${name}'`);
    const dtype = dtypeOf(t.data);
    if (dtype !== t.dtype) fail(`tensor '${name}': dtype ${t.dtype} does not match its ${t.data.constructor.name}`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) fail(`tensor '${name}': shape [${t.shape}] has ${n} elements, data has ${t.data.length}`);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    Object.defineProperty(header, name, {
      value: { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const pad = (8 - ((8 + Buffer.byteLength(json)) % 8)) % 8;
  json += ' '.repeat(pad);
  const hb = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/** Parses and validates a safetensors file. Tensors come back in file (offset) order. */
export function readSafetensors(
  bytes: Uint8Array,
  what = 'file',
): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  checkHost();
  const bad = (msg: string): never => fail(`${what}: ${msg}`);
  if (bytes.length < 8) bad(`too short (${bytes.length} bytes)`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) bad(`header length ${n64} exceeds the ${MAX_HEADER}-byte limit`);
  const n = Number(n64);
  if (8 + n > bytes.length) bad(`header length ${n} runs past the end of the ${bytes.length}-byte file`);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8'));
  } catch (e) {
    bad(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) bad('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const items: Array<{ name: string; dtype: SafeDType; shape: number[]; begin: number; end: number }> = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
        bad('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') bad(`__metadata__.${k} must be a string`);
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof info !== 'object' || info === null) bad(`tensor '${name}' has no info object`);
    const dtype = info!.dtype;
    if (typeof dtype !== 'string' || !(dtype in ITEM))
      bad(`tensor '${name}' has unsupported dtype ${JSON.stringify(dtype)} (F32, F64, I32, I64 are supported)`);
    const shape = info!.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      bad(`tensor '${name}' has an invalid shape`);
    const offs = info!.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0))
      bad(`tensor '${name}' has invalid data_offsets`);
    const [begin, end] = offs as [number, number];
    if (begin > end || end > dataLen)
      bad(`tensor '${name}' data_offsets [${begin}, ${end}] are outside the ${dataLen}-byte data section`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (count * ITEM[dtype as SafeDType] !== end - begin) {
      bad(
        `tensor '${name}' shape [${shape}] of ${dtype} ` +
          `needs ${count * ITEM[dtype as SafeDType]} bytes, offsets give ${end - begin}`,
      );
    }
    items.push({ name, dtype: dtype as SafeDType, shape: shape as number[], begin, end });
  }
  items.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expect = 0;
  for (const it of items) {
    if (it.begin !== expect)
      bad(`tensor '${it.name}' starts at ${it.begin}, expected ${expect} (overlap or hole in the data section)`);
    expect = it.end;
  }
  if (expect !== dataLen) bad(`data section has ${dataLen} bytes but tensors cover ${expect}`);
  const tensors = new Map<string, SafeTensor>();
  for (const it of items) {
    // Uint8Array.prototype.slice copies even when `bytes` is a Buffer (whose own slice is a view of a shared pool).
    const copy = Uint8Array.prototype.slice.call(bytes, dataStart + it.begin, dataStart + it.end).buffer;
    const data =
      it.dtype === 'F32'
        ? new Float32Array(copy)
        : it.dtype === 'F64'
          ? new Float64Array(copy)
          : it.dtype === 'I32'
            ? new Int32Array(copy)
            : new BigInt64Array(copy);
    tensors.set(it.name, { dtype: it.dtype, shape: it.shape, data });
  }
  return { tensors, metadata };
}
