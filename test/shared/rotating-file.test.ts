import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, logFileEnv, rotationFromEnv } from '../../shared/logger.js';
import { archivedPieces, archiveRotatedPieces, rotatedPieces } from '../../shared/rotating-file.js';
import { jsonlSink } from '../../shared/metrics/files.js';
import { MetricsCsv, readMetricsCsv } from '../../shared/run-dir.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lamer-rotate-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const linesOf = (files: string[]) => files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));

describe('size-rotated logs', () => {
  it('rotates at maxBytes, keeps `keep` pieces, and loses no line of the kept pieces', () => {
    const file = join(dir, 'logs', 'learner.log');
    const logger = createLogger({ destination: file, rotate: { maxBytes: 4000, keep: 3 } });
    for (let i = 0; i < 400; i++) logger.info({ i }, 'tick');
    const names = readdirSync(join(dir, 'logs')).sort();
    expect(names).toEqual(['learner.log', 'learner.log.1', 'learner.log.2', 'learner.log.3']);
    for (const n of names) expect(statSync(join(dir, 'logs', n)).size).toBeLessThan(4000 + 200);
    // The pieces, oldest first, are one contiguous tail of the stream ending at the last line written.
    const seen = linesOf(rotatedPieces(file)).map((l) => (JSON.parse(l) as { i: number }).i);
    expect(seen[seen.length - 1]).toBe(399);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, k) => 400 - seen.length + k));
    expect(seen.length).toBeGreaterThan(50);
  });

  it('maxBytes 0 never rotates', () => {
    const file = join(dir, 'one.log');
    const logger = createLogger({ destination: file, rotate: { maxBytes: 0, keep: 3 } });
    for (let i = 0; i < 200; i++) logger.info({ i }, 'tick');
    expect(readdirSync(dir)).toEqual(['one.log']);
    expect(linesOf([file])).toHaveLength(200);
  });

  it('a child process given LAMER_LOG_FILE writes its pino log there, rotated as its parent said', () => {
    const file = join(dir, 'a0.log');
    const env = { ...process.env, ...logFileEnv(file, { maxBytes: 0.002 * (1 << 20), keep: 1 }) };
    expect(rotationFromEnv(env)).toEqual({ maxBytes: Math.round(0.002 * (1 << 20)), keep: 1 });
    const code = `import { createLogger } from ${JSON.stringify(join(import.meta.dirname, '../../shared/logger.ts'))};
      const l = createLogger({ component: 'actor' }); for (let i = 0; i < 100; i++) l.info({ i }, 'x');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      env,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(readdirSync(dir).sort()).toEqual(['a0.log', 'a0.log.1']);
    expect(
      linesOf(rotatedPieces(file))
        .map((l) => (JSON.parse(l) as { i: number }).i)
        .pop(),
    ).toBe(99);
  });
});

describe('rotated metrics.csv', () => {
  it('splits into pieces with a header each; readMetricsCsv reads the kept ones in order', () => {
    const path = join(dir, 'metrics.csv');
    const m = new MetricsCsv(path, Date.now(), { maxBytes: 1000, keep: 2 });
    for (let v = 1; v <= 100; v++) m.log(v, { 'loss/policy': v / 10, 'rollout/pass@1': 0.5 });
    expect(readdirSync(dir).sort()).toEqual(['metrics.csv', 'metrics.csv.1', 'metrics.csv.2']);
    for (const p of rotatedPieces(path))
      expect(readFileSync(p, 'utf8').startsWith('wall_s,version,name,value\n')).toBe(true);
    const versions = readMetricsCsv(path)
      .get('loss/policy')!
      .map((r) => r.version);
    expect(versions[versions.length - 1]).toBe(100);
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, k) => 101 - versions.length + k));
  });
});

describe('rotated metrics.jsonl', () => {
  it('rotates at maxBytes keeping `keep` pieces of whole JSON lines, contiguous up to the last event', () => {
    const path = join(dir, 'metrics.jsonl');
    const sink = jsonlSink(path, { maxBytes: 1500, keep: 2 });
    for (let v = 1; v <= 100; v++) sink.write(v, v, { 'train/loss': v / 10 });
    expect(readdirSync(dir).sort()).toEqual(['metrics.jsonl', 'metrics.jsonl.1', 'metrics.jsonl.2']);
    const versions = linesOf(rotatedPieces(path)).map((l) => (JSON.parse(l) as { version: number }).version);
    expect(versions[versions.length - 1]).toBe(100);
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, k) => 101 - versions.length + k));
    for (const p of rotatedPieces(path)) expect(statSync(p).size).toBeLessThan(1500 + 100);
  });
});

describe('readMetricsCsv tailBytes', () => {
  it('reads only about the newest bytes across pieces, whole lines only, newest last', () => {
    const path = join(dir, 'metrics.csv');
    const m = new MetricsCsv(path, Date.now(), { maxBytes: 2000, keep: 5 });
    for (let v = 1; v <= 300; v++) m.log(v, { 'loss/policy': v });
    const all = readMetricsCsv(path).get('loss/policy')!;
    const tail = readMetricsCsv(path, { tailBytes: 3000 }).get('loss/policy')!;
    expect(all.length).toBeGreaterThan(tail.length);
    expect(tail.length).toBeGreaterThan(50);
    // Each row is ~25 bytes: 3000 bytes hold at most 3000/25 rows.
    expect(tail.length).toBeLessThanOrEqual(Math.ceil(3000 / 25));
    expect(tail).toEqual(all.slice(all.length - tail.length));
  });
});

describe('archiving rotated pieces', () => {
  it('copies each rotated piece once; archive + current file hold every line exactly once, in order', () => {
    const file = join(dir, 'logs', 'learner.log');
    const archive = join(dir, 'archive');
    const seen = new Set<string>();
    const logger = createLogger({ destination: file, rotate: { maxBytes: 3000, keep: 2 } });
    // Archive often enough that no piece is deleted unseen (more often than every `keep` rotations).
    for (let i = 0; i < 600; i++) {
      logger.info({ i }, 'tick');
      if (i % 20 === 0) archiveRotatedPieces(file, archive, seen);
    }
    archiveRotatedPieces(file, archive, seen);
    expect(archiveRotatedPieces(file, archive, seen)).toBe(0); // nothing new: nothing copied twice
    expect(readdirSync(join(dir, 'logs')).length).toBeLessThanOrEqual(3);
    const seenIds = linesOf(archivedPieces(file, archive)).map((l) => (JSON.parse(l) as { i: number }).i);
    expect(seenIds).toEqual(Array.from({ length: 600 }, (_, k) => k));
  });
});
