/**
 * `lamer experiment` — a preset table (main | memory | gamma | async | baselines | harder) of configurations from one
 * base model, each trained row with the same trajectory budget, seeds as separate resumable runs, evaluated on one
 * fixed validation list with up to 10 attempts; writes docs/results.json, docs/results.runs.json, PNGs and
 * docs/results.md.
 */
import { Option, type Command } from 'commander';
import { badInput } from '../../shared/errors.js';
import { PRESET_NAMES, type PresetName } from '../lib/experiment-presets.js';
import { collect, parseIntOption, printJson } from '../lib/io.js';

export function register(program: Command): void {
  program
    .command('experiment')
    .description(
      'run a preset table of configurations (same base model, ' +
        'same trajectory budget, fixed validation tasks) and publish docs/results.*',
    )
    .addOption(
      new Option(
        '--preset <name>',
        'table to run: main (zeroshot, reflexion, rl, metarl), memory, gamma, async, ' +
          "baselines (ppo, rloo, grpo, gigpo at N=1 and metarl: the paper's Table 1), " +
          "harder (main's zeroshot/rl/metarl evaluated on harder instances, no retraining)",
      ).choices([...PRESET_NAMES]),
    )
    .option('--seeds <s>', 'seeds per row: runs seeds 1..S', parseIntOption('seeds', 1), 3)
    .option(
      '--seed-list <list>',
      'run exactly these seeds, comma-separated (e.g. 3: one seed of a table in its own process); overrides --seeds',
      (v: string) => {
        const seeds = v.split(',').map((x) => Number(x.trim()));
        if (seeds.length === 0 || seeds.some((x) => !Number.isInteger(x) || x < 1))
          throw badInput(`--seed-list: expected comma-separated integers >= 1, got '${v}'`);
        return seeds;
      },
    )
    .option(
      '--env <env>',
      'environment id or alias: minesweeper, sokoban, alfworld (per task type and ID/OOD split), webshop ' +
        '(score and success; 12 turns); alfworld and webshop get per-env defaults (docs/experiments.md)',
      'minesweeper',
    )
    .option(
      '--trajectories <t>',
      'episodes trained per trained row (iterations = round(T / (groupsPerUpdate x groupSize x attempts)))',
      parseIntOption('trajectories', 1),
      9600,
    )
    .option('--eval-tasks <n>', 'fixed validation tasks of the final evaluation', parseIntOption('eval-tasks', 1), 128)
    .option(
      '--attempts <k>',
      'episodes per validation trial of the final evaluation (pass@1..k)',
      parseIntOption('attempts', 3),
      10,
    )
    .option(
      '--curve-tasks <n>',
      'validation tasks of the evaluations during training (learning curve, 3 attempts)',
      parseIntOption('curve-tasks', 1),
      64,
    )
    .option('--curve-points <n>', 'evaluations during a training run', parseIntOption('curve-points', 1), 6)
    .option(
      '--diversity-tasks <n>',
      "validation tasks of the paper's trajectory diversity (K independent first episodes each; 0 = skip)",
      parseIntOption('diversity-tasks', 0),
      32,
    )
    .option(
      '--diversity-samples <k>',
      "independent samples K per task of the paper's trajectory diversity",
      parseIntOption('diversity-samples', 2),
      8,
    )
    .option('--base-seed <s>', 'seed of the shared base model', parseIntOption('base-seed', 0), 1)
    .option('--eval-seed <s>', 'seed of the shared validation task list', parseIntOption('eval-seed', 1), 1)
    .option('--rows <names>', 'only these rows of the preset, comma-separated (e.g. reflexion,metarl)', (v: string) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .option(
      '--tag <name>',
      'variant name: results key <preset>-<name>, runs under ' +
        '<env>-<preset>-<name> (use with --set for a documented config change)',
    )
    .option('--runs-dir <dir>', 'where run directories go (<dir>/<env>-<preset>/<row>-s<seed>)', 'runs/experiments')
    .option('--docs-dir <dir>', 'where results.json, results.runs.json, results.md and the PNGs go', 'docs')
    .option('-c, --config <file>', 'YAML/JSON config layer for every row (rows override the keys they define)')
    .option('--set <key=value>', 'config override for every row, e.g. --set algo.lr=1e-4 (repeatable)', collect)
    .option(
      '--train-missing',
      "preset harder: train main's runs it evaluates but cannot find, in main's run directories " +
        '(default: an error naming them)',
    )
    .option('--report', 'only regenerate docs/results.md from docs/results.json and docs/results.runs.json')
    .option('--json', "print the preset's rows as one JSON line")
    .action(
      async (f: {
        preset?: string;
        seeds: number;
        seedList?: number[];
        env: string;
        trajectories: number;
        evalTasks: number;
        attempts: number;
        curveTasks: number;
        curvePoints: number;
        diversityTasks: number;
        diversitySamples: number;
        baseSeed: number;
        evalSeed: number;
        rows?: string[];
        tag?: string;
        runsDir: string;
        docsDir: string;
        config?: string;
        set?: string[];
        report?: boolean;
        trainMissing?: boolean;
        json?: boolean;
      }) => {
        if (f.report) {
          const { writeResultsReport } = await import('../lib/experiment-report.js');
          const out = writeResultsReport(f.docsDir);
          if (f.json) printJson({ report: out });
          else process.stdout.write(`wrote ${out}\n`);
          return;
        }
        if (!f.preset) throw badInput(`--preset is required (${PRESET_NAMES.join(', ')}), or --report`);
        const { resolveEnvId } = await import('../../actor/envs/registry.js');
        const { parseOverride, readConfigFile } = await import('../../shared/config.js');
        const { runExperiment } = await import('../lib/experiment.js');
        const layers = [...(f.config ? [readConfigFile(f.config)] : []), ...(f.set ?? []).map(parseOverride)];
        const out = await runExperiment({
          preset: f.preset as PresetName,
          trainMissing: f.trainMissing,
          rows: f.rows,
          tag: f.tag,
          seeds: f.seedList ?? Array.from({ length: f.seeds }, (_, i) => i + 1),
          envId: resolveEnvId(f.env),
          trajectories: f.trajectories,
          evalTasks: f.evalTasks,
          attempts: f.attempts,
          baseSeed: f.baseSeed,
          evalSeed: f.evalSeed,
          curveTasks: f.curveTasks,
          curvePoints: f.curvePoints,
          diversityTasks: f.diversityTasks,
          diversitySamples: f.diversitySamples,
          runsDir: f.runsDir,
          docsDir: f.docsDir,
          layers,
          command: `npm run -s lamer -- ${process.argv.slice(2).join(' ')}`,
          log: f.json ? () => {} : (l) => process.stdout.write(l + '\n'),
        });
        if (f.json)
          return printJson({
            env: out.env,
            preset: out.preset,
            rows: out.rows,
            ciMethod: out.provenance.ciMethod,
            wallMinutes: out.provenance.wallMinutes,
            files: out.files,
          });
        process.stdout.write(`\n${out.env}/${out.preset} (${out.provenance.ciMethod}):\n`);
        for (const [name, r] of Object.entries(out.rows)) {
          const wal = r.retry
            ? r.retry.winAfterLoss
                .slice(0, 2)
                .map((p) => (p === null ? '–' : (100 * p).toFixed(1)))
                .join('/')
            : '–';
          const fr = r.retry?.fatalRepeat == null ? '–' : (100 * r.retry.fatalRepeat).toFixed(1);
          process.stdout.write(
            `  ${name.padEnd(18)} ${r.pass.map((p) => (100 * p).toFixed(1).padStart(5)).join(' ')}   ` +
              `win after loss ${wal}   fatal repeat ${fr}   diversity ${r.diversity.toFixed(3)}` +
              `/${r.diversityK?.toFixed(3) ?? '–'}   ${r.minutes.toFixed(1)} min/run\n`,
          );
          // ALFWorld's split and WebShop's score, at pass@1 / score@1 .. @k.
          const curve = (p: number[]) => p.map((x) => (100 * x).toFixed(1)).join('/');
          if (r.id || r.ood)
            process.stdout.write(
              `  ${''.padEnd(18)} in-distribution ${r.id ? curve(r.id.pass) : '–'}   ` +
                `out-of-distribution ${r.ood ? curve(r.ood.pass) : '–'}\n`,
            );
          if (r.score) process.stdout.write(`  ${''.padEnd(18)} score ${curve(r.score.mean)}\n`);
        }
        process.stdout.write(`wrote ${out.files.join(', ')}\n`);
      },
    );
}
