/**
 * The one configuration schema. Every leaf has a default and a one-line description; `--help` text, YAML
 * validation and the resolved `config.json` of a run all come from here. Layering: defaults < YAML file
 * (`--config`) < `--set a.b=c` overrides < dedicated CLI flags.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { closest } from './did-you-mean.js';
import { LamerError } from './errors.js';
import { AdvantageOptionsSchema } from './rl/options.js';

const int = (min: number) => z.number().int().min(min);
const prob = z.number().min(0).max(1);

export const RunSchema = z.strictObject({
  seed: int(0).default(1).describe('master seed: task seeds, sampling and init derive from it'),
  dir: z.string().default('').describe('run directory (default runs/<timestamp>)'),
  mode: z
    .enum(['async', 'sync'])
    .default('async')
    .describe('async actor-learner, or the synchronous lockstep baseline'),
  iterations: int(0).default(150).describe('policy updates to run (0 = no limit)'),
  minutes: z.number().min(0).default(10).describe('wall-clock budget in minutes (0 = no limit)'),
  evalEvery: int(0).default(10).describe('evaluate every N policy versions (0 = only at start and end)'),
  evalTasks: int(1).default(64).describe('fixed validation tasks per evaluation'),
  evalAttempts: int(1).default(3).describe('episodes per validation trial (pass@1..k)'),
  evalSeed: int(0)
    .default(0)
    .describe(
      'seed of the fixed validation task list (0 = run.seed); experiments pin it so every seed evaluates on ' +
        'the same tasks',
    ),
  progressSec: z.number().positive().default(10).describe('seconds between progress lines'),
  fresh: z
    .boolean()
    .default(false)
    .describe(
      'start over even if the run directory has checkpoints: checkpoints deleted, ledger and quarantine moved ' +
        'aside (run id and learner epoch kept)',
    ),
});

export const EnvSchema = z.strictObject({
  id: z
    .string()
    .default('lamer/MineSweeper-v0')
    .describe('environment id (lamer/MineSweeper-v0, lamer/Sokoban-v0, ...)'),
  options: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('environment options (board size, mines, boxes, ...)'),
  template: z.enum(['compact', 'full']).default('compact').describe('prompt template: compact for the embedded model'),
  memory: z
    .enum(['reflection', 'trajectory', 'both'])
    .default('reflection')
    .describe('memory H(n) carried between episodes'),
  attempts: int(1).default(3).describe('episodes per trial N (1 = plain RL)'),
  groupSize: int(1).default(8).describe('trials per task group'),
  maxTurns: int(1).default(7).describe('policy turns per episode'),
  reflect: z.boolean().default(true).describe('write a reflection between episodes'),
});

export const ModelSchema = z.strictObject({
  nCtx: int(16).default(256).describe('context length in tokens'),
  dModel: int(8).default(64).describe('width'),
  nLayer: int(1).default(2).describe('transformer blocks'),
  nHead: int(1).default(4).describe('attention heads'),
  init: z
    .string()
    .default('base')
    .describe(
      "start weights: 'base' (behaviour-cloned base model, built once and cached), 'random', or a model directory",
    ),
});

export const PretrainSchema = z.strictObject({
  trials: int(1).default(1500).describe('scripted demonstration trials for the base model'),
  noise: prob.default(0.5).describe("probability that a demonstrated action is random instead of the solver's"),
  labels: z
    .enum(['played', 'solver'])
    .default('solver')
    .describe(
      "what the base model clones: 'solver' = the noise-free, memory-aware solver's action in each visited state " +
        "(noise only picks the states; default, measured better); 'played' = the demonstrated (noisy) actions",
    ),
  epochs: int(1).default(12).describe('behaviour-cloning passes over the demonstrations'),
  lr: z.number().positive().default(2e-3).describe('behaviour-cloning learning rate'),
  cacheDir: z
    .string()
    .default('runs/base')
    .describe('where base models are cached (keyed by env, model and pretrain settings)'),
});

export const AlgoSchema = z.strictObject({
  ...AdvantageOptionsSchema.shape,
  // Training's one departure from the advantage library's spec default (docs/results.md, MineSweeper main vs
  // main-spec): with the spec's A_E a reflection is pushed down by the group's mean score whatever it says, and a
  // strong base model then writes unparsable reflections (invalid 0% -> ~30%) and loses its retries.
  reflectAdvantage: AdvantageOptionsSchema.shape.reflectAdvantage
    .unwrap()
    .default('step')
    .describe(
      "reflect rows' advantage: 'step' omega*A_S only, the next episode's return against the group's other " +
        "reflections (default, measured better); 'lamer' A_E + omega*A_S as in the spec",
    ),
  reward: z
    .enum(['env', 'success'])
    .default('env')
    .describe("training reward: the env's shaped rewards, or success only (10 on the winning turn, else 0)"),
  groupsPerUpdate: int(1).default(4).describe('task groups per policy update (B)'),
  eta: int(0).default(2).describe('max staleness in policy versions for async admission (0 = synchronous)'),
  maxPolicyLag: int(0).default(8).describe('drop rows sampled more than this many versions ago'),
  lr: z.number().positive().default(3e-4).describe('AdamW learning rate'),
  weightDecay: z.number().min(0).default(0.01).describe('AdamW weight decay'),
  clipNorm: z.number().positive().default(1).describe('gradient-norm clip'),
  clipEps: z.number().positive().default(0.2).describe('PPO clip epsilon'),
  dualClipC: z.number().min(1).default(3).describe('dual-clip constant for negative advantages'),
  entropyCoef: z.number().min(0).default(0.001).describe('entropy bonus'),
  valueCoef: z.number().min(0).default(0.5).describe('weight of the value loss (estimators with a critic: ppo)'),
  valueClip: z
    .number()
    .positive()
    .default(0.5)
    .describe('value clip: V may move this far from its value at the start of the update (ppo)'),
  isMode: z
    .enum(['truncate', 'mask', 'bypass', 'off'])
    .default('truncate')
    .describe('behaviour-policy importance correction'),
  isCap: z.number().positive().default(2).describe('importance-weight cap C'),
  miniBatchRows: int(1).default(64).describe('rows per optimizer step'),
  ppoEpochs: int(1).default(1).describe('passes over each batch'),
  groupByLength: z
    .boolean()
    .default(true)
    .describe(
      'minibatches of similar-length rows (less padding: the trainer pays for B x T); rows and their order stay seeded',
    ),
});

export const SamplingSchema = z.strictObject({
  temperature: z.number().positive().default(1).describe('training rollout temperature'),
  topP: z.number().gt(0).max(1).default(1).describe('training rollout top-p'),
  evalTemperature: z.number().positive().default(0.7).describe('validation temperature'),
  evalTopP: z.number().gt(0).max(1).default(0.8).describe('validation top-p'),
  maxActionTokens: int(1).default(8).describe('max generated tokens for a play turn'),
  maxReflectTokens: int(1).default(12).describe('max generated tokens for a reflection'),
});

export const ActorSchema = z.strictObject({
  count: int(0)
    .default(1)
    .describe('local actor processes started by `lamer train` (2 cores: one for the learner, one for an actor)'),
  threads: int(1).default(1).describe('decode worker threads per actor'),
  groupsInFlight: int(1).default(4).describe('task groups each actor runs concurrently'),
  maxBatch: int(1).default(64).describe('max generation requests per batched decode call'),
  nice: z
    .number()
    .int()
    .min(0)
    .max(19)
    .default(0)
    .describe(
      'CPU niceness of local actor processes relative to the learner (async on few cores: the learner is the ' +
        'bottleneck stage)',
    ),
  outboxDir: z.string().default('').describe('durable outbox directory (default <run>/outbox/<actorId>)'),
});

export const LearnerSchema = z.strictObject({
  host: z.string().default('127.0.0.1').describe('listen host'),
  port: int(0).default(0).describe('listen port (0 = any free port)'),
  maxPayload: int(1024)
    .default(8 * 1024 * 1024)
    .describe('max WebSocket message bytes'),
  heartbeatMs: int(50).default(2000).describe('heartbeat interval'),
  checkpointEvery: int(1).default(10).describe('checkpoint every N policy versions'),
  keepCheckpoints: int(1).default(3).describe('checkpoints kept'),
  leaseTimeoutSec: z
    .number({ error: 'expected a number of seconds' })
    .min(0, 'must be >= 0 seconds (0 = leases never expire)')
    .default(900)
    .describe(
      'a trial slot leased this long without a delivery is taken back and leased again (0 = never; late ' +
        'deliveries are rejected)',
    ),
  prewarmTrainer: z
    .boolean()
    .default(true)
    .describe(
      'run every training shape once at start, so the learner reaches its memory ceiling then, not hours later ' +
        '(false: faster start, memory steps up as new shapes arrive)',
    ),
  workerTimeoutSec: z
    .number()
    .min(0)
    .default(600)
    .describe('deadline of each trainer worker call; past it the worker is replaced and the update rerun (0 = none)'),
  ioTimeoutSec: z
    .number()
    .min(0)
    .default(300)
    .describe(
      'deadline of a checkpoint save and of a ledger fdatasync; past it the run stops with the reason (0 = none)',
    ),
  sendTimeoutSec: int(0)
    .default(60)
    .describe(
      'deadline of each WebSocket send, learner to actor and actor to learner: a send the peer has not taken ' +
        'within it closes the connection with 4005 (the actor reconnects and resends its outbox; 0 = none)',
    ),
});

export const LedgerSchema = z.strictObject({
  retention: z
    .union([z.literal('all'), int(0)])
    .default('all')
    .describe(
      "ledger segments kept once every kept checkpoint has trained past them: 'all' (replay and audit) or N " +
        '(older ones are deleted; their keys stay deduplicated)',
    ),
  segmentMB: int(1).default(64).describe('ledger segment file size in MiB (the unit of retention)'),
  archiveDir: z
    .string()
    .default('')
    .describe("with retention N: move older segments here instead of deleting them ('' = delete)"),
});

export const ObserveSchema = z.strictObject({
  listen: z
    .string()
    .regex(/^(off|\S+:\d{1,5})$/, "must be HOST:PORT or 'off'")
    .default('127.0.0.1:0')
    .describe(
      "the learner's HTTP side (dashboard, /metrics, /healthz, /readyz): HOST:PORT (port 0 = any free port) or " +
        "'off'; see docs/observability.md",
    ),
  openPaths: z
    .array(z.enum(['/healthz', '/readyz', '/metrics']))
    .default([])
    .describe(
      'HTTP paths served without a token from any address (loopback is always open), ' +
        'e.g. [/healthz,/readyz,/metrics] for Kubernetes probes and an annotation-based Prometheus scrape; ' +
        'see docs/deploy.md',
    ),
  stallSec: z
    .number()
    .positive()
    .default(60)
    .describe(
      'seconds without progress before a waiting stage is reported as stalled (log, progress line, dashboard, ' +
        'lamer status)',
    ),
  sinks: z
    .array(z.enum(['csv', 'jsonl', 'tensorboard']))
    .default(['csv', 'jsonl', 'tensorboard'])
    .describe(
      'metric files in the run directory: metrics.csv, metrics.jsonl, tensorboard/ (Prometheus is served over HTTP)',
    ),
});

export const PolicyBackendSchema = z.strictObject({
  backend: z
    .enum(['onnx', 'openai'])
    .default('onnx')
    .describe('who generates: the embedded ONNX model, or an OpenAI-compatible server (the rest of this group)'),
  baseUrl: z
    .string()
    .url()
    .default('http://127.0.0.1:8000/v1')
    .describe('OpenAI-compatible endpoint base URL (vLLM, llama.cpp server, lamer serve, ...)'),
  model: z.string().default('').describe('model name the server serves (required with policy.backend=openai)'),
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
    .default('OPENAI_API_KEY')
    .describe('environment variable holding the API key (local servers need none)'),
  endpoint: z
    .enum(['chat', 'completions'])
    .default('chat')
    .describe("'chat' (/v1/chat/completions, one user message) or 'completions' (/v1/completions, raw prompt)"),
  maxTokens: int(1)
    .default(1024)
    .describe('response cap for the full template (the compact template uses sampling.max*Tokens)'),
  concurrency: int(1).default(8).describe('max requests in flight to the server'),
  timeoutMs: int(1).default(120_000).describe('per-request timeout'),
  maxRetries: int(0).default(4).describe('retries on timeouts, connection errors, 408/409/429 and 5xx'),
  backoffMs: int(0)
    .default(500)
    .describe('first retry delay; doubles per retry (a Retry-After header wins, capped at 30 s)'),
  logprobs: z
    .boolean()
    .default(true)
    .describe('ask for per-token log-probs (records without them are evaluation-only)'),
  topK: int(0)
    .default(0)
    .describe(
      'top_k sent to the server (vLLM, SGLang, llama.cpp extension; 0 = not sent; the paper validates with 20)',
    ),
  disableThinking: z
    .boolean()
    .default(false)
    .describe(
      'chat: send chat_template_kwargs {enable_thinking: false} (Qwen3 non-thinking mode, as the paper; vLLM, ' +
        'SGLang, llama.cpp)',
    ),
});

export const LogSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('log level'),
  maxMB: z
    .number()
    .min(0)
    .default(50)
    .describe('rotate a log file (learner, local actors) when it reaches this size (0 = never)'),
  keep: int(0)
    .default(5)
    .describe('rotated log files kept per process besides the current one (<name>.log.1 is the newest)'),
  metricsMaxMB: z
    .number()
    .min(0)
    .default(64)
    .describe(
      'rotate each metrics file (metrics.csv, metrics.jsonl, tensorboard/ event files) at this size ' +
        '(0 = never: files grow with the run)',
    ),
  metricsKeep: int(0)
    .default(8)
    .describe('rotated pieces kept per metrics file besides the current one (bound: (keep + 1) x metricsMaxMB)'),
});

export const ConfigSchema = z.strictObject({
  run: RunSchema.default(RunSchema.parse({})),
  env: EnvSchema.default(EnvSchema.parse({})),
  model: ModelSchema.default(ModelSchema.parse({})),
  pretrain: PretrainSchema.default(PretrainSchema.parse({})),
  algo: AlgoSchema.default(AlgoSchema.parse({})),
  sampling: SamplingSchema.default(SamplingSchema.parse({})),
  actor: ActorSchema.default(ActorSchema.parse({})),
  learner: LearnerSchema.default(LearnerSchema.parse({})),
  ledger: LedgerSchema.default(LedgerSchema.parse({})),
  policy: PolicyBackendSchema.default(PolicyBackendSchema.parse({})),
  observe: ObserveSchema.default(ObserveSchema.parse({})),
  log: LogSchema.default(LogSchema.parse({})),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Parses `a.b=c` into a nested object; values are YAML scalars (numbers, booleans, strings, [lists], {maps}). */
export function parseOverride(spec: string): Record<string, unknown> {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new LamerError('RL_ERR_CONFIG', `--set expects key.path=value, got '${spec}'`);
  const path = spec.slice(0, eq).trim().split('.');
  if (path.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype')) {
    throw new LamerError('RL_ERR_CONFIG', `--set has an invalid key path '${spec.slice(0, eq)}'`);
  }
  const raw = spec.slice(eq + 1);
  let value: unknown;
  try {
    value = raw === '' ? '' : parseYaml(raw);
  } catch {
    value = raw;
  }
  const root: Record<string, unknown> = {};
  let cur = root;
  for (const key of path.slice(0, -1)) cur = (cur[key] = {}) as Record<string, unknown>;
  cur[path[path.length - 1]] = value;
  return root;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge; later layers win; arrays and scalars replace. */
export function mergeLayers(...layers: Array<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      out[k] =
        isPlainObject(v) && isPlainObject(out[k]) && k !== 'options'
          ? mergeLayers(out[k] as Record<string, unknown>, v)
          : isPlainObject(v) && isPlainObject(out[k])
            ? { ...(out[k] as object), ...v }
            : v;
    }
  }
  return out;
}

/** Reads a YAML (or JSON) config file; errors name the file. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LamerError(
      'RL_ERR_CONFIG',
      `cannot read config file '${path}': ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new LamerError('RL_ERR_CONFIG', `config file '${path}' is not valid YAML: ${(e as Error).message}`);
  }
  if (doc == null) return {};
  if (!isPlainObject(doc))
    throw new LamerError('RL_ERR_CONFIG', `config file '${path}' must contain a mapping at the top level`);
  return doc;
}

/** Validates a merged config; every problem is reported with its field path, before anything starts. */
export function resolveConfig(...layers: Array<Record<string, unknown>>): Config {
  const r = ConfigSchema.safeParse(mergeLayers(...layers));
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const where = i.path.length ? i.path.join('.') : '(top level)';
      const keys = (i as { keys?: string[] }).keys;
      return keys
        ? `  ${where}: unknown key(s) ${keys.map((k) => `'${k}'`).join(', ')}` +
            unknownKeyHint(i.path.map(String), keys)
        : `  ${where}: ${i.message}`;
    });
    throw new LamerError('RL_ERR_CONFIG', `invalid configuration:\n${lines.join('\n')}`);
  }
  const cfg = r.data;
  const problems = crossFieldProblems(cfg);
  if (problems.length)
    throw new LamerError('RL_ERR_CONFIG', `invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return cfg;
}

/** Every leaf key path of the schema (`algo.lr`, ...) and the keys of each group. */
function schemaKeys(): { leaves: string[]; groups: Map<string, string[]> } {
  const leaves = describeConfig().map((l) => l.slice(0, l.indexOf('=')));
  const groups = new Map<string, string[]>([['', [...new Set(leaves.map((l) => l.split('.')[0]))]]]);
  for (const l of leaves) {
    const [g, k] = l.split('.');
    groups.set(g, [...(groups.get(g) ?? []), k]);
  }
  return { leaves, groups };
}

/** ` (did you mean 'lr'?)` for a mistyped key: a near key of the same group, or the same key name in another group. */
function unknownKeyHint(path: string[], keys: string[]): string {
  const { leaves, groups } = schemaKeys();
  const here = groups.get(path.join('.'));
  if (!here) return '';
  const hints = keys
    .map((k) => {
      const near = closest(k, here).map((c) => (path.length ? `${path.join('.')}.${c}` : c));
      const elsewhere = leaves.filter((l) => l.split('.').pop()!.toLowerCase() === k.toLowerCase());
      const all = [...new Set([...near, ...elsewhere])];
      return all.length ? `did you mean ${all.map((c) => `'${c}'`).join(' or ')}?` : '';
    })
    .filter(Boolean);
  const valid =
    path.length === 0
      ? `; groups are ${here.join(', ')} (all keys: lamer config --help)`
      : '; all keys: lamer config --help';
  return hints.length ? ` (${hints.join('; ')})` : valid;
}

function crossFieldProblems(cfg: Config): string[] {
  const p: string[] = [];
  if (cfg.model.dModel % cfg.model.nHead !== 0)
    p.push(`model.dModel (${cfg.model.dModel}) must be divisible by model.nHead (${cfg.model.nHead})`);
  if (cfg.run.mode === 'sync' && cfg.algo.eta !== 0) {
    // The synchronous baseline is lockstep by definition; staleness is zero there.
  }
  if (cfg.policy.backend === 'openai' && cfg.policy.model.trim() === '')
    p.push('policy.model: required when policy.backend is openai (the model name the server serves)');
  if (cfg.run.iterations === 0 && cfg.run.minutes === 0)
    p.push('run.iterations and run.minutes are both 0: the run would never end (set one budget)');
  return p;
}

/** One line per leaf: `path  (default)  description`, for `--help` and the README. */
export function describeConfig(): string[] {
  const lines: string[] = [];
  const walk = (schema: z.ZodType, path: string[]): void => {
    const def = (
      schema as unknown as { def: { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType> } }
    ).def;
    if (def.type === 'default' && def.innerType) {
      const inner = (def.innerType as unknown as { def: { type: string } }).def;
      if (inner.type === 'object') return walk(def.innerType, path);
      const dflt = (schema as unknown as { def: { defaultValue: unknown } }).def.defaultValue;
      lines.push(`${path.join('.')}=${JSON.stringify(dflt)}  ${schema.description ?? def.innerType.description ?? ''}`);
      return;
    }
    if (def.type === 'object' && def.shape) for (const [k, v] of Object.entries(def.shape)) walk(v, [...path, k]);
  };
  walk(ConfigSchema, []);
  return lines;
}
