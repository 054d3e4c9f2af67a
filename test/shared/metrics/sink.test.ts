import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { csvSink, jsonlSink } from '../../../shared/metrics/files.js';
import { MetricsFanout, type MetricSink } from '../../../shared/metrics/sink.js';
import { MetricsCsv, readMetricsCsv } from '../../../shared/run-dir.js';

describe('MetricsFanout', () => {
  it('writes finite values to CSV and JSON lines alike', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-sinks-'));
    const csv = new MetricsCsv(join(dir, 'metrics.csv'));
    const fan = new MetricsFanout([csvSink(csv), jsonlSink(join(dir, 'metrics.jsonl'))], Date.now());
    fan.log(2, { 'train/loss': 0.5, 'x/nan': NaN, 'x/null': null });
    fan.log(3, { 'train/loss': 0.25 });
    expect(
      readMetricsCsv(csv.path)
        .get('train/loss')!
        .map((p) => [p.version, p.value]),
    ).toEqual([
      [2, 0.5],
      [3, 0.25],
    ]);
    expect(readMetricsCsv(csv.path).has('x/nan')).toBe(false);
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.version, l.values])).toEqual([
      [2, { 'train/loss': 0.5 }],
      [3, { 'train/loss': 0.25 }],
    ]);
  });

  it('keeps going when a sink throws: the other sinks get every value, the failure is counted and warned once', () => {
    const got: number[] = [];
    const broken: MetricSink = {
      name: 'broken',
      write: () => {
        throw new Error('disk full');
      },
    };
    const good: MetricSink = { name: 'good', write: (_w, v) => got.push(v) };
    const warn = vi.fn();
    const fan = new MetricsFanout([broken, good], Date.now(), { warn } as never);
    for (let v = 0; v < 5; v++) expect(() => fan.log(v, { a: v })).not.toThrow();
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(fan.failed()).toEqual([{ sink: 'broken', failures: 5, lastError: 'disk full' }]);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('a throwing live subscriber does not break logging', () => {
    const fan = new MetricsFanout([], Date.now());
    const seen: string[] = [];
    fan.subscribe(() => {
      throw new Error('gone');
    });
    fan.subscribe((_w, _v, values) => seen.push(...Object.keys(values)));
    fan.log(1, { b: 1 });
    expect(seen).toEqual(['b']);
  });
});
