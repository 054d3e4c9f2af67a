import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { duBytes, logLines, pooledSlope, roleSlopes, trialsPerSecWindows } from '../../scripts/chaos/soak-run.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lamer-soakrun-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('soak measurements', () => {
  it('pooled slope sees growth within each incarnation that restarts would hide', () => {
    // Two incarnations, each growing 10 MB/h from a reset: the plain fit over both is ~0, the pooled one 10.
    const pts = [
      ...[0, 0.1, 0.2, 0.3, 0.4].map((x) => ({ x, y: 100 + 10 * x, g: 1 })),
      ...[0.5, 0.6, 0.7, 0.8, 0.9].map((x) => ({ x, y: 100 + 10 * (x - 0.5), g: 2 })),
    ];
    expect(pooledSlope(pts)).toBeCloseTo(10, 6);
    expect(pooledSlope(pts.map((p) => ({ ...p, y: 50 })))).toBe(0);
    expect(pooledSlope([{ x: 1, y: 1, g: 'a' }])).toBe(0);
  });

  it("role slopes leave out each incarnation's warm-up and the first half of the run", () => {
    const H = 3_600_000;
    // learner: restarted at 0.5 h; each incarnation climbs steeply for its first 0.05 h, then grows 2 MB/h.
    const xs: Array<{ t: number; role: string; pid: number; mb: number }> = [];
    for (let i = 0; i <= 100; i++) {
      const h = i / 100,
        pid = h < 0.5 ? 1 : 2,
        age = h - (pid === 1 ? 0 : 0.5);
      xs.push({ t: h * H, role: 'learner', pid, mb: age < 0.05 ? 20 + 8000 * age : 420 + 2 * age });
    }
    const s = roleSlopes(xs, (x) => x.mb, ['learner', 'a0'], 0, H, 0.06 * H);
    expect(s.learner).toBeCloseTo(2, 6);
    expect(s.a0).toBe(0);
    // warm-up counted: a fake leak
    expect(roleSlopes(xs, (x) => x.mb, ['learner'], 0, H, 0).learner).toBeGreaterThan(100);
  });

  it('trials per second per window from trained lines', () => {
    const trained = [
      { at: 1000, trials: 8 },
      { at: 30_000, trials: 8 },
      { at: 61_000, trials: 4 },
      { at: 200_000, trials: 100 },
    ];
    expect(trialsPerSecWindows(trained, 0, 120_000, 60)).toEqual([16 / 60, 4 / 60]);
  });

  it('reads pino lines of one message across rotated pieces, skipping torn lines, and sizes a directory', () => {
    const f = join(dir, 'learner.log');
    writeFileSync(`${f}.1`, '{"msg":"learner listening","pid":1,"time":5}\n{"msg":"trained"}\n');
    writeFileSync(f, '{"msg":"learner listening","pid":2,"time":9}\n{"msg":"learner list');
    expect(logLines(f, 'learner listening').map((o) => o.pid)).toEqual([1, 2]);
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'x'), Buffer.alloc(1000));
    expect(duBytes(dir)).toBe(
      1000 +
        Buffer.byteLength('{"msg":"learner listening","pid":1,"time":5}\n{"msg":"trained"}\n') +
        Buffer.byteLength('{"msg":"learner listening","pid":2,"time":9}\n{"msg":"learner list'),
    );
  });
});
