/**
 * `lamer score --checkpoint DIR --input FILE [--json]`: per-token log-probs of token sequences under a checkpoint.
 * FILE: `{"sequences": [[token ids...], ...]}`; output `{"logprobs": [[null, lp1, ...], ...]}` where entry t is
 * log p(token t | tokens < t) (entry 0 is null).
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('score')
    .description('log p(token t | tokens < t) of given token sequences under a checkpoint')
    .requiredOption('--checkpoint <dir>', 'model checkpoint directory (model.safetensors, config.json, lamer.json)')
    .requiredOption('--input <file>', 'JSON file {"sequences": [[token ids...], ...]}')
    .option('--threads <n>', 'onnxruntime intra-op threads', '1')
    .option('--json', 'print {"logprobs": [[null, ...], ...]} on stdout')
    .action(async (opts: { checkpoint: string; input: string; threads: string; json?: boolean }) => {
      const { readJsonFile, printJson, parseIntOption } = await import('../lib/io.js');
      const { badInput } = await import('../../shared/errors.js');
      const { loadModelDir } = await import('../../shared/model/checkpoint-files.js');
      const { createScorer } = await import('../../shared/model/scorer.js');
      const threads = parseIntOption('threads', 1)(opts.threads);
      const input = readJsonFile(opts.input, 'score input') as { sequences?: unknown } | null;
      if (typeof input !== 'object' || input === null || !Array.isArray(input.sequences)) {
        throw badInput(`score input '${opts.input}' must be an object {"sequences": [[token ids...], ...]}`);
      }
      const model = loadModelDir(opts.checkpoint);
      const scorer = await createScorer(model.config, model.params, { threads });
      try {
        const logprobs = await scorer.logprobs(input.sequences as number[][]);
        if (opts.json) {
          printJson({ logprobs });
          return;
        }
        const lines = ['seq\ttokens\tsum_logp\tmean_logp'];
        logprobs.forEach((row, i) => {
          const vals = row.filter((x): x is number => x !== null);
          const sum = vals.reduce((a, b) => a + b, 0);
          lines.push(`${i}\t${row.length}\t${sum.toFixed(4)}\t${vals.length ? (sum / vals.length).toFixed(4) : '-'}`);
        });
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        await scorer.close();
      }
    });
}
