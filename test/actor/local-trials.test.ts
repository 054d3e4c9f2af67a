import { describe, expect, it } from 'vitest';
import { compactVocabulary, parseReflection } from '../../actor/envs/prompt.js';
import { type DemoLabels, runDemoTrial, type TrialSettings } from '../../actor/local-trials.js';
import { WordTokenizer } from '../../shared/model/tokenizer.js';
import { passAtKCurve } from '../../shared/rl/metrics.js';

const settings = (envId: string, over: Partial<TrialSettings> = {}): TrialSettings => ({
  envId,
  envOptions: envId.includes('Sokoban') ? { movesPerTurn: 3 } : {},
  template: 'compact',
  memory: 'reflection',
  attempts: 3,
  maxTurns: 7,
  reflect: true,
  nCtx: 256,
  maxActionTokens: 8,
  maxReflectTokens: 12,
  ...over,
});

async function demos(s: TrialSettings, n: number, noise: number, labels: DemoLabels = 'played') {
  const tok = new WordTokenizer([...compactVocabulary(s.envId)]);
  const out = [];
  for (let i = 0; i < n; i++) out.push({ tok, r: await runDemoTrial(s, 1000 + i, tok, { noise, seed: 7, labels }) });
  return out;
}

describe('demonstrations', () => {
  for (const envId of ['lamer/MineSweeper-v0', 'lamer/Sokoban-v0']) {
    it(`${envId}: every reflection fits maxReflectTokens with its closing tag and parses`, async () => {
      let reflections = 0;
      for (const { tok, r } of await demos(settings(envId, { maxReflectTokens: 8 }), 30, 0.5)) {
        for (const row of r.rows.filter((x) => x.phase === 'reflect')) {
          reflections++;
          expect(row.response.length).toBeLessThanOrEqual(8);
          const text = tok.decode(Array.from(row.response));
          expect(text.trim().endsWith('</remark>')).toBe(true);
          expect(parseReflection(envId, 'compact', text).valid).toBe(true);
          expect(row.valid).toBe(true);
        }
      }
      expect(reflections).toBeGreaterThan(10);
    });
  }

  const minesweeperMemory =
    'MineSweeper: without memory a retry repeats the fatal click; with memory it never reopens a remembered mine';
  it(minesweeperMemory, async () => {
    const withMem = await demos(settings('lamer/MineSweeper-v0'), 40, 0.5);
    const noMem = await demos(settings('lamer/MineSweeper-v0', { reflect: false }), 40, 0.5);
    const clicks = (r: (typeof withMem)[number]['r'], ep: number) =>
      r.rows.filter((x) => x.phase === 'play' && x.episode === ep).map((x) => x.actionText);
    let repeatsWithout = 0;
    let lostFirst = 0;
    for (const { r } of noMem) {
      if (r.episodesWon[0]) continue;
      lostFirst++;
      // Same board, no memory: the same keyed noise, so the same attempt.
      expect(clicks(r, 1)).toEqual(clicks(r, 0));
      repeatsWithout++;
    }
    expect(lostFirst).toBeGreaterThan(5);
    expect(repeatsWithout).toBe(lostFirst);
    for (const { r } of withMem) {
      const reflections = r.rows.filter((x) => x.phase === 'reflect').map((x) => x.actionText);
      reflections.forEach((refl, i) => {
        const m = /mine (\d+) (\d+)/.exec(refl);
        if (!m) return;
        // No later episode opens the cell its own reflection named as a mine.
        for (let ep = i + 1; ep < r.episodesWon.length; ep++) expect(clicks(r, ep)).not.toContain(`(${m[1]}, ${m[2]})`);
      });
    }
    const passWith = passAtKCurve(
      withMem.map(({ r }) => r.episodesWon),
      3,
    );
    const passWithout = passAtKCurve(
      noMem.map(({ r }) => r.episodesWon),
      3,
    );
    expect(passWithout[2]).toBe(passWithout[0]);
    expect(passWith[2]).toBeGreaterThan(passWith[0]);
  });

  it('Sokoban: without memory a retry repeats the attempt; with memory later attempts win more often', async () => {
    const noMem = await demos(settings('lamer/Sokoban-v0', { reflect: false }), 30, 0.5);
    const moves = (r: (typeof noMem)[number]['r'], ep: number) =>
      r.rows.filter((x) => x.phase === 'play' && x.episode === ep).map((x) => x.actionText);
    let lost = 0;
    for (const { r } of noMem) {
      if (r.episodesWon[0]) continue;
      lost++;
      expect(moves(r, 1)).toEqual(moves(r, 0));
    }
    expect(lost).toBeGreaterThan(5);
    const withMem = await demos(settings('lamer/Sokoban-v0'), 30, 0.5);
    const passWith = passAtKCurve(
      withMem.map(({ r }) => r.episodesWon),
      3,
    );
    expect(passWith[2]).toBeGreaterThan(passWith[0]);
  });

  describe('labels', () => {
    const ms = 'lamer/MineSweeper-v0';
    const same = (a: Int32Array, b: Int32Array) => Array.from(a).join() === Array.from(b).join();

    it("'played' labels are the played responses; 'solver' plays the same trial", async () => {
      const played = await demos(settings(ms), 20, 0.5);
      const solver = await demos(settings(ms), 20, 0.5, 'solver');
      played.forEach(({ r }, i) => {
        expect(r.labels.length).toBe(r.rows.length);
        r.rows.forEach((row, j) => expect(same(r.labels[j], row.response)).toBe(true));
        // The label is learned, never played: the trial itself is the same one.
        expect(solver[i].r.rows.map((x) => x.actionText)).toEqual(r.rows.map((x) => x.actionText));
      });
    });

    it("'solver' labels are the noise-free, memory-aware action: equal to the played one without noise", async () => {
      for (const { r } of await demos(settings(ms), 10, 0, 'solver'))
        r.rows.forEach((row, j) => expect(same(r.labels[j], row.response)).toBe(true));
      let differ = 0;
      let play = 0;
      for (const { tok, r } of await demos(settings(ms), 20, 1, 'solver')) {
        const mines = new Set<string>();
        r.rows.forEach((row, j) => {
          const label = tok.decode(Array.from(r.labels[j])).trim();
          if (row.phase === 'reflect') {
            expect(label).toBe(tok.decode(Array.from(row.response)).trim());
            const m = /mine (\d+) (\d+)/.exec(row.actionText);
            if (m) mines.add(`${m[1]} ${m[2]}`);
            return;
          }
          play++;
          expect(label).toMatch(/^\d+ \d+ <\/action>$/);
          // A cell its own memory names as a mine is never the label.
          expect(mines.has(label.replace(' </action>', ''))).toBe(false);
          if (!same(r.labels[j], row.response)) differ++;
        });
      }
      // With every played click random, most labels are another cell.
      expect(differ).toBeGreaterThan(play / 2);
    });
  });
});
