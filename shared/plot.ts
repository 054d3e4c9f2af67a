/**
 * Line charts and grouped bar charts as SVG, rendered to PNG with resvg (a prebuilt binary shipped in the npm package;
 * no canvas/native build needed). Small on purpose: axes, ticks, legend, several series per panel.
 */
import { Resvg } from '@resvg/resvg-js';

export interface Series {
  name: string;
  points: Array<[number, number]>;
}

export interface Panel {
  kind?: 'lines';
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  yMin?: number;
  yMax?: number;
}

/**
 * Grouped bars: one group per category (a configuration), one bar per series within it. For categorical
 * comparisons, where a line across configuration indices would suggest a trend that does not exist.
 */
export interface BarPanel {
  kind: 'bars';
  title: string;
  yLabel: string;
  categories: string[];
  series: Array<{ name: string; values: number[] }>;
  yMin?: number;
  yMax?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-12; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(1);
  return Number(v.toPrecision(4)).toString();
}

function panelSvg(p: Panel, ox: number, oy: number, w: number, h: number): string {
  const m = { l: 62, r: 12, t: 28, b: 44 };
  const pw = w - m.l - m.r;
  const ph = h - m.t - m.b;
  const pts = p.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  let [x0, x1] = pts.length ? [Math.min(...pts.map((q) => q[0])), Math.max(...pts.map((q) => q[0]))] : [0, 1];
  let [y0, y1] = pts.length ? [Math.min(...pts.map((q) => q[1])), Math.max(...pts.map((q) => q[1]))] : [0, 1];
  if (p.yMin !== undefined) y0 = Math.min(y0, p.yMin);
  if (p.yMax !== undefined) y1 = Math.max(y1, p.yMax);
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const sx = (x: number) => ox + m.l + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => oy + m.t + ph - ((y - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(
    `<text x="${ox + w / 2}" y="${oy + 18}" text-anchor="middle" ` +
      `font-size="14" font-weight="bold">${esc(p.title)}</text>`,
  );
  parts.push(`<rect x="${ox + m.l}" y="${oy + m.t}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  for (const t of niceTicks(x0, x1)) {
    parts.push(`<line x1="${sx(t)}" y1="${oy + m.t + ph}" x2="${sx(t)}" y2="${oy + m.t + ph + 4}" stroke="#444"/>`);
    parts.push(`<text x="${sx(t)}" y="${oy + m.t + ph + 16}" text-anchor="middle" font-size="11">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${ox + m.l}" y1="${sy(t)}" x2="${ox + m.l + pw}" y2="${sy(t)}" stroke="#ddd"/>`);
    parts.push(`<text x="${ox + m.l - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  parts.push(
    `<text x="${ox + m.l + pw / 2}" y="${oy + h - 8}" text-anchor="middle" font-size="12">${esc(p.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(${ox + 14},${oy + m.t + ph / 2}) ` +
      `rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`,
  );
  p.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const good = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (good.length > 1)
      parts.push(
        `<polyline fill="none" stroke="${c}" stroke-width="2" ` +
          `points="${good.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
      );
    for (const [x, y] of good.length <= 40 ? good : [])
      parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${c}"/>`);
    parts.push(`<rect x="${ox + m.l + 8}" y="${oy + m.t + 8 + i * 16}" width="10" height="10" fill="${c}"/>`);
    parts.push(`<text x="${ox + m.l + 22}" y="${oy + m.t + 17 + i * 16}" font-size="11">${esc(s.name)}</text>`);
  });
  return parts.join('\n');
}

function barPanelSvg(p: BarPanel, ox: number, oy: number, w: number, h: number): string {
  const m = { l: 62, r: 12, t: 28, b: 44 };
  const pw = w - m.l - m.r;
  const ph = h - m.t - m.b;
  const vals = p.series.flatMap((s) => s.values).filter(Number.isFinite);
  const y0 = Math.min(p.yMin ?? 0, ...vals);
  // Headroom above the tallest bar for its value label and the legend.
  let y1 = Math.max(p.yMax ?? -Infinity, y0 + (Math.max(...vals, y0 + 1e-9) - y0) * (1 + 0.12 * (p.series.length + 1)));
  const ticks = niceTicks(y0, y1);
  y1 = Math.max(y1, ticks[ticks.length - 1]);
  if (y1 === y0) y1 = y0 + 1;
  const sy = (y: number) => oy + m.t + ph - ((y - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(
    `<text x="${ox + w / 2}" y="${oy + 18}" text-anchor="middle" ` +
      `font-size="14" font-weight="bold">${esc(p.title)}</text>`,
  );
  parts.push(`<rect x="${ox + m.l}" y="${oy + m.t}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  for (const t of ticks) {
    parts.push(`<line x1="${ox + m.l}" y1="${sy(t)}" x2="${ox + m.l + pw}" y2="${sy(t)}" stroke="#ddd"/>`);
    parts.push(`<text x="${ox + m.l - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  parts.push(
    `<text transform="translate(${ox + 14},${oy + m.t + ph / 2}) ` +
      `rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`,
  );
  const groupW = pw / Math.max(1, p.categories.length);
  const barW = (groupW * 0.75) / Math.max(1, p.series.length);
  p.categories.forEach((cat, ci) => {
    const gx = ox + m.l + ci * groupW + groupW * 0.125;
    p.series.forEach((s, si) => {
      const v = s.values[ci];
      if (!Number.isFinite(v)) return;
      const top = sy(Math.max(v, y0));
      const base = sy(Math.max(y0, Math.min(0, y1)));
      parts.push(
        `<rect x="${(gx + si * barW).toFixed(1)}" ` +
          `y="${Math.min(top, base).toFixed(1)}" width="${(barW * 0.92).toFixed(1)}" ` +
          `height="${Math.abs(base - top).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"/>`,
      );
      parts.push(
        `<text x="${(gx + si * barW + barW * 0.46).toFixed(1)}" ` +
          `y="${(Math.min(top, base) - 3).toFixed(1)}" text-anchor="middle" font-size="10">${fmt(v)}</text>`,
      );
    });
    parts.push(
      `<text x="${(gx + groupW * 0.375).toFixed(1)}" y="${oy + m.t + ph + 16}" ` +
        `text-anchor="middle" font-size="11">${esc(cat)}</text>`,
    );
  });
  parts.push(
    `<rect x="${ox + m.l + pw - 106}" y="${oy + m.t + 4}" width="100" ` +
      `height="${8 + p.series.length * 16}" fill="white" fill-opacity="0.85"/>`,
  );
  p.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    parts.push(`<rect x="${ox + m.l + pw - 100}" y="${oy + m.t + 8 + i * 16}" width="10" height="10" fill="${c}"/>`);
    parts.push(`<text x="${ox + m.l + pw - 86}" y="${oy + m.t + 17 + i * 16}" font-size="11">${esc(s.name)}</text>`);
  });
  return parts.join('\n');
}

/** Panels laid out in a grid (columns given), as one SVG document. */
export function chartSvg(
  panels: Array<Panel | BarPanel>,
  opts: { columns?: number; panelWidth?: number; panelHeight?: number } = {},
): string {
  const cols = Math.max(1, Math.min(opts.columns ?? 2, panels.length));
  const w = opts.panelWidth ?? 480;
  const h = opts.panelHeight ?? 320;
  const rows = Math.ceil(panels.length / cols);
  const body = panels
    .map((p, i) =>
      (p.kind === 'bars' ? barPanelSvg : panelSvg)(
        p as Panel & BarPanel,
        (i % cols) * w,
        Math.floor(i / cols) * h,
        w,
        h,
      ),
    )
    .join('\n');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * w}" height="${rows * h}" ` +
    `font-family="DejaVu Sans, sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${body}\n</svg>\n`
  );
}

export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
}

/**
 * Exponential moving average with bias correction (as TensorBoard's smoothing slider): per-update metrics such as
 * training pass@k are noisy; the correction keeps the first points from being pulled towards 0.
 */
export function smoothEma(points: ReadonlyArray<[number, number]>, weight = 0.8): Array<[number, number]> {
  let last = 0;
  let n = 0;
  const out: Array<[number, number]> = [];
  for (const [x, y] of points) {
    if (!Number.isFinite(y)) continue;
    last = last * weight + (1 - weight) * y;
    n++;
    out.push([x, last / (1 - weight ** n)]);
  }
  return out;
}
