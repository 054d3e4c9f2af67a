/**
 * The two figures of a preset: learning curves (validation pass@1 and pass@3 against episodes trained, mean over
 * seeds, from the learner's evaluations) and the test-time scaling curve (final pass@k for k = 1..attempts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartSvg, svgToPng, type Series } from '../../shared/plot.js';
import type { PresetProvenance } from './experiment-results.js';

/** Mean over seeds of pass@(k+1) at each curve point all seeds evaluated. */
export function meanCurve(perSeed: PresetProvenance['rows'][string]['perSeed'], k: number): Array<[number, number]> {
  const byX = new Map<number, number[]>();
  for (const s of perSeed)
    for (const c of s.curve)
      if (c.pass[k] !== undefined) byX.set(c.trajectories, [...(byX.get(c.trajectories) ?? []), c.pass[k]]);
  return [...byX.entries()]
    .filter(([, v]) => v.length === perSeed.length)
    .sort((a, b) => a[0] - b[0])
    .map(([x, v]) => [x, v.reduce((a, b) => a + b, 0) / v.length]);
}

/** Writes docs/<env>-<preset>-learning.png and docs/<env>-<preset>-passk.png; returns their paths. */
export function writeExperimentPlots(docsDir: string, env: string, preset: string, p: PresetProvenance): string[] {
  const trained = Object.entries(p.rows).filter(([, r]) => r.trained);
  const out: string[] = [];
  if (trained.length) {
    const series = (k: number): Series[] => trained.map(([name, r]) => ({ name, points: meanCurve(r.perSeed, k) }));
    const file = join(docsDir, `${env}-${preset}-learning.png`);
    writeFileSync(
      file,
      svgToPng(
        chartSvg([
          {
            title: `${env} ${preset}: validation pass@1 (mean of ${p.seeds.length} seeds)`,
            xLabel: 'episodes trained',
            yLabel: 'success rate',
            yMin: 0,
            series: series(0),
          },
          {
            title: `${env} ${preset}: validation pass@3`,
            xLabel: 'episodes trained',
            yLabel: 'success rate',
            yMin: 0,
            series: series(2),
          },
        ]),
      ),
    );
    out.push(file);
  }
  const file = join(docsDir, `${env}-${preset}-passk.png`);
  writeFileSync(
    file,
    svgToPng(
      chartSvg(
        [
          {
            title: `${env} ${preset}: pass@k after training (${p.evalTasks} tasks, mean of ${p.seeds.length} seeds)`,
            xLabel: 'k (attempts)',
            yLabel: 'success rate',
            yMin: 0,
            series: Object.entries(p.rows).map(([name, r]) => ({
              name,
              points: Array.from(
                { length: p.attempts },
                (_, k) => [k + 1, r.perSeed.reduce((a, s) => a + s.pass[k], 0) / r.perSeed.length] as [number, number],
              ),
            })),
          },
        ],
        { columns: 1, panelWidth: 640, panelHeight: 400 },
      ),
    ),
  );
  out.push(file);
  return out;
}
