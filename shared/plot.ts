/**
 * Line charts as SVG, rendered to PNG with resvg (a prebuilt binary shipped in the npm package; no
 * canvas/native build needed). Small on purpose: axes, ticks, legend, several series per panel.
 */
import { Resvg } from '@resvg/resvg-js';

export interface Series {
  name: string;
  points: Array<[number, number]>;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
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
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const sx = (x: number) => ox + m.l + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => oy + m.t + ph - ((y - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(`<text x="${ox + w / 2}" y="${oy + 18}" text-anchor="middle" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
  parts.push(`<rect x="${ox + m.l}" y="${oy + m.t}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  for (const t of niceTicks(x0, x1)) {
    parts.push(`<line x1="${sx(t)}" y1="${oy + m.t + ph}" x2="${sx(t)}" y2="${oy + m.t + ph + 4}" stroke="#444"/>`);
    parts.push(`<text x="${sx(t)}" y="${oy + m.t + ph + 16}" text-anchor="middle" font-size="11">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${ox + m.l}" y1="${sy(t)}" x2="${ox + m.l + pw}" y2="${sy(t)}" stroke="#ddd"/>`);
    parts.push(`<text x="${ox + m.l - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  parts.push(`<text x="${ox + m.l + pw / 2}" y="${oy + h - 8}" text-anchor="middle" font-size="12">${esc(p.xLabel)}</text>`);
  parts.push(`<text transform="translate(${ox + 14},${oy + m.t + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`);
  p.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const good = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (good.length > 1) parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${good.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of good.length <= 40 ? good : []) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${c}"/>`);
    parts.push(`<rect x="${ox + m.l + 8}" y="${oy + m.t + 8 + i * 16}" width="10" height="10" fill="${c}"/>`);
    parts.push(`<text x="${ox + m.l + 22}" y="${oy + m.t + 17 + i * 16}" font-size="11">${esc(s.name)}</text>`);
  });
  return parts.join('\n');
}

/** Panels laid out in a grid (columns given), as one SVG document. */
export function chartSvg(panels: Panel[], opts: { columns?: number; panelWidth?: number; panelHeight?: number } = {}): string {
  const cols = Math.max(1, Math.min(opts.columns ?? 2, panels.length));
  const w = opts.panelWidth ?? 480;
  const h = opts.panelHeight ?? 320;
  const rows = Math.ceil(panels.length / cols);
  const body = panels.map((p, i) => panelSvg(p, (i % cols) * w, Math.floor(i / cols) * h, w, h)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * w}" height="${rows * h}" font-family="DejaVu Sans, sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${body}\n</svg>\n`;
}

export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
}
