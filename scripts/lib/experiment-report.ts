/**
 * docs/results.md, generated from docs/results.json and docs/results.runs.json (never edited by hand): one table
 * per env/preset with 95% CIs, the paper's numbers beside ours, the issue's targets checked from the numbers,
 * the commands and times, the figures; the hand-written reading is included from docs/results.reading.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRESET_NOTES, type PresetName } from './experiment-presets.js';
import {
  readJsonIfExists,
  validateResults,
  type ProvenanceFile,
  type ResultsFile,
  type RowResult,
} from './experiment-results.js';

/** The paper's pass@1/2/3 (docs/method.md §7, secondary sources), for the table beside ours. */
const PAPER: Record<string, Record<string, Record<string, number[]>>> = {
  minesweeper: {
    main: { zeroshot: [4.5, 6.6, 8.6], reflexion: [5.5, 7.2, 9.8], rl: [52.0, 54.9, 55.1], metarl: [44.1, 66.4, 74.4] },
    memory: { trajectory: [NaN, NaN, 69.5], reflection: [NaN, NaN, 80.5], both: [NaN, NaN, 74.4] },
    // Table 1 of the paper has no RLOO row.
    baselines: {
      ppo: [29.7, 34.2, 35.5],
      rloo: [NaN, NaN, NaN],
      grpo: [36.3, 40.0, 40.4],
      gigpo: [52.0, 54.9, 55.1],
      metarl: [44.1, 66.4, 74.4],
    },
  },
  sokoban: {
    main: {
      zeroshot: [6.8, 9.8, 12.9],
      reflexion: [6.4, 9.8, 12.1],
      rl: [41.6, 43.6, 44.1],
      metarl: [42.4, 52.0, 55.9],
    },
    memory: { trajectory: [NaN, NaN, 34.8], reflection: [NaN, NaN, 56.4], both: [NaN, NaN, 55.9] },
    baselines: {
      ppo: [12.5, 15.4, 16.8],
      rloo: [NaN, NaN, NaN],
      grpo: [22.9, 26.4, 27.0],
      gigpo: [41.6, 43.6, 44.1],
      metarl: [42.4, 52.0, 55.9],
    },
  },
  // WebShop success rates from the same summaries (docs/method.md §7); the paper's ALFWorld table is not in them.
  webshop: {
    main: { zeroshot: [1.4, 2.1, 2.3], reflexion: [2.7, 3.3, 3.5], rl: [73.4, 74.6, 75.2], metarl: [67.8, 84.4, 89.1] },
    memory: { trajectory: [NaN, NaN, 89.3], reflection: [NaN, NaN, 92.8], both: [NaN, NaN, 89.1] },
    baselines: {
      ppo: [53.1, 54.5, 54.9],
      rloo: [NaN, NaN, NaN],
      grpo: [72.9, 73.0, 73.0],
      gigpo: [73.4, 74.6, 75.2],
      metarl: [67.8, 84.4, 89.1],
    },
  },
};

/** The paper's gap Meta-RL − RL on its harder instances (docs/method.md §7: "about 10 (Sokoban) and 5 points"). */
const PAPER_HARDER_GAP: Record<string, number> = { sokoban: 10, minesweeper: 5 };

/** `harder` rows are `<row>@<setting>`: Meta-RL − RL at pass@3 per setting, where both rows are present. */
export function harderGaps(rows: Record<string, RowResult>): Array<{ setting: string; gap: number }> {
  const settings = [...new Set(Object.keys(rows).flatMap((n) => (n.includes('@') ? [n.split('@')[1]] : [])))];
  return settings.flatMap((s) => {
    const rl = rows[`rl@${s}`]?.pass[2];
    const meta = rows[`metarl@${s}`]?.pass[2];
    return rl === undefined || meta === undefined ? [] : [{ setting: s, gap: meta - rl }];
  });
}

const pct = (x: number) => (100 * x).toFixed(1);
const cell = (r: RowResult, k: number) =>
  r.pass[k] === undefined ? '–' : `${pct(r.pass[k])} [${pct(r.ci95[k][0])}, ${pct(r.ci95[k][1])}]`;

/** One target of the issue, checked from the numbers. */
export interface TargetCheck {
  target: string;
  value: string;
  met: boolean;
  /** Why a "met" is weak evidence (e.g. CIs wider than the margin). */
  caveat?: string;
}

/** The issue's targets that the given preset's rows allow checking (main: Meta-RL vs RL; async: correction). */
export function checkTargets(preset: string, rows: Record<string, RowResult>): TargetCheck[] {
  const out: TargetCheck[] = [];
  const p = (row: string, k: number) => rows[row]?.pass[k - 1];
  if (preset === 'main' && rows.rl && rows.metarl && rows.rl.pass.length >= 3 && rows.metarl.pass.length >= 3) {
    const d = p('metarl', 3)! - p('rl', 3)!;
    out.push({
      target: 'Meta-RL pass@3 − RL pass@3 ≥ +10 points',
      value: `${d >= 0 ? '+' : ''}${pct(d)} points`,
      met: d >= 0.1 - 1e-12,
    });
    const gm = p('metarl', 3)! - p('metarl', 1)!;
    const gr = p('rl', 3)! - p('rl', 1)!;
    const ratio = gr > 0 ? gm / gr : gm > 0 ? Infinity : NaN;
    out.push({
      target: '(pass@3 − pass@1) of Meta-RL ≥ 2× that of RL',
      value:
        `Meta-RL +${pct(gm)} vs RL +${pct(gr)} points ` +
        `(ratio ${Number.isFinite(ratio) ? ratio.toFixed(2) : ratio})`,
      met: gr > 0 ? gm >= 2 * gr : gm > 0,
    });
  }
  if (
    preset === 'main' &&
    rows.metarl &&
    rows.reflexion &&
    rows.metarl.pass.length >= 3 &&
    rows.reflexion.pass.length >= 3
  ) {
    // Training should add to the memory use the untrained model already has, not erode it.
    const d = p('metarl', 3)! - p('reflexion', 3)!;
    out.push({
      target: 'Meta-RL pass@3 ≥ untrained Reflexion pass@3',
      value: `${d >= 0 ? '+' : ''}${pct(d)} points`,
      met: d >= -1e-12,
    });
    const wm = rows.metarl.retry?.winAfterLoss[0];
    const wr = rows.reflexion.retry?.winAfterLoss[0];
    if (typeof wm === 'number' && typeof wr === 'number') {
      out.push({
        target: 'Meta-RL win-after-loss (attempt 2) ≥ untrained Reflexion',
        value: `${pct(wm)} vs ${pct(wr)}%`,
        met: wm >= wr - 1e-12,
      });
    }
  }
  if (
    preset === 'async' &&
    rows.sync &&
    rows['async-corrected'] &&
    rows['async-uncorrected'] &&
    rows.sync.pass.length >= 3
  ) {
    const d = p('async-corrected', 3)! - p('sync', 3)!;
    // The point difference alone cannot show equivalence when the seeds' CIs are wider than the 2-point margin.
    const widest = Math.max(...['sync', 'async-corrected'].map((n) => (rows[n].ci95[2][1] - rows[n].ci95[2][0]) / 2));
    out.push({
      target: 'async η=4 with correction within 2 points of sync (pass@3)',
      value: `${d >= 0 ? '+' : ''}${pct(d)} points`,
      met: Math.abs(d) <= 0.02 + 1e-12,
      ...(widest > 0.02 ? { caveat: `point estimate only: CI half-widths up to ${pct(widest)} points` } : {}),
    });
    const u = p('async-uncorrected', 3)! - p('async-corrected', 3)!;
    // "Visibly worse": below the corrected row by more than the corrected row's own CI half-width.
    const half = (rows['async-corrected'].ci95[2][1] - rows['async-corrected'].ci95[2][0]) / 2;
    out.push({
      target:
        'async η=4 without correction visibly worse (pass@3 below the corrected row by more than its CI half-width)',
      value: `${u >= 0 ? '+' : ''}${pct(u)} points vs corrected (half-width ${pct(half)})`,
      met: -u > half,
    });
  }
  return out;
}

/** ALFWorld's task types in the paper's order, then the splits (the columns of its table). */
const ALFWORLD_COLUMNS = ['Pick', 'Look', 'Clean', 'Heat', 'Cool', 'Pick2'];

/**
 * ALFWorld (rows with `id`/`ood`): the paper's table, rows × {per-type pass@k, in-distribution, out-of-distribution};
 * WebShop (rows with `score`): score@k beside the success rate. Empty for other envs.
 */
export function envTables(rows: Record<string, RowResult>): string[] {
  const L: string[] = [];
  const all = Object.entries(rows);
  const K = Math.max(...all.map(([, r]) => r.pass.length));
  const ks = [1, 3, K].filter((k, i, a) => k <= K && a.indexOf(k) === i);
  const curve = (p: number[], ci?: Array<[number, number]>) => {
    const last = ci?.[ks[ks.length - 1] - 1];
    const points = ks.map((k) => (p[k - 1] === undefined ? '–' : pct(p[k - 1]))).join(' / ');
    return last ? `${points} [${pct(last[0])}, ${pct(last[1])}]` : points;
  };
  if (all.some(([, r]) => r.id || r.ood || r.byType)) {
    const types = ALFWORLD_COLUMNS.filter((t) => all.some(([, r]) => r.byType?.[t]));
    const tasks = (g: { tasks: number } | undefined) => (g ? ` (${g.tasks})` : '');
    const first = all.find(([, r]) => r.id)?.[1];
    L.push(
      '',
      `ALFWorld by task type and split, pass@${ks.join(' / pass@')} % (validation tasks per column in ` +
        `parentheses; 95% CI of the last in brackets). Trained on ${ALFWORLD_COLUMNS.slice(0, 4).join(', ')} only; ` +
        `${ALFWORLD_COLUMNS.slice(4).join(' and ')} are out of distribution.`,
      '',
      `| row | ${types.map((t) => `${t}${tasks(all.find(([, r]) => r.byType?.[t])?.[1].byType?.[t])}`).join(' | ')} ` +
        `| in-distribution${tasks(first?.id)} | out-of-distribution${tasks(first?.ood)} |`,
      `|---|${types.map(() => '---').join('|')}|---|---|`,
    );
    for (const [name, r] of all) {
      const c = (g?: { pass: number[]; ci95: Array<[number, number]> }) => (g ? curve(g.pass, g.ci95) : '–');
      L.push(`| ${name} | ${types.map((t) => c(r.byType?.[t])).join(' | ')} | ${c(r.id)} | ${c(r.ood)} |`);
    }
  }
  if (all.some(([, r]) => r.score)) {
    L.push(
      '',
      `WebShop score (mean over tasks of the best purchase score within the first k episodes; 0 without a ` +
        `purchase) and success rate (a purchase scoring 1: pass@k above), % at k = ${ks.join(' / ')} ` +
        '(95% CI of the last in brackets):',
      '',
      '| row | score | success |',
      '|---|---|---|',
    );
    for (const [name, r] of all)
      L.push(`| ${name} | ${r.score ? curve(r.score.mean, r.score.ci95) : '–'} | ${curve(r.pass, r.ci95)} |`);
  }
  return L;
}

function presetSection(
  env: string,
  preset: string,
  rows: Record<string, RowResult>,
  prov: ProvenanceFile[string][string] | undefined,
): string[] {
  const K = Math.max(...Object.values(rows).map((r) => r.pass.length));
  const ks = [1, 2, 3, K].filter((k, i, a) => k <= K && a.indexOf(k) === i);
  const L: string[] = [`### ${env} / ${preset}`, ''];
  if (prov) {
    L.push(
      `${prov.seeds.length} seed(s) (${prov.seeds.join(', ')}); ${prov.trajectories.toLocaleString('en-US')} ` +
        `episodes trained per trained row; final evaluation on ${prov.evalTasks} fixed validation tasks ` +
        `(list seed ${prov.evalSeed}) with ${prov.attempts} attempts per trial; 95% CI: ${prov.ciMethod}. ` +
        `Base model pass@1..3 at build time: ${prov.baseModel.pass.map(pct).join('/')}%.`,
      '',
    );
  }
  L.push(
    `| row | ${ks.map((k) => `pass@${k} [95% CI]`).join(' | ')} | pass@3 − pass@1 | win ` +
      'after loss @2/@3 | fatal repeat | diversity trial / K (nats) | minutes/run | what |',
  );
  L.push(`|---|${ks.map(() => '---').join('|')}|---|---|---|---|---|---|`);
  for (const [name, r] of Object.entries(rows)) {
    const gain = r.pass.length >= 3 ? `+${pct(r.pass[2] - r.pass[0])}` : '–';
    const rate = (x: number | null | undefined) => (typeof x === 'number' ? pct(x) : '–');
    const retry = r.retry
      ? `${r.retry.winAfterLoss.slice(0, 2).map(rate).join(' / ')} | ${rate(r.retry.fatalRepeat)}`
      : '– | –';
    const div = `${r.diversity.toFixed(3)} / ${r.diversityK !== undefined ? r.diversityK.toFixed(3) : '–'}`;
    L.push(
      `| ${name} | ${ks.map((k) => cell(r, k - 1)).join(' | ')} | ${gain} | ${retry} ` +
        `| ${div} | ${r.minutes.toFixed(1)} | ${prov?.rows[name]?.description ?? ''} |`,
    );
  }
  L.push(...envTables(rows));
  // A tagged variant `<preset>-<tag>` is described by its preset's note.
  const note = PRESET_NOTES[preset.split('-')[0] as PresetName];
  if (note) L.push('', note);
  if (preset.split('-')[0] === 'harder') {
    const gaps = harderGaps(rows);
    if (gaps.length)
      L.push(
        '',
        `Meta-RL − RL at pass@3: ${gaps.map((g) => `${g.setting} ${g.gap >= 0 ? '+' : ''}${pct(g.gap)}`).join(', ')} ` +
          `points (paper, harder instances: about +${PAPER_HARDER_GAP[env] ?? '?'}).`,
      );
  }
  const paper = PAPER[env]?.[preset];
  if (paper) {
    L.push(
      '',
      `Paper (Qwen3-4B, docs/method.md §7, secondary source), pass@1/2/3 %: ${Object.entries(paper)
        .map(([n, v]) => `${n} ${v.map((x) => (Number.isNaN(x) ? '–' : x.toFixed(1))).join('/')}`)
        .join('; ')}.`,
    );
  }
  const targets = checkTargets(preset, rows);
  if (targets.length) {
    L.push('', '| target | measured | met? |', '|---|---|---|');
    for (const t of targets)
      L.push(`| ${t.target} | ${t.value} | ${t.met ? 'yes' : '**no**'}${t.caveat ? ` (${t.caveat})` : ''} |`);
  }
  if (prov) {
    L.push('', `Per seed (pass@1/pass@3/pass@${prov.attempts} %, minutes):`, '');
    for (const [name, r] of Object.entries(prov.rows)) {
      const eps = r.perSeed.map((s) => s.episodesTrained).filter((e): e is number => typeof e === 'number');
      const episodes = eps.map((e) => e.toLocaleString('en-US')).join(' / ');
      const trainedNote = r.trained
        ? ` (${r.iterations} updates${eps.length ? `, ${episodes} episodes actually trained` : ''})`
        : '';
      const seeds = r.perSeed.map((s) => {
        const passes = `${pct(s.pass[0])}/${pct(s.pass[2] ?? NaN)}/${pct(s.pass[s.pass.length - 1])}`;
        const reused = s.reusedFrom
          ? `, the identical run ${s.reusedFrom}`
          : s.weightsFrom
            ? `, final weights v${s.weightsVersion} of ${s.weightsFrom}`
            : '';
        return `s${s.seed} ${passes} (${s.minutes.toFixed(1)} min${reused})`;
      });
      L.push(`- ${name}${trainedNote}: ${seeds.join('; ')}`);
    }
    L.push(
      '',
      `Command(s), total wall clock ${prov.wallMinutes.toFixed(1)} min (${prov.startedAt} → ${prov.finishedAt}):`,
      '',
    );
    for (const c of prov.commands) L.push('```', c, '```');
    // A preset that trains nothing (harder) has no learning curves.
    const trainedRows = Object.values(prov.rows).some((r) => r.trained);
    const figs = [...(trainedRows ? [`${env}-${preset}-learning.png`] : []), `${env}-${preset}-passk.png`];
    L.push('', ...figs.map((f) => `![${f}](${f})`));
  }
  L.push('');
  return L;
}

/** Builds the markdown text from the two JSON files (and the optional hand-written reading). */
export function renderResultsReport(results: ResultsFile, prov: ProvenanceFile, reading: string | null): string {
  const L: string[] = [
    '# Results: LaMer (Meta-RL) vs RL at embedded scale',
    '',
    '<!-- Generated by `npm run -s lamer -- experiment --report` from docs/results.json, ' +
      'docs/results.runs.json and docs/results.reading.md; do not edit by hand. -->',
    '',
    'Rates are percentages. pass@k = share of validation tasks solved within ' +
      'the first k episodes of one trial (pass@k for k ≤ 3 comes from the same',
    '10-attempt trials as pass@10). Win after loss @k = share of trials ' +
      'that won attempt k among those whose attempts 1..k−1 all failed (a blind',
    'restart scores about pass@1 here). Fatal repeat = share of later attempts ' +
      'that repeat what killed an earlier attempt of the trial (MineSweeper:',
    'open the cell it died on; Sokoban: reach the state it dead-locked in); ' +
      'both are means over seeds. Diversity trial = mean over tasks of the',
    "entropy of the distinct action sequences among the trial's episodes " +
      '(a task solved at the first attempt contributes 0); diversity K = the',
    "paper's definition: entropy of the distinct action sequences of K " +
      'independent first episodes of each task (K = 8 on the first 32 validation',
    'tasks unless the preset says otherwise), mean over tasks. Minutes = wall clock of one run of ' +
      'the row (training + final evaluation), mean over seeds, on a shared 2-core machine under `nice`.',
    '',
  ];
  for (const [env, presets] of Object.entries(results)) {
    L.push(`## ${env}`, '');
    for (const [preset, rows] of Object.entries(presets))
      L.push(...presetSection(env, preset, rows, prov[env]?.[preset]));
  }
  if (reading) L.push('## Reading', '', reading.trim(), '');
  return L.join('\n');
}

/** Regenerates docs/results.md; returns its path. */
export function writeResultsReport(docsDir: string): string {
  const results = validateResults(readJsonIfExists(join(docsDir, 'results.json')) ?? {}, join(docsDir, 'results.json'));
  const prov = (readJsonIfExists(join(docsDir, 'results.runs.json')) ?? {}) as ProvenanceFile;
  const readingPath = join(docsDir, 'results.reading.md');
  const reading = existsSync(readingPath) ? readFileSync(readingPath, 'utf8') : null;
  const out = join(docsDir, 'results.md');
  writeFileSync(out, renderResultsReport(results, prov, reading));
  return out;
}
