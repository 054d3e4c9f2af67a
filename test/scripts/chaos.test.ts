/**
 * A quick `lamer chaos` run as part of `npm test`: real learner and actor processes, SIGKILLs of actors (at random,
 * right after a logged trial, right after an outbox write), a learner SIGKILL during a checkpoint write and one
 * after corrupting the newest checkpoint, and a SIGSTOP. Nothing may be lost or trained twice, and every fault
 * must really have happened. The long run is `npm run -s lamer -- chaos --json` (docs/reliability.md).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../fixtures/cli.js';
import { describe, expect, it } from 'vitest';
import { readMetricsCsv } from '../../shared/run-dir.js';

describe('lamer chaos (quick run)', () => {
  it('5 actor kills, 2 learner kills, 1 stop: 0 lost, 0 duplicated, resumes where it should', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'chaos',
        '--json',
        '--minutes',
        '1.25',
        '--kills',
        '5',
        '--learner-kills',
        '2',
        '--stops',
        '1',
        '--quiet',
        '20',
        '--seed',
        '7',
      ],
      { encoding: 'utf8', timeout: 240_000 },
    );
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const s = JSON.parse(lines[lines.length - 1]);
    try {
      expect(s.faultsSkipped, r.stderr.slice(-2000)).toBe(0);
      expect(s.unexpectedExits).toEqual([]);
      expect(s.ok).toBe(true);
      expect(s.lost).toBe(0);
      expect(s.duplicated).toBe(0);
      expect(s.ackedNotInLedger).toBe(0);
      expect(s.completed).toBeGreaterThan(20);
      expect(s.committed).toBe(s.completed - s.rejected - s.pending);
      // The faults really happened.
      expect(s.actorKills).toBe(5);
      expect(s.learnerKills).toBe(2);
      expect(s.stops).toBe(1);
      expect(s.checkpointWriteKills).toBe(1); // the kill left a partial checkpoint behind: it landed mid-write
      // Each restart resumed at the newest valid checkpoint with its optimizer state; the corrupt one was skipped.
      expect(s.versionMismatches).toBe(0);
      expect(s.optimizerFailures, JSON.stringify(s.restarts)).toBe(0);
      // A restart killed again before its first checkpoint cannot show its optimizer step advancing (nor, if killed
      // before it even resumed, which version it resumed at: on a loaded machine start-up takes tens of seconds).
      expect(s.optimizerRestored + s.optimizerUnverified + s.restartsKilledBeforeResume).toBe(2);
      expect(s.optimizerRestored).toBeGreaterThanOrEqual(1);
      expect(s.corruptFallbacks).toBe(1);
      const corrupt = s.restarts.find((x: { kind: string }) => x.kind === 'corrupt');
      expect(corrupt.resumedVersion).toBeLessThan(Number(/ckpt-(\d+)$/.exec(corrupt.corrupted)![1]));
      expect(s.learnerExit).toBe('code 0');
      expect(s.finalPolicyVersion).toBeGreaterThan(corrupt.resumedVersion);
      expect(Object.keys(s.maxRssMB).sort()).toEqual(['a0', 'a1', 'a2', 'learner']);
      // The learner's delivery/memory counters reach metrics.csv; no conflicting duplicate ever.
      const m = readMetricsCsv(join(s.dir, 'run', 'metrics.csv'));
      for (const name of [
        'net/dup_suppressed',
        'net/heartbeat_timeouts',
        'mem/weights_max_buffered_bytes',
        'mem/rss_mb',
        'ledger/fsyncs',
      ]) {
        expect(m.get(name)?.length, name).toBeGreaterThan(0);
      }
      expect(Math.max(...m.get('net/conflicts')!.map((x) => x.value))).toBe(0);
    } finally {
      if (s?.dir && s.ok) rmSync(s.dir, { recursive: true, force: true });
    }
  }, 300_000);
});
