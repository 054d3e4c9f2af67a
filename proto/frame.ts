/**
 * A structural pre-pass over a msgpack frame that allocates nothing per value: it walks the headers (skipping
 * string, bin and extension payloads by their length), bounds nesting depth and the number of values, checks that
 * exactly one value fills the frame, and reads the top-level map's `type` string on the way.
 *
 * Why: unpacking and schema validation cost far more than the frame's bytes suggest (1 MiB of empty arrays is
 * ~200 ms of msgpackr plus zod), and a value nested thousands deep overflows the stack of recursive validators.
 * With this pass a receiver knows a frame's type and shape, at the cost of one pass over its headers, before it
 * decides to decode it.
 */

export interface FrameLimits {
  /** Containers nested deeper than this are refused (a valid message needs 6; JSON options a few more). */
  maxDepth: number;
  /** Values (scalars, strings, containers; a map entry counts two) beyond this are refused. */
  maxValues: number;
}

export type FrameScan =
  | {
      ok: true /** The top-level map's `type` string, if any. */;
      type: string | undefined;
      depth: number;
      values: number;
    }
  | { ok: false; reason: string };

const TYPE_KEY = [0x74, 0x79, 0x70, 0x65]; // 'type'
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Scans one msgpack value that must fill `b` exactly; never throws. */
export function scanFrame(b: Uint8Array, limits: FrameLimits): FrameScan {
  const n = b.length;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  /** Remaining values of each open container, innermost last. */
  const stack: number[] = [];
  let pos = 0;
  let values = 0;
  let depth = 0;
  let topIsMap = false;
  let topEntry = 0;
  let typeNext = false;
  let type: string | undefined;

  for (;;) {
    if (pos >= n) return { ok: false, reason: 'truncated msgpack' };
    if (++values > limits.maxValues) return { ok: false, reason: `more than ${limits.maxValues} values in one frame` };
    const inTopMap = topIsMap && stack.length === 1;
    const isKey = inTopMap && topEntry % 2 === 0;
    if (inTopMap) topEntry++;
    const h = b[pos++];
    let count = -1; // container element count (map: 2 per entry)
    let strLen = -1;
    let skip = 0;
    if (h <= 0x7f || h >= 0xe0 || h === 0xc0 || h === 0xc2 || h === 0xc3) skip = 0;
    else if (h >= 0x80 && h <= 0x8f) count = 2 * (h & 0x0f);
    else if (h >= 0x90 && h <= 0x9f) count = h & 0x0f;
    else if (h >= 0xa0 && h <= 0xbf) strLen = h & 0x1f;
    else {
      const need = (k: number) => pos + k <= n;
      switch (h) {
        case 0xc4:
        case 0xd9:
          if (!need(1)) return trunc();
          skip = b[pos];
          pos += 1;
          if (h === 0xd9) {
            strLen = skip;
            skip = 0;
          }
          break;
        case 0xc5:
        case 0xda:
          if (!need(2)) return trunc();
          skip = dv.getUint16(pos);
          pos += 2;
          if (h === 0xda) {
            strLen = skip;
            skip = 0;
          }
          break;
        case 0xc6:
        case 0xdb:
          if (!need(4)) return trunc();
          skip = dv.getUint32(pos);
          pos += 4;
          if (h === 0xdb) {
            strLen = skip;
            skip = 0;
          }
          break;
        case 0xc7:
          if (!need(1)) return trunc();
          skip = b[pos] + 1;
          pos += 1;
          break; // ext8: len, type, data
        case 0xc8:
          if (!need(2)) return trunc();
          skip = dv.getUint16(pos) + 1;
          pos += 2;
          break;
        case 0xc9:
          if (!need(4)) return trunc();
          skip = dv.getUint32(pos) + 1;
          pos += 4;
          break;
        case 0xca:
          skip = 4;
          break;
        case 0xcb:
          skip = 8;
          break;
        case 0xcc:
        case 0xd0:
          skip = 1;
          break;
        case 0xcd:
        case 0xd1:
          skip = 2;
          break;
        case 0xce:
        case 0xd2:
          skip = 4;
          break;
        case 0xcf:
        case 0xd3:
          skip = 8;
          break;
        case 0xd4:
          skip = 2;
          break; // fixext1: type + 1
        case 0xd5:
          skip = 3;
          break;
        case 0xd6:
          skip = 5;
          break;
        case 0xd7:
          skip = 9;
          break;
        case 0xd8:
          skip = 17;
          break;
        case 0xdc:
          if (!need(2)) return trunc();
          count = dv.getUint16(pos);
          pos += 2;
          break;
        case 0xdd:
          if (!need(4)) return trunc();
          count = dv.getUint32(pos);
          pos += 4;
          break;
        case 0xde:
          if (!need(2)) return trunc();
          count = 2 * dv.getUint16(pos);
          pos += 2;
          break;
        case 0xdf:
          if (!need(4)) return trunc();
          count = 2 * dv.getUint32(pos);
          pos += 4;
          break;
        default:
          return { ok: false, reason: `invalid msgpack byte 0x${h.toString(16)}` }; // 0xc1
      }
    }
    if (strLen >= 0) {
      if (pos + strLen > n) return trunc();
      if (isKey) typeNext = strLen === 4 && TYPE_KEY.every((c, i) => b[pos + i] === c);
      else if (inTopMap && typeNext && strLen <= 64) type = utf8.decode(b.subarray(pos, pos + strLen));
      pos += strLen;
    } else {
      if (pos + skip > n) return trunc();
      pos += skip;
    }
    if (inTopMap && !isKey) typeNext = false;
    if (count >= 0) {
      if (stack.length === 0) topIsMap = (h >= 0x80 && h <= 0x8f) || h === 0xde || h === 0xdf;
      if (stack.length + 1 > limits.maxDepth) return { ok: false, reason: `nesting deeper than ${limits.maxDepth}` };
      if (count > n - pos) return trunc(); // every value takes at least one byte
      if (count > 0) {
        stack.push(count);
        depth = Math.max(depth, stack.length);
        continue;
      }
    }
    // A value is complete: close every container it completes.
    while (stack.length > 0 && --stack[stack.length - 1] === 0) stack.pop();
    if (stack.length === 0) break;
  }
  if (pos !== n) return { ok: false, reason: `${n - pos} trailing bytes after the message` };
  return { ok: true, type, depth, values };
}

function trunc(): FrameScan {
  return { ok: false, reason: 'truncated msgpack' };
}
