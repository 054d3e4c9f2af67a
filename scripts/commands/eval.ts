/**
 * `lamer eval` — pass@k on the fixed validation seeds, run in this process, with the embedded model (a checkpoint)
 * or any OpenAI-compatible server, optionally under the prompting-baseline presets (zeroshot, react, reflexion).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { addConfigOptions, resolveRun, type RunFlags } from '../lib/run-config.js';
import { parseIntOption, printJson } from '../lib/io.js';

interface EvalFlags extends RunFlags {
  checkpoint?: string;
  tasks?: number;
  attempts?: number;
  json?: boolean;
  backend?: 'onnx' | 'openai';
  baseUrl?: string;
  model?: string;
  apiKeyEnv?: string;
  endpoint?: 'chat' | 'completions';
  concurrency?: number;
  maxTokens?: number;
  template?: 'compact' | 'full';
  preset?: string;
  /** commander sets `thinking: false` for --no-thinking. */
  thinking?: boolean;
}

/** One preset's evaluation result. */
export interface PresetReport {
  preset: string;
  pass: number[];
  diversity: number;
  invalidFrac: number;
  seconds: number;
  byTaskType?: unknown;
}

function pct(p: number): string {
  return `${(100 * p).toFixed(1)}%`;
}

/** The paper-style table: one row per preset, pass@1..k columns. */
export function passTable(reports: PresetReport[], attempts: number): string {
  const head = [
    'preset',
    ...Array.from({ length: attempts }, (_, k) => `pass@${k + 1}`),
    'invalid',
    'diversity',
    'seconds',
  ];
  const rows = reports.map((r) => [
    r.preset,
    ...r.pass.map(pct),
    pct(r.invalidFrac),
    r.diversity.toFixed(3),
    r.seconds.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

export function register(program: Command): void {
  addConfigOptions(
    program
      .command('eval')
      .description(
        'evaluate a checkpoint or an OpenAI-compatible server: pass@1..k table (presets: the prompting baselines)',
      ),
  )
    .option('--run-dir <dir>', 'a training run: evaluate its newest valid checkpoint under its own configuration')
    .option(
      '--checkpoint <dir>',
      'a model directory (lamer.json + model.safetensors), e.g. ' +
        'runs/<run>/checkpoints/ckpt-<version> or runs/base/<model>',
    )
    .option('--tasks <n>', 'validation tasks', parseIntOption('tasks', 1))
    .option('--attempts <k>', 'episodes per trial (pass@1..k)', parseIntOption('attempts', 1))
    .addOption(new Option('--backend <name>', 'policy backend (policy.backend)').choices(['onnx', 'openai']))
    .option('--base-url <url>', 'OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (policy.baseUrl)')
    .option('--model <name>', 'served model name (policy.model)')
    .option('--api-key-env <VAR>', 'environment variable holding the API key (policy.apiKeyEnv)')
    .addOption(
      new Option('--endpoint <kind>', 'chat or completions (policy.endpoint)').choices(['chat', 'completions']),
    )
    .option('--concurrency <n>', 'requests in flight (policy.concurrency)', parseIntOption('concurrency', 1))
    .option(
      '--max-tokens <n>',
      'response cap for the full template (policy.maxTokens)',
      parseIntOption('max-tokens', 1),
    )
    .addOption(
      new Option(
        '--template <t>',
        'prompt template (default: full for --backend openai unless --set env.template, else env.template)',
      ).choices(['compact', 'full']),
    )
    .option('--preset <list>', 'comma-separated presets: zeroshot, react, reflexion, lamer (the configured memory)')
    .option('--no-thinking', 'chat: ask the server for non-thinking mode (Qwen3; policy.disableThinking)')
    .option('--json', 'print one JSON line')
    .action(async (flags: EvalFlags) => {
      const { resolveEnvId } = await import('../../actor/envs/registry.js');
      const { badInput } = await import('../../shared/errors.js');
      const { trajectoryDiversity, passAtKCurve } = await import('../../shared/rl/metrics.js');
      const { evalTaskSeed } = await import('../../learner/task-book.js');
      const { describeEval, evalDefinition, EVAL_SAMPLING_SEED } = await import('../../shared/eval-definition.js');
      const { existsSync } = await import('node:fs');
      const { join } = await import('node:path');
      // A run directory (given as --run-dir, or as --checkpoint) is the base configuration layer, as for a resume.
      const cp = flags.checkpoint;
      const runDir =
        flags.runDir ??
        (cp && existsSync(join(cp, 'checkpoints')) && existsSync(join(cp, 'config.json')) ? cp : undefined);
      const { config } = resolveRun({ ...flags, runDir: runDir ?? 'runs/eval-unused' }, resolveEnvId);
      if (flags.tasks) config.run.evalTasks = flags.tasks;
      if (flags.attempts) config.run.evalAttempts = flags.attempts;
      const oa = config.policy;
      if (flags.backend) config.policy.backend = flags.backend;
      if (flags.baseUrl) oa.baseUrl = flags.baseUrl;
      if (flags.model) oa.model = flags.model;
      if (flags.apiKeyEnv) oa.apiKeyEnv = flags.apiKeyEnv;
      if (flags.endpoint) oa.endpoint = flags.endpoint;
      if (flags.concurrency) oa.concurrency = flags.concurrency;
      if (flags.maxTokens) oa.maxTokens = flags.maxTokens;
      if (flags.thinking === false) oa.disableThinking = true;
      const backend = config.policy.backend;
      if (backend === 'openai' && !oa.model)
        throw badInput('--backend openai needs --model (the model name the server serves; policy.model)');
      let modelDir = '';
      if (backend === 'onnx') {
        const { resolveModelSource } = await import('../lib/model-source.js');
        const src = await resolveModelSource({ checkpoint: flags.checkpoint, runDir: flags.runDir });
        for (const k of src.skipped)
          process.stderr.write(`lamer eval: skipped corrupt checkpoint ${k.dir}: ${k.reason}\n`);
        modelDir = src.dir;
      }
      // A server gets the full English prompts unless the template was chosen explicitly (lamer serve needs compact).
      const templateSet = (flags.set ?? []).some((x) => x.trim().startsWith('env.template='));
      config.env.template = flags.template ?? (backend === 'openai' && !templateSet ? 'full' : config.env.template);
      const definition = evalDefinition(config);
      const seedList = (n: number) => Array.from({ length: n }, (_, i) => evalTaskSeed(definition.listSeed, i));
      // The env's own breakdown of the results (ALFWorld: by task type and split), if it has one.
      const { envSpec } = await import('../../actor/envs/registry.js');
      const evalReport = envSpec(config.env.id).evalReport;
      const envReport = async (results: Array<{ episodesWon: boolean[] }>) => {
        if (!evalReport) return undefined;
        const seeds = seedList(results.length);
        return evalReport(results.map((r, i) => ({ seed: seeds[i], episodesWon: r.episodesWon })));
      };
      const summarize = (
        results: Array<{ rows: Array<{ phase: string; episode: number; actionText: string; valid: boolean }> }>,
      ) => {
        const episodes = results.map((r) => {
          const eps: string[][] = [];
          for (const row of r.rows) if (row.phase === 'play') (eps[row.episode] ??= []).push(row.actionText);
          return eps;
        });
        const rows = results.flatMap((r) => r.rows);
        return {
          diversity: trajectoryDiversity(episodes).mean,
          invalidFrac: rows.length ? rows.filter((r) => !r.valid).length / rows.length : 0,
        };
      };

      // ---- the embedded model without presets: the original path (the learner's evaluation, same numbers) -------
      if (backend === 'onnx' && !flags.preset) {
        const { evaluateModel } = await import('../lib/pretrain-job.js');
        const { loadModelDir } = await import('../../shared/model/checkpoint-files.js');
        const m = loadModelDir(modelDir);
        const t0 = Date.now();
        const { pass, results } = await evaluateModel(config, {
          config: m.config,
          params: m.params,
          tokenizer: m.tokenizer!,
        });
        const byTaskType = await envReport(results);
        const { diversity } = summarize(results);
        const out = {
          env: config.env.id,
          checkpoint: modelDir,
          evaluation: definition,
          tasks: config.run.evalTasks,
          attempts: config.run.evalAttempts,
          pass,
          diversity,
          seconds: (Date.now() - t0) / 1000,
          ...(byTaskType ? { byTaskType } : {}),
        };
        if (flags.json) return printJson(out);
        if (byTaskType) process.stdout.write(`${JSON.stringify(byTaskType, null, 2)}\n`);
        process.stdout.write(`${modelDir}\n${describeEval(definition)} (${out.seconds.toFixed(1)} s)\n`);
        process.stdout.write(
          pass.map((p, k) => `  pass@${k + 1}  ${(100 * p).toFixed(1)}%`).join('\n') +
            `\n  diversity ${diversity.toFixed(3)}\n`,
        );
        return;
      }

      // ---- presets over either backend ------------------------------------------------------------------------------
      const { parsePresetList } = await import('../../actor/backends/presets.js');
      const { runPresetTrials } = await import('../../actor/backends/eval-trials.js');
      const { trialSettings } = await import('../lib/pretrain-job.js');
      const presets = parsePresetList(flags.preset ?? 'lamer');
      const sampling = { temperature: definition.temperature, topP: definition.topP, seed: EVAL_SAMPLING_SEED };
      const seeds = seedList(config.run.evalTasks);
      const reports: PresetReport[] = [];
      let describeBackend: Record<string, unknown>;
      let close = async () => {};
      let run: (p: (typeof presets)[number]) => ReturnType<typeof runPresetTrials>;
      if (backend === 'onnx') {
        const { loadModelDir } = await import('../../shared/model/checkpoint-files.js');
        const { PolicyPool } = await import('../../shared/model/policy-pool.js');
        const m = loadModelDir(modelDir);
        if (!m.tokenizer) throw badInput(`checkpoint '${modelDir}' has no tokenizer.json`);
        const pool = await PolicyPool.create({ config: m.config, params: m.params, version: 0, threads: 1 });
        close = () => pool.close();
        const settings = trialSettings(config, m.config.nCtx);
        run = (p) =>
          runPresetTrials(
            settings,
            seeds,
            { kind: 'onnx', generator: pool, tokenizer: m.tokenizer!, maxBatch: 64, concurrency: 1 },
            p,
            sampling,
          );
        describeBackend = { backend, checkpoint: modelDir };
      } else {
        const { OpenAIBackend } = await import('../../actor/backends/openai.js');
        const { createLogger } = await import('../../shared/logger.js');
        const client = new OpenAIBackend({
          ...OpenAIBackend.optionsFromConfig(oa),
          logger: createLogger({ level: config.log.level, component: 'eval' }),
        });
        // The full template's answers are free text (reasoning, then the tags): give them the configured budget.
        const base = trialSettings(config, Number.MAX_SAFE_INTEGER);
        const settings =
          config.env.template === 'full'
            ? { ...base, maxActionTokens: oa.maxTokens, maxReflectTokens: oa.maxTokens }
            : base;
        run = (p) => runPresetTrials(settings, seeds, { kind: 'openai', backend: client }, p, sampling);
        describeBackend = { backend, baseUrl: oa.baseUrl, model: oa.model, endpoint: oa.endpoint, stats: client.stats };
      }
      try {
        for (const p of presets) {
          const t0 = Date.now();
          const results = await run(p);
          const pass = passAtKCurve(
            results.map((r) => r.episodesWon),
            config.run.evalAttempts,
          );
          const byTaskType = await envReport(results);
          reports.push({
            preset: p.name,
            pass,
            ...summarize(results),
            seconds: (Date.now() - t0) / 1000,
            ...(byTaskType ? { byTaskType } : {}),
          });
        }
      } finally {
        await close();
      }
      const out = {
        env: config.env.id,
        template: config.env.template,
        evaluation: definition,
        tasks: config.run.evalTasks,
        attempts: config.run.evalAttempts,
        ...describeBackend,
        presets: reports,
      };
      if (flags.json) return printJson(out);
      const who = backend === 'onnx' ? `checkpoint ${modelDir}` : `${oa.model} at ${oa.baseUrl} (${oa.endpoint})`;
      process.stdout.write(`${who}, ${config.env.template} template\n${describeEval(definition)}\n`);
      process.stdout.write(`${passTable(reports, config.run.evalAttempts)}\n`);
      for (const r of reports) if (r.byTaskType) process.stdout.write(`${r.preset}: ${JSON.stringify(r.byTaskType)}\n`);
    });
}
