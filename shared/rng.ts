/**
 * The seeded random streams: everything that must replay exactly from a seed. Two generators, both seeded through
 * splitmix32 and deterministic across platforms (32-bit integer arithmetic only); neither is cryptographic, and
 * neither may change its algorithm (saved tasks, test values and sampled tokens depend on the streams):
 *
 * - {@link createRng} (sfc32, a 128-bit state, passes PractRand to terabytes): task generation, scripted policies,
 *   schedules; its state can be saved and restored, and {@link deriveSeed} makes sub-seeds from numbers and strings.
 * - {@link Xoshiro128Rng} (xoshiro128**): the model's parameter init and token sampling (53-bit uniforms and
 *   Box–Muller normals).
 */
import { badInput } from './errors.js';

/** A seeded random stream. All methods advance the same state. */
export interface Rng {
  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** Uniform integer in [0, n); `n` must be a positive integer. */
  int(n: number): number;
  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T;
  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[];
  /** The 4-word state, for checkpoints (`createRngFromState` restores it). */
  getState(): [number, number, number, number];
}

const TWO_POW_32 = 4294967296;

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function checkSeed(seed: number): void {
  if (!Number.isFinite(seed)) throw badInput(`rng seed must be a finite number, got ${String(seed)}`);
}

/** Folds any finite number (also above 2^32 or fractional) into 32 bits without losing the high part. */
function foldSeed(seed: number): number {
  if (Number.isInteger(seed) && seed >= 0 && seed < TWO_POW_32) return seed;
  return deriveSeed(seed);
}

/** Creates a stream from a seed; equal seeds give equal streams on every platform. */
export function createRng(seed: number): Rng {
  checkSeed(seed);
  const mix = splitmix32(foldSeed(seed));
  const state: [number, number, number, number] = [mix(), mix(), mix(), mix()];
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[3] = 1;
  return rngFromState(state);
}

/** Restores a stream saved with `getState()`. */
export function createRngFromState(saved: readonly number[]): Rng {
  if (saved.length !== 4 || saved.some((v) => !Number.isInteger(v) || v < 0 || v >= TWO_POW_32)) {
    throw badInput('rng state must be 4 unsigned 32-bit integers');
  }
  return rngFromState([saved[0], saved[1], saved[2], saved[3]]);
}

function rngFromState(s: [number, number, number, number]): Rng {
  let [a, b, c, d] = s;
  const nextU32 = (): number => {
    // sfc32
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  const next = (): number => nextU32() / TWO_POW_32;
  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0) throw badInput(`rng.int(n) needs a positive integer, got ${String(n)}`);
    if (n <= TWO_POW_32) {
      // Rejection sampling keeps the result exactly uniform for every n.
      const limit = TWO_POW_32 - (TWO_POW_32 % n);
      for (;;) {
        const x = nextU32();
        if (x < limit) return x % n;
      }
    }
    return Math.floor(next() * n);
  };
  return {
    next,
    int,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw badInput('rng.pick needs a non-empty array');
      return items[int(items.length)];
    },
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const tmp = items[i];
        items[i] = items[j];
        items[j] = tmp;
      }
      return items;
    },
    getState: () => [a, b, c, d],
  };
}

/**
 * Derives a 32-bit sub-seed from any mix of numbers and strings, e.g. `deriveSeed(taskSeed, 'firstClick')`.
 * Order matters and ('ab') differs from ('a', 'b'). Numbers hash by their exact float64 bits.
 */
export function deriveSeed(...parts: Array<number | string>): number {
  let h = 0x811c9dc5;
  const mixWord = (w: number) => {
    h = Math.imul(h ^ (w >>> 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  };
  const view = new DataView(new ArrayBuffer(8));
  for (const part of parts) {
    if (typeof part === 'number') {
      checkSeed(part);
      view.setFloat64(0, part === 0 ? 0 : part); // -0 and 0 hash alike
      mixWord(0x6e756d); // type tag 'num'
      mixWord(view.getUint32(0));
      mixWord(view.getUint32(4));
    } else {
      mixWord(0x737472); // type tag 'str'
      mixWord(part.length);
      for (let i = 0; i < part.length; i++) mixWord(part.charCodeAt(i));
    }
  }
  // Final avalanche (murmur3 fmix32).
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * xoshiro128** seeded through splitmix32: parameter init and sampling of the model (shared/model/). Unlike
 * {@link createRng} it throws a plain RangeError on a bad seed.
 */
export class Xoshiro128Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  /** Any finite number works as a seed; the integer part (both 32-bit halves) selects the stream. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    const lo = Math.trunc(seed) >>> 0;
    const hi = Math.floor(Math.trunc(seed) / 4294967296) >>> 0;
    let x = (lo ^ Math.imul(hi, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5; // 27 bits
    const b = this.nextU32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal (Box–Muller; the second value is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
