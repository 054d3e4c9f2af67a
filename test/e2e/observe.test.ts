/**
 * Observability of a real run: a learner in this process with its HTTP side, one real actor process over a
 * WebSocket. Once training runs, the actor is frozen with SIGSTOP; the stall reason (the learner waiting for
 * groups, naming actor a0) must appear in /status, `lamer status`, the progress line and the log within the
 * deadline (observe.stallSec plus the watch's check period).
 */
import { readFileSync } from 'node:fs';
import parsePrometheus from 'parse-prometheus-text-format';
import { afterAll, describe, expect, it } from 'vitest';
import { readEndpoints } from '../../learner/endpoints.js';
import type { StatusSnapshot } from '../../learner/observatory.js';
import { fetchStatus, formatStatus } from '../../scripts/lib/status.js';
import { type LiveRun, startLiveRun, until } from './live-run.js';

const STALL_SEC = 3;

let live: LiveRun | null = null;
afterAll(() => {
  for (const a of live?.actors ?? []) if (a.exitCode === null) a.kill('SIGKILL');
});

describe('observability of a running learner (e2e)', () => {
  it('serves endpoints, metrics and readiness, ' +
    'and names a SIGSTOPped actor as the stall reason within the deadline', async () => {
    live = await startLiveRun({
      actors: 1,
      config: { learner: { heartbeatMs: 500 }, observe: { stallSec: STALL_SEC } },
    });
    const { dir, learner, lines, logFile } = live;
    const actor = live.actors[0];
    const ep = readEndpoints(dir);
    expect(ep.ws).toBe(learner.url);
    expect(ep.http).toBe(learner.httpUrl);
    expect(ep.runId).toBe(learner.runId);
    expect((await fetch(`${ep.http}/readyz`)).status).toBe(200);
    try {
      await until('two policy updates', () => learner.policyVersion >= 2, 120_000);
      const status = async () => (await (await fetch(`${ep.http}/status`)).json()) as StatusSnapshot;
      expect((await status()).stall).toBeNull();
      const families = new Map(
        parsePrometheus(await (await fetch(`${ep.http}/metrics`)).text()).map((f) => [f.name, f]),
      );
      expect(Number(families.get('lamer_trials_committed_total')!.metrics[0].value)).toBeGreaterThanOrEqual(8);
      expect(Number(families.get('lamer_policy_lag')!.metrics[0].count)).toBeGreaterThan(0);
      const row = (await status()).actors.find((a) => a.actorId === 'a0')!;
      expect(row).toMatchObject({ connected: true });
      expect(row.trials).toBeGreaterThanOrEqual(8);
      expect(row.outbox).toBeGreaterThanOrEqual(0);

      actor.kill('SIGSTOP');
      const stoppedAt = Date.now();
      // Deadline: stallSec without progress, the watch's check period (stallSec/4), and one in-flight update.
      const st = await until('a stall in /status', async () => (await status()).stall, (STALL_SEC + 12) * 1000);
      expect(st.stage).toBe('learner');
      expect(st.message).toMatch(
        new RegExp(
          /^learner waiting \d+ s for \d train groups?[ ,].*; \d actors? connected, \d+ trials? in flight: /.source +
            /actor a0 (last seen|disconnected) \d+ s ago/.source,
        ),
      );
      expect(Date.now() - stoppedAt).toBeLessThan((STALL_SEC + 12) * 1000);

      const out = formatStatus(await fetchStatus({ runDir: dir }));
      expect(out).toContain(`run ${learner.runId}`);
      expect(out).toMatch(/STALLED: learner waiting \d+ s for .*actor a0/);
      expect(out).toMatch(/\n {2}a0 +(connected|gone)/);
      await until(
        'a STALLED progress line',
        () => lines.some((l) => /\| STALLED: learner waiting .*actor a0/.test(l)),
        5000,
      );
      await until(
        'a stall warning in the log',
        () =>
          readFileSync(logFile, 'utf8')
            .split('\n')
            .some((l) => l.includes('"level":40') && /stalled: learner waiting .*actor a0/.test(l)),
        5000,
      );
    } finally {
      await live.stop();
    }
    expect(readEndpoints(dir).stoppedAt).not.toBeNull();
    expect(formatStatus(await fetchStatus({ runDir: dir }))).toMatch(
      /^not running: the learner \(pid \d+\) stopped at/,
    );
  }, 240_000);
});
