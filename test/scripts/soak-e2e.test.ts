/**
 * A short `lamer soak` of real processes: the learner is restarted past the middle of the run, where a restart
 * that handed it the *remaining* minutes (while `--minutes` counts the run directory's total) made it stop at once,
 * restart, and stop again for the rest of the soak. The long run is `lamer soak --minutes 120`
 * (docs/long-runs.md). A learner restart must not stop the actors either: each SIGTERM restart used to say `bye`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../fixtures/cli.js';
import { describe, expect, it } from 'vitest';

describe('lamer soak (short run)', () => {
  it('keeps one learner training through restarts past mid-run: none exits on its own, nothing lost', () => {
    // 3 min; learner restarts at 0.6, 1.2 and 1.8 min (the last two past half the run), an actor kill every 0.75.
    const args = ['soak', '--json', '--minutes', '3', '--sample', '5', '--seed', '3'];
    args.push('--learner-restart-every', '0.6', '--actor-kill-every', '0.75');
    const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 420_000 });
    const lines = r.stdout.trim().split('\n');
    const s = JSON.parse(lines[lines.length - 1]);
    try {
      expect(s.faults.learnerRestarts, r.stderr.slice(-2000)).toBe(3);
      expect(s.faults.actorKills).toBeGreaterThanOrEqual(2);
      expect(s.faults.learnerSelfExits, r.stderr.slice(-2000)).toBe(0);
      // No actor stops because the learner restarted: the never-killed one is one process from start to end.
      expect(s.faults.actorSelfExits).toBe(0);
      const soak = JSON.parse(readFileSync(join(s.dir, 'soak.json'), 'utf8'));
      const steadyPids = new Set(
        soak.samples.filter((x: { role: string }) => x.role === 'a1').map((x: { pid: number }) => x.pid),
      );
      expect(steadyPids.size).toBe(1);
      expect(r.status).toBe(0);
      expect(s.lost).toBe(0);
      expect(s.duplicated).toBe(0);
      // One start-up per incarnation: the first and the three restarts.
      expect(s.startup.seconds).toHaveLength(4);
      // Still training in the last window of the run.
      expect(s.trialsPerSec.last).toBeGreaterThan(0);
      expect(s.finalPolicyVersion).toBeGreaterThan(3);
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  }, 480_000);
});
