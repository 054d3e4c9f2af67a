/** The chaos memory sampler: peak per role, sampled on its timer and right before a kill. */
import { describe, expect, it } from 'vitest';
import { MemorySampler } from '../../../scripts/chaos/memory.js';
import { fakeProc } from './fake-proc.js';

const MB = 2 ** 20;

describe('MemorySampler', () => {
  it('keeps the peak per role, samples before a kill and stops with the process', async () => {
    const hwm = new Map<number, number>([
      [1, 10 * MB],
      [2, 30 * MB],
    ]);
    const m = new MemorySampler(5, (pid) => (hwm.has(pid) ? { rss: 0, hwm: hwm.get(pid) ?? 0 } : null));
    const a = fakeProc({ role: 'a0', args: [], stderrFile: '' }, 1);
    const b = fakeProc({ role: 'a0', args: [], stderrFile: '' }, 2); // the restart of a0: same role
    const l = fakeProc({ role: 'learner', args: [], stderrFile: '' }, 3); // no /proc entry
    m.spawned(a);
    m.spawned(l);
    m.start();
    await new Promise((r) => setTimeout(r, 30));
    expect(m.maxRssMB()).toEqual({ a0: 10 });
    m.killing(b); // sampled once before its kill even though it was never tracked
    expect(m.maxRssMB()).toEqual({ a0: 30 });
    hwm.set(1, 50 * MB);
    a.crash(0);
    await a.exit;
    await new Promise((r) => setTimeout(r, 30));
    m.stop();
    expect(m.maxRssMB()).toEqual({ a0: 30 }); // an exited process is no longer sampled
  });

  it('reads the real VmHWM of a live process', () => {
    const m = new MemorySampler();
    m.sample(fakeProc({ role: 'self', args: [], stderrFile: '' }, process.pid));
    expect(m.maxRssMB().self).toBeGreaterThan(10);
  });
});
