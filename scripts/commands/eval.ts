/** `lamer eval` — pass@k of a checkpoint on the fixed validation seeds, run in this process. */
import type { Command } from 'commander';
import { addRunOptions, resolveRun, type RunFlags } from '../lib/run-config.js';
import { parseIntOption, printJson } from '../lib/io.js';

export function register(program: Command): void {
  addRunOptions(program.command('eval').description('evaluate a checkpoint (a model directory or a run\'s ckpt-* directory): pass@1..k table'))
    .requiredOption('--checkpoint <dir>', 'model directory (lamer.json + model.safetensors)')
    .option('--tasks <n>', 'validation tasks', parseIntOption('tasks', 1))
    .option('--attempts <k>', 'episodes per trial (pass@1..k)', parseIntOption('attempts', 1))
    .option('--json', 'print one JSON line')
    .action(async (flags: RunFlags & { checkpoint: string; tasks?: number; attempts?: number; json?: boolean }) => {
      const { resolveEnvId } = await import('../../actor/envs/registry.js');
      const { evaluateModel } = await import('../lib/pretrain-job.js');
      const { loadModelDir } = await import('../../shared/model/checkpoint-files.js');
      const { trajectoryDiversity } = await import('../../shared/rl/metrics.js');
      const { config } = resolveRun({ ...flags, runDir: flags.runDir ?? 'runs/eval-unused' }, resolveEnvId);
      if (flags.tasks) config.run.evalTasks = flags.tasks;
      if (flags.attempts) config.run.evalAttempts = flags.attempts;
      const m = loadModelDir(flags.checkpoint);
      const t0 = Date.now();
      const { pass, results } = await evaluateModel(config, { config: m.config, params: m.params, tokenizer: m.tokenizer! });
      const episodes = results.map((r) => {
        const eps: string[][] = [];
        for (const row of r.rows) if (row.phase === 'play') (eps[row.episode] ??= []).push(row.actionText);
        return eps;
      });
      const diversity = trajectoryDiversity(episodes).mean;
      // ALFWorld: success per task type and for the in-distribution / out-of-distribution splits.
      let byTaskType: unknown;
      if (config.env.id === 'lamer/ALFWorld-v0') {
        const { alfworldEvalReport } = await import('../../actor/envs/index.js');
        const { evalTaskSeed } = await import('../../learner/task-book.js');
        byTaskType = alfworldEvalReport(results.map((r, i) => ({ seed: evalTaskSeed(config.run.seed, i), episodesWon: r.episodesWon })));
      }
      const out = { env: config.env.id, tasks: config.run.evalTasks, attempts: config.run.evalAttempts, pass, diversity, seconds: (Date.now() - t0) / 1000, ...(byTaskType ? { byTaskType } : {}) };
      if (flags.json) return printJson(out);
      if (byTaskType) process.stdout.write(`${JSON.stringify(byTaskType, null, 2)}\n`);
      process.stdout.write(`${out.env}: ${out.tasks} tasks, ${out.attempts} attempts (${out.seconds.toFixed(1)} s)\n`);
      process.stdout.write(pass.map((p, k) => `  pass@${k + 1}  ${(100 * p).toFixed(1)}%`).join('\n') + `\n  diversity ${diversity.toFixed(3)}\n`);
    });
}
