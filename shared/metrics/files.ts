/**
 * File sinks: the long-format `metrics.csv` (shared/run-dir.ts) and `metrics.jsonl`, one JSON object per logged
 * event: `{"wall": s, "version": v, "values": {name: value}}` (easy to load with pandas or jq). Both rotate by
 * size like the logs (`log.metricsMaxMB`, `log.metricsKeep`), so a run of days has bounded metric files.
 */
import type { RotationOptions } from '../rotating-file.js';
import { RotatingAppender } from '../rotating-file.js';
import type { MetricsCsv } from '../run-dir.js';
import type { MetricSink } from './sink.js';

export function csvSink(csv: MetricsCsv): MetricSink {
  return { name: 'csv', write: (wall, version, values) => csv.log(version, values, wall) };
}

export function jsonlSink(path: string, rotate: RotationOptions = { maxBytes: 0, keep: 0 }): MetricSink {
  const file = new RotatingAppender(path, rotate);
  return {
    name: 'jsonl',
    write: (wall, version, values) => file.append(JSON.stringify({ wall: +wall.toFixed(3), version, values }) + '\n'),
  };
}
