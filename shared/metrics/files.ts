/**
 * File sinks: the long-format `metrics.csv` (shared/run-dir.ts) and `metrics.jsonl`, one JSON object per logged
 * event: `{"wall": s, "version": v, "values": {name: value}}` (easy to load with pandas or jq).
 */
import { appendFileSync } from 'node:fs';
import type { MetricsCsv } from '../run-dir.js';
import type { MetricSink } from './sink.js';

export function csvSink(csv: MetricsCsv): MetricSink {
  return { name: 'csv', write: (wall, version, values) => csv.log(version, values, wall) };
}

export function jsonlSink(path: string): MetricSink {
  return {
    name: 'jsonl',
    write: (wall, version, values) =>
      appendFileSync(path, JSON.stringify({ wall: +wall.toFixed(3), version, values }) + '\n'),
  };
}
