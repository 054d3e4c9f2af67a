/**
 * The live dashboard in a real headless browser (Debian's Chromium driven by playwright-core) during a short
 * training run with two actor processes: the page loads without console errors, every chart renders data points
 * on its canvas, values update without a reload (server-sent events), and a screenshot goes to docs/dashboard.png.
 * Chromium is required, not optional: .ci/run installs it; a missing browser fails this test.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { type LiveRun, startLiveRun, until } from './live-run.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url));
const CHARTS = ['chart-eval', 'chart-rollout', 'chart-loss', 'chart-throughput', 'chart-lag', 'chart-idle'];

let browser: Browser | null = null;
let live: LiveRun | null = null;
afterAll(async () => {
  await browser?.close();
  for (const a of live?.actors ?? []) if (a.exitCode === null) a.kill('SIGKILL');
});

describe('dashboard in a headless browser (e2e)', () => {
  it('renders live charts with data, updates without ' +
    'reload, logs no console errors, and is screenshotted', async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: install it with 'apt-get install -y chromium' (.ci/run does)`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    live = await startLiveRun({ actors: 2, config: { run: { evalEvery: 2 } } });
    const { learner } = live;
    try {
      const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await until('the first update', () => learner.policyVersion >= 1, 120_000);
      await page.goto(`${learner.httpUrl}/`);
      await page.evaluate('window.loadedOnce = 1');
      const v0 = Number(await page.getAttribute('#version', 'data-version'));
      const events0 = Number(await page.evaluate('window.__lamer.metricsEvents'));

      // Live: the version shown and the points drawn grow while the page stays the same document.
      await until(
        'the page to show 3 newer versions',
        async () => Number(await page.getAttribute('#version', 'data-version')) >= Math.max(v0 + 3, 4),
        120_000,
      );
      await until(
        'a second evaluation point',
        async () => Number(await page.getAttribute('#chart-eval', 'data-points')) >= 2 * 3,
        60_000,
      );
      expect(await page.evaluate('window.loadedOnce')).toBe(1);
      expect(Number(await page.evaluate('window.__lamer.metricsEvents'))).toBeGreaterThan(events0);

      for (const id of CHARTS) {
        await until(
          `points in ${id}`,
          async () => Number(await page.getAttribute(`#${id}`, 'data-points')) > 0,
          20_000,
        );
        // The canvas holds drawn pixels in series colours (not just axes): count non-grey pixels.
        // (A string expression: the test compiles without the DOM types.)
        const coloured = Number(
          await page.evaluate(`(() => {
          const c = document.querySelector('#${id} canvas');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4)
            if (d[i + 3] > 0 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++;
          return n;
        })()`),
        );
        expect(coloured, id).toBeGreaterThan(20);
      }
      const rows = await page.$$eval('#actors tbody tr', (trs) => trs.map((tr) => tr.children[0].textContent));
      expect(rows.sort()).toEqual(['a0', 'a1']);
      expect(await page.textContent('#phase')).toBe('ready');
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await live.stop();
    }
  }, 300_000);
});
