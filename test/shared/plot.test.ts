import { describe, expect, it } from 'vitest';
import { chartSvg, smoothEma } from '../../shared/plot.js';

describe('smoothEma', () => {
  it('is bias-corrected: a constant series stays constant from the first point, and noise is damped', () => {
    expect(
      smoothEma([
        [0, 0.5],
        [1, 0.5],
        [2, 0.5],
      ]).map((p) => p[1]),
    ).toEqual([0.5, 0.5, 0.5].map((v) => expect.closeTo(v, 12)));
    const noisy = Array.from({ length: 40 }, (_, i) => [i, i % 2] as [number, number]);
    const s = smoothEma(noisy)
      .slice(10)
      .map((p) => p[1]);
    expect(Math.max(...s) - Math.min(...s)).toBeLessThan(0.25);
    expect(
      smoothEma([
        [0, 1],
        [1, NaN],
        [2, 1],
      ]).map((p) => p[0]),
    ).toEqual([0, 2]);
  });
});

describe('bar panels', () => {
  it('draw one labelled group per category with one bar per series', () => {
    const svg = chartSvg([
      {
        kind: 'bars',
        title: 'T',
        yLabel: 'y',
        categories: ['Meta-RL sync', 'RL async'],
        series: [
          { name: 'a', values: [1, 2] },
          { name: 'b', values: [3, NaN] },
        ],
      },
    ]);
    expect(svg).toContain('>Meta-RL sync<');
    expect(svg).toContain('>RL async<');
    const bars = svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="#/g) ?? [];
    expect(bars).toHaveLength(3 + 2); // three finite bars and two legend swatches (the legend box has no "#" fill)
    expect(svg).not.toContain('<polyline');
  });
});
