/**
 * The project's only msgpackr user, configured per docs/design.md §8.2:
 * - every extension type except 0 (`undefined`) decodes to an error (Error/RegExp/Set/typed-array/bigint/
 *   structured-clone/timestamp extensions would otherwise materialise exotic objects from network bytes;
 *   `addExtension` is module-global, which is why no other module may import msgpackr);
 * - `useRecords:false`, `structuredClone:false`, `int64AsType:'number'`: plain maps, no cycles, no bigint;
 * - typed data travels only as `bin` inside a Tensor (see messages.ts), never as msgpackr typed-array extensions,
 *   which corrupt typed arrays with default options (docs/design.md §8.2).
 * Decoding first scans the frame's structure (proto/frame.ts: depth, value count, the `type`), so a receiver can
 * refuse a frame by its type and size before paying for unpacking, and validates with the strict zod schemas
 * before any other code touches the value. Neither direction throws on any input.
 */
import { createHash } from 'node:crypto';
import { Packr, Unpackr, addExtension } from 'msgpackr';
import { scanFrame } from './frame.js';
import { LIMITS, MessageSchema, type Message, type Trial } from './messages.js';

/**
 * Thrown by {@link encode} for a message that violates the schema. Shaped like a LamerError (code
 * RL_ERR_PROTOCOL, see shared/errors.ts) without importing it: proto/ depends only on zod and msgpackr.
 */
export class ProtocolError extends Error {
  readonly code = 'RL_ERR_PROTOCOL' as const;
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

// Extension 0 stays: it is msgpackr's encoding of `undefined` (an explicitly unset optional field), which the
// schemas treat like an absent key. Stripping undefined before packing instead (skipValues) doubles pack time.
for (let type = 1; type < 256; type++) {
  addExtension({
    type,
    unpack: () => {
      throw new Error(`msgpack extension type ${type} is not accepted`);
    },
  });
}

const packr = new Packr({ useRecords: false, structuredClone: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, structuredClone: false, mapsAsObjects: true, int64AsType: 'number' });

/**
 * Outcome of {@link decode}: never throws, and `ok` implies the value passed the strict schema. `refused`: the
 * caller's `admit` turned the frame down by its type and size, before it was unpacked.
 */
export type DecodeResult =
  | { ok: true; msg: Message }
  | { ok: false; kind: 'undecodable' | 'schema' | 'refused'; reason: string; type?: string };

export interface DecodeOptions {
  /**
   * Sees the frame's top-level `type` (undefined if it has none) and byte length after the structural scan and
   * before anything is unpacked; a returned reason refuses the frame.
   */
  admit?: (type: string | undefined, byteLength: number) => string | null;
  /**
   * Values one frame may hold (default: unbounded). The learner passes {@link LIMITS}.frameValues for actor frames;
   * an actor leaves it open, since a welcome's committed marks may legitimately list millions of seqs.
   */
  maxValues?: number;
}

function firstIssue(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  const i = issues[0];
  if (!i) return 'invalid message';
  const path = i.path.map(String).join('.');
  return path ? `${path}: ${i.message}` : i.message;
}

/**
 * Validates `msg` against the schema and encodes it. Throws a {@link ProtocolError} naming the first
 * problem: a sender bug is caught at its source instead of closing the connection at the peer.
 */
export function encode(msg: Message): Uint8Array {
  const what = `cannot encode ${String((msg as { type?: unknown })?.type ?? 'message').slice(0, 64)}`;
  let r: ReturnType<typeof MessageSchema.safeParse>;
  try {
    r = MessageSchema.safeParse(msg);
  } catch (e) {
    throw new ProtocolError(`${what}: ${e instanceof Error ? e.message : 'validation failed'}`);
  }
  if (!r.success) throw new ProtocolError(`${what}: ${firstIssue(r.error.issues)}`);
  const bytes = packr.pack(msg);
  // The peer decodes with the same structural limits: a value it would refuse (free-form JSON nested too deep, in
  // the only types that carry any) fails here, at its source.
  if (msg.type === 'lease' || msg.type === 'policy') {
    const scan = scanFrame(bytes, { maxDepth: LIMITS.nesting, maxValues: Number.MAX_SAFE_INTEGER });
    if (!scan.ok) throw new ProtocolError(`${what}: ${scan.reason}`);
  }
  return bytes;
}

/**
 * Decodes and validates one frame. `undecodable`: not well-formed msgpack for us (truncated, trailing bytes,
 * extensions, nesting too deep); `schema`: well-formed but not a valid message. The reason never quotes the
 * raw value.
 */
export function decode(bytes: Uint8Array, opts: DecodeOptions = {}): DecodeResult {
  const scan = scanFrame(bytes, { maxDepth: LIMITS.nesting, maxValues: opts.maxValues ?? Number.MAX_SAFE_INTEGER });
  if (!scan.ok) return { ok: false, kind: 'undecodable', reason: scan.reason };
  const refused = opts.admit?.(scan.type, bytes.byteLength);
  if (refused)
    return { ok: false, kind: 'refused', reason: refused, ...(scan.type === undefined ? {} : { type: scan.type }) };
  let raw: unknown;
  try {
    raw = unpackr.unpack(bytes);
  } catch (e) {
    // Extension types and anything else the decoder refuses; non-Error throws land here too.
    return { ok: false, kind: 'undecodable', reason: e instanceof Error ? e.message.slice(0, 200) : 'decoder failure' };
  }
  try {
    const r = MessageSchema.safeParse(raw);
    if (!r.success) return { ok: false, kind: 'schema', reason: firstIssue(r.error.issues) };
    return { ok: true, msg: r.data };
  } catch (e) {
    // Defence in depth: the scan bounds nesting, but no validator exception may escape a decode.
    return { ok: false, kind: 'schema', reason: e instanceof Error ? e.message.slice(0, 200) : 'validation failure' };
  }
}

/** sha256 (hex) of the encoding of `t` without its `sha256` field: the optional end-to-end trial digest. */
export function trialDigest(t: Trial): string {
  const { sha256: _omit, ...rest } = t;
  return createHash('sha256').update(encode(rest)).digest('hex');
}

/** True when `t` carries no digest or a digest that matches its content. */
export function verifyTrialDigest(t: Trial): boolean {
  return t.sha256 === undefined || t.sha256 === trialDigest(t);
}

/** Re-validates a value as a trial record (for records read back from the ledger or an outbox file). */
export function decodeTrial(bytes: Uint8Array): { ok: true; trial: Trial } | { ok: false; reason: string } {
  const r = decode(bytes);
  if (!r.ok) return { ok: false, reason: `${r.kind}: ${r.reason}` };
  if (r.msg.type !== 'trial') return { ok: false, reason: `expected a trial record, got '${r.msg.type}'` };
  return { ok: true, trial: r.msg };
}

/** sha256 (hex) of raw bytes: the policy weights checksum and the ledger's content hash. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
