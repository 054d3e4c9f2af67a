/** The run directory's learning-curve PNG, drawn from metrics.csv. */
import { existsSync, writeFileSync } from 'node:fs';
import { chartSvg, svgToPng, type Panel } from '../../shared/plot.js';
import { readMetricsCsv, type RunDir } from '../../shared/run-dir.js';

export function writeRunPlots(run: RunDir): string | null {
  const csv = run.file('metrics.csv');
  if (!existsSync(csv)) return null;
  const m = readMetricsCsv(csv);
  const byVersion = (name: string) => (m.get(name) ?? []).map((p) => [p.version, p.value] as [number, number]);
  const evalNames = [...m.keys()].filter((k) => k.startsWith('eval/pass@')).sort();
  const rollNames = [...m.keys()].filter((k) => k.startsWith('rollout/pass@')).sort();
  const panels: Panel[] = [
    { title: 'Validation pass@k (fixed seeds)', xLabel: 'policy version', yLabel: 'success rate', yMin: 0, series: evalNames.map((n) => ({ name: n.slice(5), points: byVersion(n) })) },
    { title: 'Training trials pass@k (T=1)', xLabel: 'policy version', yLabel: 'success rate', yMin: 0, series: rollNames.map((n) => ({ name: n.slice(8), points: byVersion(n) })) },
    { title: 'Loss and entropy', xLabel: 'policy version', yLabel: 'value', series: [{ name: 'train/loss', points: byVersion('train/loss') }, { name: 'train/entropy', points: byVersion('train/entropy') }] },
    { title: 'Throughput', xLabel: 'wall-clock s', yLabel: 'trials/s', yMin: 0, series: [{ name: 'rollout/trials_per_s', points: (m.get('rollout/trials_per_s') ?? []).map((p) => [p.wall, p.value] as [number, number]) }] },
  ];
  const out = run.file('learning-curve.png');
  writeFileSync(out, svgToPng(chartSvg(panels)));
  return out;
}
