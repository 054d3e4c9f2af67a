import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunDir, type RunMeta } from '../../shared/run-dir.js';

const meta = (dir: string) => JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as RunMeta;

describe('RunDir meta.json history', () => {
  it('appends one invocation per process instead of overwriting, and records how each ended', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-rundir-'));
    const first = new RunDir(dir);
    expect(meta(dir).status).toBe('running');
    first.finish({ stoppedBy: 'signal', fromVersion: 0, toVersion: 4 });
    let m = meta(dir);
    expect(m.successful).toBe(false); // a Ctrl-C is not a successful run
    expect(m.status).toBe('interrupted');
    const startedAt = m.startedAt;

    const second = new RunDir(dir);
    expect(second.history.map((i) => i.status)).toEqual(['interrupted']);
    second.finish({ stoppedBy: 'iterations', fromVersion: 4, toVersion: 10 });
    m = meta(dir);
    expect(m.invocations.map((i) => [i.status, i.stoppedBy, i.fromVersion, i.toVersion])).toEqual([
      ['interrupted', 'signal', 0, 4],
      ['finished', 'iterations', 4, 10],
    ]);
    expect(m.successful).toBe(true);
    expect(m.startedAt).toBe(startedAt); // when the directory was first used
    expect(m.endedAt).toBe(m.invocations[1].endedAt);
  });

  it('marks an invocation that never recorded its end as died, and a failure as failed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-rundir-'));
    new RunDir(dir); // killed before finish()
    const next = new RunDir(dir);
    next.finish({ stoppedBy: 'error', error: 'boom' });
    expect(meta(dir).invocations.map((i) => i.status)).toEqual(['died', 'failed']);
    expect(meta(dir).invocations[1].error).toBe('boom');
  });

  it('keeps a meta.json of the older format as the first invocation, and survives an unreadable one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-rundir-'));
    writeFileSync(
      join(dir, 'meta.json'),
      JSON.stringify({
        gitSha: 'abc',
        gitDirty: false,
        argv: ['x'],
        node: 'v20',
        startedAt: '2026-01-01T00:00:00.000Z',
        endedAt: '2026-01-01T00:10:00.000Z',
        successful: true,
      }),
    );
    new RunDir(dir).finish(true);
    const m = meta(dir);
    expect(m.invocations.length).toBe(2);
    expect(m.invocations[0]).toMatchObject({
      gitSha: 'abc',
      status: 'finished',
      startedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(m.startedAt).toBe('2026-01-01T00:00:00.000Z');

    writeFileSync(join(dir, 'meta.json'), '{not json');
    new RunDir(dir);
    expect(meta(dir).invocations.length).toBe(1);
  });
});
