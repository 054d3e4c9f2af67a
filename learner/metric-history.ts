/**
 * The dashboard's memory of every metric: the newest `capacity` points per metric in a ring of preallocated
 * Float64Arrays. A learner left running for days holds a fixed number of bytes per metric from the first point
 * on (an array of [wall, version, value] triples grew the V8 heap by ~9 MB/h until it reached its bound).
 */
export type Point = [wall: number, version: number, value: number];

class Ring {
  private readonly data: Float64Array;
  private next = 0;
  private count = 0;

  constructor(private readonly capacity: number) {
    this.data = new Float64Array(capacity * 3);
  }

  push(wall: number, version: number, value: number): void {
    const i = this.next * 3;
    this.data[i] = wall;
    this.data[i + 1] = version;
    this.data[i + 2] = value;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  last(): Point | undefined {
    if (!this.count) return undefined;
    const i = ((this.next + this.capacity - 1) % this.capacity) * 3;
    return [this.data[i], this.data[i + 1], this.data[i + 2]];
  }

  /** Oldest first. */
  points(): Point[] {
    const out: Point[] = [];
    const first = (this.next + this.capacity - this.count) % this.capacity;
    for (let k = 0; k < this.count; k++) {
      const i = ((first + k) % this.capacity) * 3;
      out.push([this.data[i], this.data[i + 1], this.data[i + 2]]);
    }
    return out;
  }
}

export class MetricHistory {
  private readonly rings = new Map<string, Ring>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  push(name: string, wall: number, version: number, value: number): void {
    let r = this.rings.get(name);
    if (!r) this.rings.set(name, (r = new Ring(this.capacity)));
    r.push(wall, version, value);
  }

  last(name: string): Point | undefined {
    return this.rings.get(name)?.last();
  }

  /** name → points, oldest first. */
  snapshot(): Record<string, Point[]> {
    return Object.fromEntries([...this.rings].map(([k, r]) => [k, r.points()]));
  }
}
