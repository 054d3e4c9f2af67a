/** `lamer serve` — the embedded model over the OpenAI-compatible HTTP API (/v1/completions, /v1/chat/completions). */
import type { Command } from 'commander';
import { Option } from 'commander';
import { parseIntOption, printJson } from '../lib/io.js';

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'serve a checkpoint over the OpenAI-compatible API (/v1/completions ' +
        'and /v1/chat/completions with logprobs, /v1/models)',
    )
    .option('--run-dir <dir>', 'a training run: serve its newest valid checkpoint')
    .option(
      '--checkpoint <dir>',
      'a model directory (lamer.json, model.safetensors, tokenizer.json), e.g. runs/<run>/checkpoints/ckpt-<version>',
    )
    .option('--listen <host:port>', 'address to listen on (port 0 = any free port)', '127.0.0.1:8000')
    .option('--model-name <name>', 'the model name clients send', 'lamer')
    .option('--threads <n>', 'decode worker threads', parseIntOption('threads', 1), 1)
    .option('--max-batch <n>', 'max requests per batched decode call', parseIntOption('max-batch', 1), 64)
    .option(
      '--max-queue <n>',
      'queued requests beyond this get 503 + Retry-After',
      parseIntOption('max-queue', 1),
      1024,
    )
    .addOption(
      new Option('--logprobs <mode>', 'log-probs of the sampling distribution actually used, or of the plain model')
        .choices(['sampled', 'raw'])
        .default('sampled'),
    )
    .option('--seed <n>', 'seeds requests that carry no seed', parseIntOption('seed', 0), 0)
    .option(
      '--api-key-env <name>',
      'require Authorization: Bearer <key> on every route but /health, ' +
        'the key read from this environment variable (default: no authentication)',
    )
    .option('--json', 'print {"url", "model"} as one JSON line once listening')
    .addOption(
      new Option('--log-level <level>', 'log level')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info'),
    )
    .action(
      async (o: {
        checkpoint?: string;
        runDir?: string;
        listen: string;
        modelName: string;
        threads: number;
        maxBatch: number;
        maxQueue: number;
        logprobs: 'sampled' | 'raw';
        seed: number;
        json?: boolean;
        logLevel: string;
        apiKeyEnv?: string;
      }) => {
        const { startServe, parseListen } = await import('../lib/serve.js');
        const { resolveModelSource } = await import('../lib/model-source.js');
        const { loadModelDir } = await import('../../shared/model/checkpoint-files.js');
        const src = await resolveModelSource(o);
        const { createLogger } = await import('../../shared/logger.js');
        const logger = createLogger({ level: o.logLevel, component: 'serve' });
        const { host, port } = parseListen(o.listen);
        const { badInput } = await import('../../shared/errors.js');
        let apiKey: string | undefined;
        if (o.apiKeyEnv !== undefined) {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.apiKeyEnv))
            throw badInput(`--api-key-env must be an environment variable name, got '${o.apiKeyEnv}'`);
          apiKey = process.env[o.apiKeyEnv];
          if (!apiKey) throw badInput(`--api-key-env ${o.apiKeyEnv}: that environment variable is not set or empty`);
        }
        const s = await startServe({
          checkpoint: src.dir,
          host,
          port,
          modelName: o.modelName,
          threads: o.threads,
          maxBatch: o.maxBatch,
          maxQueue: o.maxQueue,
          logprobsMode: o.logprobs,
          seed: o.seed,
          logger,
          apiKey,
        });
        if (o.json) printJson({ url: s.url, model: s.modelName, nCtx: s.nCtx });
        else {
          const words = loadModelDir(src.dir).tokenizer?.vocabSize ?? 0;
          process.stdout.write(
            `lamer serve: ${src.dir} at ${s.url} (model '${s.modelName}', context ${s.nCtx} tokens); Ctrl-C stops\n`,
          );
          // The embedded policy is a word-level game model, not a chat model: say so before someone chats with it.
          process.stdout.write(
            `note: this model knows only its game vocabulary (${words} words; ` +
              "other words read as <unk>): it answers lamer's " +
              'compact game prompts (lamer eval --backend openai --template compact, or actors), not general chat\n',
          );
        }
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await s.close();
        logger.info(s.stats, 'serve stopped');
      },
    );
}
