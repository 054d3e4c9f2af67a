/**
 * `lamer actor` — one actor process connecting to a learner (locally started by `lamer train`, or on another
 * machine).
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { badInput } from '../../shared/errors.js';
import { collect, parseIntOption } from '../lib/io.js';

export function register(program: Command): void {
  program
    .command('actor')
    .description(
      'run an actor: connect to a learner, run leased trials, stream records ' +
        '(token: LAMER_TOKEN, --token-file or --key-file)',
    )
    .requiredOption('--learner <url>', 'learner URL, ws://host:port or wss://host:port')
    .requiredOption('--actor-id <id>', "this actor's id (its token is derived from it)")
    .option('--run-id <id>', "the learner's run id (printed by `lamer learner`; or LAMER_RUN_ID)")
    .option('--token-file <file>', "file holding this actor's token (default: env LAMER_TOKEN)")
    .option(
      '--key-file <file>',
      "derive this actor's token from the run's master key in this file (a Secret shared by a fleet: docs/deploy.md)",
    )
    .option('--ca <file>', 'PEM CA certificate to pin for wss://')
    .option('--threads <n>', 'decode worker threads', parseIntOption('threads', 1), 1)
    .option('--groups <n>', 'task groups in flight (async mode)', parseIntOption('groups', 1), 4)
    .option('--max-batch <n>', 'max requests per decode call', parseIntOption('max-batch', 1), 64)
    .option('--outbox-dir <dir>', 'durable outbox directory (completed trials survive a crash)')
    .option(
      '--give-up-after <seconds>',
      'exit when the learner has been unreachable this long (0 = never)',
      parseIntOption('give-up-after', 0),
      600,
    )
    .option(
      '--send-timeout <seconds>',
      'a send the learner has not taken within this closes the connection (4005) and reconnects (0 = no deadline)',
      parseIntOption('send-timeout', 0),
      60,
    )
    .option('--trial-log <file>', 'append a durable JSON line per completed trial and per ack (read by `lamer chaos`)')
    .option('--log-level <level>', 'log level', 'info')
    .option(
      '--metrics-listen <host:port>',
      "serve this actor's Prometheus /metrics (open on loopback, the actor's token elsewhere)",
    )
    .addOption(
      new Option(
        '--backend <name>',
        'who generates: the embedded model, or an OpenAI-compatible server (policy.backend)',
      ).choices(['onnx', 'openai']),
    )
    .option(
      '--base-url <url>',
      'OpenAI-compatible base URL with --backend openai, e.g. http://gpu-host:8000/v1 (policy.baseUrl)',
    )
    .option('--model <name>', 'served model name with --backend openai (policy.model)')
    .addOption(
      new Option('--endpoint <kind>', 'chat or completions (policy.endpoint)').choices(['chat', 'completions']),
    )
    .option(
      '--set <key=value>',
      'any policy.* config key, repeatable, e.g. --set policy.timeoutMs=30000 (the API key: env var policy.apiKeyEnv)',
      collect,
    )
    .action(
      async (o: {
        learner: string;
        actorId: string;
        runId?: string;
        tokenFile?: string;
        keyFile?: string;
        ca?: string;
        threads: number;
        groups: number;
        maxBatch: number;
        outboxDir?: string;
        logLevel: string;
        giveUpAfter: number;
        sendTimeout: number;
        trialLog?: string;
        metricsListen?: string;
        backend?: 'onnx' | 'openai';
        baseUrl?: string;
        model?: string;
        endpoint?: 'chat' | 'completions';
        set?: string[];
      }) => {
        if (o.keyFile && o.tokenFile) throw badInput('--key-file and --token-file exclude each other');
        const { deriveActorToken, loadMasterKey } = await import('../../learner/auth.js');
        const token = o.keyFile
          ? deriveActorToken(loadMasterKey({ file: o.keyFile }), o.actorId)
          : o.tokenFile
            ? readFileSync(o.tokenFile, 'utf8').trim()
            : process.env.LAMER_TOKEN;
        if (!token)
          throw badInput(
            'no actor token: set LAMER_TOKEN or pass --token-file or --key-file (never on the command line)',
          );
        const runId = o.runId ?? process.env.LAMER_RUN_ID;
        if (!runId) throw badInput('no run id: pass --run-id or set LAMER_RUN_ID (the learner prints it at start)');
        const { createLogger } = await import('../../shared/logger.js');
        const { ActorRuntime } = await import('../../actor/runtime.js');
        const logger = createLogger({ level: o.logLevel, component: 'actor' }).child({ actorId: o.actorId });
        // The policy group of the config: --set policy.* layers, then the dedicated flags.
        const { PolicyBackendSchema, mergeLayers, parseOverride } = await import('../../shared/config.js');
        const sets = (o.set ?? []).map(parseOverride);
        for (const s of sets)
          if (Object.keys(s).some((k) => k !== 'policy'))
            throw badInput(`lamer actor --set takes policy.* keys only, got '${Object.keys(s)[0]}'`);
        const flags = Object.fromEntries(
          Object.entries({ backend: o.backend, baseUrl: o.baseUrl, model: o.model, endpoint: o.endpoint }).filter(
            ([, v]) => v !== undefined,
          ),
        );
        const parsed = PolicyBackendSchema.safeParse(
          mergeLayers(...sets.map((s) => s.policy as Record<string, unknown>), flags),
        );
        if (!parsed.success)
          throw badInput(
            `actor policy options: ` +
              parsed.error.issues.map((i) => `policy.${i.path.join('.')}: ${i.message}`).join('; '),
          );
        const policy = parsed.data;
        let backend;
        if (policy.backend === 'openai') {
          if (!policy.model) throw badInput('--backend openai needs --model (policy.model)');
          const { OpenAIBackend } = await import('../../actor/backends/openai.js');
          backend = new OpenAIBackend({ ...OpenAIBackend.optionsFromConfig(policy), logger });
          logger.info(
            { baseUrl: policy.baseUrl, model: policy.model, endpoint: policy.endpoint },
            'generating with an OpenAI-compatible server',
          );
        }
        const actor = await ActorRuntime.start({
          url: o.learner,
          actorId: o.actorId,
          token,
          runId,
          logger,
          outboxDir: o.outboxDir,
          threads: o.threads,
          groupsInFlight: o.groups,
          maxBatch: o.maxBatch,
          giveUpAfterMs: o.giveUpAfter * 1000,
          sendTimeoutMs: o.sendTimeout * 1000,
          trialLog: o.trialLog,
          backend,
          tls: o.ca ? { ca: readFileSync(o.ca) } : undefined,
        });
        let metrics: { url: string; close(): Promise<void> } | null = null;
        if (o.metricsListen) {
          const m = /^(.*):(\d{1,5})$/.exec(o.metricsListen);
          if (!m) throw badInput(`--metrics-listen must be HOST:PORT, got '${o.metricsListen}'`);
          const { startActorMetrics } = await import('../../actor/metrics-http.js');
          const { authorizationHeader } = await import('../../learner/auth.js');
          metrics = await startActorMetrics({
            host: m[1],
            port: Number(m[2]),
            actorId: o.actorId,
            authorization: authorizationHeader(o.actorId, token),
            figures: () => actor.figures(),
          });
          logger.info({ url: `${metrics.url}/metrics` }, 'actor metrics listening');
        }
        const stop = () => void actor.shutdown('signal');
        process.once('SIGTERM', stop);
        // Started by `lamer train`: the terminal's Ctrl-C is the learner's to handle (it still wants a final
        // evaluation from us); a second Ctrl-C ends this process by default.
        process.once(
          'SIGINT',
          process.env.LAMER_SUPERVISED === '1' ? () => logger.info('SIGINT: waiting for the learner to finish') : stop,
        );
        await actor.done();
        await actor.shutdown('done');
        await metrics?.close();
        logger.info(actor.stats, 'actor finished');
        process.exit(0);
      },
    );
}
