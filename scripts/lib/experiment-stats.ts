/**
 * Confidence intervals for the experiment tables: a Student-t interval over seeds (the run-to-run spread, which
 * is what the issue asks for), and a Wilson interval over validation tasks when only one seed was run.
 */
import { badInput } from '../../shared/errors.js';

// Two-sided 95% Student-t quantiles t_{0.975, df} for df = 1..30; larger df use the normal 1.96 (error < 2%).
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function t975(df: number): number {
  if (!Number.isInteger(df) || df < 1)
    throw badInput(`t quantile: degrees of freedom must be an integer >= 1, got ${df}`);
  return df <= T975.length ? T975[df - 1] : 1.96;
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw badInput('mean of no values');
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n − 1). */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) throw badInput('sample standard deviation needs at least 2 values');
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

const clip01 = (x: number) => Math.min(1, Math.max(0, x));

/** 95% t-interval of the mean of `xs` (n ≥ 2), clipped to [0, 1] since the values are success rates. */
export function tInterval95(xs: readonly number[]): [number, number] {
  if (xs.length < 2) throw badInput(`a t-interval needs at least 2 seeds, got ${xs.length}`);
  const m = mean(xs);
  const half = (t975(xs.length - 1) * sampleSd(xs)) / Math.sqrt(xs.length);
  return [clip01(m - half), clip01(m + half)];
}

/** 95% Wilson score interval of a success rate `p` measured on `n` independent tasks. */
export function wilson95(p: number, n: number): [number, number] {
  if (!(n >= 1)) throw badInput(`Wilson interval needs n >= 1 tasks, got ${n}`);
  if (!(p >= 0 && p <= 1)) throw badInput(`Wilson interval needs a rate in [0, 1], got ${p}`);
  const z = 1.96;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z / d) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [clip01(c - h), clip01(c + h)];
}

export type CiMethod =
  | 't-interval over seeds'
  | 'Wilson interval over validation tasks (1 seed)'
  | 'Wilson interval over validation tasks (seeds identical)';

/**
 * Mean pass@k curve over seeds with a 95% CI per k: t-interval over seeds when there are ≥ 2 that differ, else a
 * Wilson interval over the `tasks` validation tasks. Seeds that all gave the same curve (an untrained model under
 * the fixed evaluation definition samples the same trials whatever the run seed) carry no spread; a t-interval of
 * width 0 would claim a certainty the 128 tasks do not give.
 */
export function aggregateCurves(
  curves: ReadonlyArray<readonly number[]>,
  tasks: number,
): { pass: number[]; ci95: Array<[number, number]>; method: CiMethod } {
  if (curves.length === 0) throw badInput('no seeds to aggregate');
  const K = curves[0].length;
  if (curves.some((c) => c.length !== K))
    throw badInput(`pass@k curves of different lengths: ${curves.map((c) => c.length).join(', ')}`);
  const identical = curves.every((c) => c.every((x, k) => x === curves[0][k]));
  const overSeeds = curves.length >= 2 && !identical;
  const pass: number[] = [];
  const ci95: Array<[number, number]> = [];
  for (let k = 0; k < K; k++) {
    const xs = curves.map((c) => c[k]);
    const m = mean(xs);
    pass.push(m);
    ci95.push(overSeeds ? tInterval95(xs) : wilson95(m, tasks));
  }
  const method: CiMethod = overSeeds
    ? 't-interval over seeds'
    : curves.length >= 2
      ? 'Wilson interval over validation tasks (seeds identical)'
      : 'Wilson interval over validation tasks (1 seed)';
  return { pass, ci95, method };
}

/** The CI methods of a table's rows as one phrase: the rows' common method, or the main one and the exceptions. */
export function describeCiMethods(byRow: ReadonlyArray<{ row: string; method: CiMethod }>): string {
  const methods = [...new Set(byRow.map((r) => r.method))];
  if (methods.length <= 1) return methods[0] ?? 't-interval over seeds';
  const main = methods.includes('t-interval over seeds') ? 't-interval over seeds' : methods[0];
  const others = methods
    .filter((m) => m !== main)
    .map(
      (m) =>
        `${byRow
          .filter((r) => r.method === m)
          .map((r) => r.row)
          .join(', ')}: ${m}`,
    );
  return `${main} (${others.join('; ')})`;
}
