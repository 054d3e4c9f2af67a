/**
 * How much parallel CPU this machine really delivers right now: the same fixed arithmetic loop in 1 and then in 2
 * worker threads at once. `parallelism` = 2 x solo time / pair time (2.0 on two idle cores; less when the cores are
 * hyperthreads, oversubscribed vCPUs or busy with other work). Async overlap can gain at most this over a
 * sync schedule whose two stages take turns, so the throughput bench reports it next to its ratios.
 */
import { Worker } from 'node:worker_threads';

const LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const a = new Float64Array(1 << 16).map((_, i) => i * 1e-3);
const t0 = performance.now();
let s = 0;
for (let r = 0; r < workerData.reps; r++) for (let i = 0; i < a.length; i++) s += a[i] * a[(i * 7) & 65535];
parentPort.postMessage({ ms: performance.now() - t0, ok: s > 0 });
`;

function runLoop(reps: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = new Worker(LOOP, { eval: true, workerData: { reps } });
    w.once('message', (m: { ms: number }) => resolve(m.ms));
    w.once('error', reject);
  });
}

export interface CpuProbe {
  soloMs: number;
  pairMs: number;
  parallelism: number;
}

/** One solo run and one pair of concurrent runs (each `reps` x 65,536 multiply-adds; default ~1 s on a quiet core). */
export async function probeParallelism(reps = 3000): Promise<CpuProbe> {
  const soloMs = await runLoop(reps);
  const pair = await Promise.all([runLoop(reps), runLoop(reps)]);
  const pairMs = Math.max(...pair);
  return { soloMs: Math.round(soloMs), pairMs: Math.round(pairMs), parallelism: +((2 * soloMs) / pairMs).toFixed(2) };
}
