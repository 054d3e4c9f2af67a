import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EndpointsFile, readEndpoints } from '../../learner/endpoints.js';
import { resolveRun } from '../../scripts/lib/run-config.js';
import { fetchStatus, formatStatus } from '../../scripts/lib/status.js';

describe('endpoints.json', () => {
  it('is written on each update and read back; missing or malformed files get clear errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-ep-'));
    expect(() => readEndpoints(dir)).toThrow(/endpoints\.json does not exist/);
    const f = new EndpointsFile(dir);
    f.update({ http: 'http://127.0.0.1:9100' });
    expect(readEndpoints(dir)).toMatchObject({
      http: 'http://127.0.0.1:9100',
      ws: null,
      pid: process.pid,
      stoppedAt: null,
    });
    f.update({ ws: 'ws://127.0.0.1:7070', runId: 'run-1' });
    expect(readEndpoints(dir)).toMatchObject({
      http: 'http://127.0.0.1:9100',
      ws: 'ws://127.0.0.1:7070',
      runId: 'run-1',
    });
    writeFileSync(join(dir, 'endpoints.json'), '{"ws": 3}');
    expect(() => readEndpoints(dir)).toThrow(/endpoints\.json: ws: .*; http:/);
    writeFileSync(join(dir, 'endpoints.json'), '{');
    expect(() => readEndpoints(dir)).toThrow(/endpoints\.json is not JSON/);
  });

  it(
    'lamer status says when the learner is gone (stopped, ' + 'or nothing answers) and shows the last summary',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'lamer-ep-'));
      const f = new EndpointsFile(dir);
      // Port 1 is privileged: no learner listens there.
      f.update({ http: 'http://127.0.0.1:1', ws: 'ws://127.0.0.1:2', runId: 'run-1' });
      writeFileSync(
        join(dir, 'summary.json'),
        JSON.stringify({ policyVersion: 9, trialsTrained: 72, stoppedBy: 'iterations' }),
      );
      const r = await fetchStatus({ runDir: dir });
      expect(r.running).toBe(false);
      expect(formatStatus(r)).toMatch(
        new RegExp(
          /^not running: no answer from http:\/\/127\.0\.0\.1:1 .*\n/.source +
            /last summary: policy v9, 72 trials trained, stopped by iterations$/.source,
        ),
      );
      f.update({ stoppedAt: '2026-01-01T00:00:00.000Z' });
      expect(formatStatus(await fetchStatus({ runDir: dir }))).toMatch(
        /^not running: the learner \(pid \d+\) stopped at 2026-01-01/,
      );
    },
  );
});

describe('--metrics-listen', () => {
  it('sets observe.listen, and the config rejects a malformed address', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-ep-'));
    expect(resolveRun({ runDir: dir, metricsListen: '0.0.0.0:9100' }).config.observe.listen).toBe('0.0.0.0:9100');
    expect(resolveRun({ runDir: dir, metricsListen: 'off' }).config.observe.listen).toBe('off');
    expect(resolveRun({ runDir: dir }).config.observe.listen).toBe('127.0.0.1:0');
    expect(() => resolveRun({ runDir: dir, metricsListen: '9100' })).toThrow(/observe\.listen.*HOST:PORT/);
  });
});
