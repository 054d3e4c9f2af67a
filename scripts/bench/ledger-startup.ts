/**
 * Ledger start-up benchmark: how long `Ledger.open` takes on a young and on an old ledger (records x `--scale`),
 * before and after compaction. Without compaction, open verifies every entry (time grows with the run's age);
 * after compaction it reads the index plus the segments the newest checkpoint has not covered (here: the open
 * segment), so it should not grow.
 *
 *   node --import tsx scripts/bench/ledger-startup.ts [--records 5000] [--scale 8] [--size 2000] [--segment-mb 4] \
 *     [--reps 3]
 *
 * Prints one JSON line: per ledger age, the median open time (ms) before and after compaction, and the ratios
 * old/young (before, after) that the claim rests on. fsync is on throughout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Ledger } from '../../learner/ledger.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '5000' },
    scale: { type: 'string', default: '8' },
    size: { type: 'string', default: '2000' },
    'segment-mb': { type: 'string', default: '4' },
    reps: { type: 'string', default: '3' },
  },
});
const records = Number(values.records),
  scale = Number(values.scale),
  size = Number(values.size),
  reps = Number(values.reps);
const segmentBytes = Number(values['segment-mb']) * (1 << 20);
for (const [k, v] of Object.entries({ records, scale, size, reps, segmentBytes })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
}

async function fill(dir: string, n: number): Promise<void> {
  const l = await Ledger.open(dir, { segmentBytes });
  const body = Buffer.alloc(size, 7);
  const WINDOW = 64;
  for (let i = 0; i < n; i += WINDOW) {
    const batch = [];
    for (let s = i; s < Math.min(n, i + WINDOW); s++) {
      batch.push(
        l.append({ runId: 'run-bench', actorId: `actor-${s % 4}`, incarnation: 'inc-0', seq: Math.floor(s / 4) }, body),
      );
    }
    await Promise.all(batch);
  }
  await l.close();
}

async function openMs(dir: string): Promise<{ ms: number; entries: number }> {
  const times: number[] = [];
  let entries = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const l = await Ledger.open(dir, { segmentBytes });
    times.push(performance.now() - t0);
    entries = l.size;
    await l.close();
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], entries };
}

async function measure(n: number): Promise<{
  records: number;
  segments: number;
  uncoveredBytes: number;
  openMsBefore: number;
  openMsAfter: number;
  perSegment: number;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'lamer-ledger-startup-'));
  try {
    await fill(dir, n);
    const before = await openMs(dir);
    const l = await Ledger.open(dir, { segmentBytes });
    const segments = l.stats().segments;
    let perSegment = 0;
    for await (const r of l.iterate(0))
      if (r.nextOffset <= segmentBytes + r.nextOffset - r.offset) perSegment++;
      else break;
    await l.compact(l.offset, 'all'); // as after a checkpoint that trained everything: all full segments covered
    const uncoveredBytes = l.offset - l.stats().coveredTo;
    await l.close();
    const after = await openMs(dir);
    if (after.entries !== before.entries)
      throw new Error(`entry count changed by compaction: ${before.entries} -> ${after.entries}`);
    return { records: n, segments, uncoveredBytes, openMsBefore: before.ms, openMsAfter: after.ms, perSegment };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await measure(Math.min(records, 500)); // warm-up: module load and JIT are not start-up cost of a ledger
const young = await measure(records);
// The old ledger gets whole segments more, so both leave the same number of records in the open segment.
const old = await measure(records + (scale - 1) * Math.ceil(records / young.perSegment) * young.perSegment);
const r2 = (x: number) => Math.round(x * 100) / 100;
console.log(
  JSON.stringify({
    bench: 'ledger-startup',
    recordBytes: size,
    segmentMB: Number(values['segment-mb']),
    reps,
    young: { ...young, openMsBefore: r2(young.openMsBefore), openMsAfter: r2(young.openMsAfter) },
    old: { ...old, openMsBefore: r2(old.openMsBefore), openMsAfter: r2(old.openMsAfter) },
    oldOverYoungBefore: r2(old.openMsBefore / young.openMsBefore),
    oldOverYoungAfter: r2(old.openMsAfter / young.openMsAfter),
    oldBeforeOverAfter: r2(old.openMsBefore / old.openMsAfter),
  }),
);
