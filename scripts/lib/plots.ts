/**
 * The run directory's learning-curve PNG, drawn from metrics.csv: at the end of `lamer train`, and at any time by
 * `lamer plot` (also of a running run: a half-written last line is skipped). Per-update training curves are shown
 * smoothed (EMA 0.8, bias-corrected); evaluations are exact and drawn as measured.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { badInput } from '../../shared/errors.js';
import { chartSvg, smoothEma, svgToPng, type Panel } from '../../shared/plot.js';
import { readMetricsCsv, type RunDir } from '../../shared/run-dir.js';

const SMOOTHING = 0.8;

export function writeRunPlots(run: RunDir): string | null {
  return existsSync(run.file('metrics.csv')) ? plotRunDir(run.path) : null;
}

/** Draws `<runDir>/learning-curve.png` (or `out`) and returns its path. */
export function plotRunDir(runDir: string, out = join(runDir, 'learning-curve.png')): string {
  const csv = join(runDir, 'metrics.csv');
  if (!existsSync(csv)) throw badInput(`${csv} does not exist: is '${runDir}' a run directory?`);
  const m = readMetricsCsv(csv);
  const byVersion = (name: string) => (m.get(name) ?? []).map((p) => [p.version, p.value] as [number, number]);
  const smooth = (name: string) => smoothEma(byVersion(name), SMOOTHING);
  const evalNames = [...m.keys()].filter((k) => k.startsWith('eval/pass@')).sort();
  const rollNames = [...m.keys()].filter((k) => k.startsWith('rollout/pass@')).sort();
  const panels: Panel[] = [
    {
      title: 'Validation pass@k (fixed seeds)',
      xLabel: 'policy version',
      yLabel: 'success rate',
      yMin: 0,
      yMax: 1,
      series: evalNames.map((n) => ({ name: n.slice(5), points: byVersion(n) })),
    },
    {
      title: `Training trials pass@k (T=1, EMA ${SMOOTHING})`,
      xLabel: 'policy version',
      yLabel: 'success rate',
      yMin: 0,
      yMax: 1,
      series: rollNames.map((n) => ({ name: n.slice(8), points: smooth(n) })),
    },
    {
      title: `Loss and entropy (EMA ${SMOOTHING})`,
      xLabel: 'policy version',
      yLabel: 'value',
      series: [
        { name: 'train/loss', points: smooth('train/loss') },
        { name: 'train/entropy', points: smooth('train/entropy') },
      ],
    },
    {
      title: 'Throughput',
      xLabel: 'wall-clock s',
      yLabel: 'trials/s',
      yMin: 0,
      series: [
        {
          name: 'rollout/trials_per_s',
          points: (m.get('rollout/trials_per_s') ?? []).map((p) => [p.wall, p.value] as [number, number]),
        },
      ],
    },
  ];
  writeFileSync(out, svgToPng(chartSvg(panels)));
  return out;
}
