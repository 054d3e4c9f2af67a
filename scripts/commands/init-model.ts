/**
 * `lamer init-model --out DIR [--seed S] [model options]`: writes a randomly initialised checkpoint (GPT-2 init)
 * with a Hugging Face config.json, optionally with a word-level tokenizer (`--words FILE`).
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('init-model')
    .description('write a randomly initialised policy checkpoint (GPT-2 init, HF GPT-2 tensor names)')
    .requiredOption('--out <dir>', 'checkpoint directory to write (created if missing)')
    .option('--seed <n>', 'initialisation seed', '1')
    .option('--vocab-size <n>', 'vocabulary size (default: the tokenizer size with --words, else 64)')
    .option('--n-ctx <n>', 'context length', '128')
    .option('--d-model <n>', 'width', '64')
    .option('--n-layer <n>', 'transformer blocks', '2')
    .option('--n-head <n>', 'attention heads (must divide --d-model)', '4')
    .option(
      '--words <file>',
      'tokenizer words: a JSON array of strings, or whitespace-separated text (specials are added first)',
    )
    .option('--json', 'print {"out", "config", "params", "tokenizer"} on stdout')
    .action(
      async (opts: {
        out: string;
        seed: string;
        vocabSize?: string;
        nCtx: string;
        dModel: string;
        nLayer: string;
        nHead: string;
        words?: string;
        json?: boolean;
      }) => {
        const { readFileSync } = await import('node:fs');
        const { printJson, parseIntOption } = await import('../lib/io.js');
        const { badInput } = await import('../../shared/errors.js');
        const { parseModelConfig } = await import('../../shared/model/config.js');
        const { buildManifest, initParams } = await import('../../shared/model/manifest.js');
        const { WordTokenizer } = await import('../../shared/model/tokenizer.js');
        const { saveModelDir } = await import('../../shared/model/checkpoint-files.js');
        let tokenizer: InstanceType<typeof WordTokenizer> | undefined;
        if (opts.words) {
          let text: string;
          try {
            text = readFileSync(opts.words, 'utf8');
          } catch (e) {
            throw badInput(
              `cannot read --words file '${opts.words}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
            );
          }
          const trimmed = text.trim();
          let words: unknown = trimmed.split(/\s+/).filter(Boolean);
          if (trimmed.startsWith('[')) {
            try {
              words = JSON.parse(trimmed);
            } catch (e) {
              throw badInput(
                `--words file '${opts.words}' looks like JSON but does not parse: ${(e as Error).message}`,
              );
            }
          }
          tokenizer = new WordTokenizer(words as string[]);
        }
        const seed = parseIntOption('seed', 0)(opts.seed);
        const vocabSize = opts.vocabSize
          ? parseIntOption('vocab-size', 1)(opts.vocabSize)
          : (tokenizer?.vocabSize ?? 64);
        const config = parseModelConfig(
          {
            vocabSize,
            nCtx: parseIntOption('n-ctx', 1)(opts.nCtx),
            dModel: parseIntOption('d-model', 1)(opts.dModel),
            nLayer: parseIntOption('n-layer', 1)(opts.nLayer),
            nHead: parseIntOption('n-head', 1)(opts.nHead),
          },
          'model options',
        );
        if (tokenizer && tokenizer.vocabSize > config.vocabSize) {
          throw badInput(
            `--vocab-size ${config.vocabSize} is smaller than the tokenizer's ${tokenizer.vocabSize} words`,
          );
        }
        const manifest = buildManifest(config);
        const params = initParams(manifest, seed);
        saveModelDir(opts.out, {
          config,
          params,
          tokenizer,
          extra: { init: { seed, by: 'lamer init-model' }, policyVersion: 0 },
        });
        const summary = {
          out: opts.out,
          config,
          params: manifest.totalSize,
          tokenizer: tokenizer ? tokenizer.vocabSize : null,
        };
        if (opts.json) printJson(summary);
        else
          process.stdout.write(
            `wrote ${opts.out}: ${manifest.totalSize} parameters, ${JSON.stringify(config)}` +
              `${tokenizer ? `, tokenizer of ${tokenizer.vocabSize} words` : ''}\n`,
          );
      },
    );
}
