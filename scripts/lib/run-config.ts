/**
 * Shared CLI plumbing for commands that take a run configuration: `--config FILE`, repeatable `--set a.b=c`,
 * dedicated flags, and resume (a run directory's saved config.json is the base layer; only flags given
 * explicitly on the command line override it).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { describeConfig, parseOverride, readConfigFile, resolveConfig, type Config } from '../../shared/config.js';
import { LamerError, badInput } from '../../shared/errors.js';
import { defaultRunDir } from '../../shared/run-dir.js';
import { collect } from './io.js';

export interface RunFlags {
  config?: string;
  set?: string[];
  runDir?: string;
  minutes?: string;
  iterations?: string;
  mode?: string;
  actors?: string;
  seed?: string;
  env?: string;
  fresh?: boolean;
  logLevel?: string;
  metricsListen?: string;
}

/** Every config key with its default, one per line (`lamer config --help`, `--help-config`). */
export function configKeysHelp(): string {
  return `Config keys (--set key=value, or a YAML file with --config):\n${describeConfig()
    .map((l) => `  ${l}`)
    .join('\n')}\n`;
}

/**
 * The options of every command that reads a run configuration: the config layers, seed, env, log level. The ~90
 * config keys are not listed in each command's --help; `--help-config` (or `lamer config --help`) prints them.
 */
export function addConfigOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'YAML/JSON config file (keys: --help-config)')
    .option(
      '--set <key=value>',
      'override one config key, e.g. --set algo.lr=1e-4 (repeatable; keys: --help-config)',
      collect,
    )
    .option('--seed <s>', 'master seed (run.seed)')
    .option('--env <id>', 'environment id or alias: minesweeper, sokoban, webshop, alfworld (env.id)')
    .addOption(
      new Option('--log-level <level>', 'log level of the log files (log.level)').choices([
        'fatal',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
        'silent',
      ]),
    )
    .option('--help-config', 'list every config key with its default, then exit')
    .on('option:help-config', () => {
      process.stdout.write(configKeysHelp());
      process.exit(0);
    });
}

/** Config options plus what a training run takes: run directory (resumed), budgets, mode, actors. */
export function addRunOptions(cmd: Command): Command {
  return addConfigOptions(cmd)
    .option('--run-dir <dir>', 'run directory (default runs/<timestamp>); an existing one is resumed')
    .option(
      '--minutes <m>',
      'wall-clock budget in minutes, a total over every invocation of the run directory (run.minutes)',
    )
    .option('--iterations <n>', 'policy updates, a total over every invocation of the run directory (run.iterations)')
    .addOption(
      new Option('--mode <mode>', 'async actor-learner or the synchronous baseline (run.mode)').choices([
        'async',
        'sync',
      ]),
    )
    .option('--actors <k>', 'local actor processes (actor.count)')
    .option('--fresh', 'start over even if the run directory has checkpoints')
    .option(
      '--metrics-listen <host:port>',
      "the learner's HTTP side: dashboard, /metrics, /healthz, /readyz (observe.listen; 'off' disables)",
    );
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new LamerError('RL_ERR_CONFIG', `--${name} must be a number, got '${v}'`);
  return n;
}

/** Flags given on the command line as a config layer (only those present). */
function flagLayer(f: RunFlags, envAlias: (id: string) => string): Record<string, unknown> {
  const run: Record<string, unknown> = {};
  const layer: Record<string, unknown> = { run };
  if (f.minutes !== undefined) run.minutes = num('minutes', f.minutes);
  if (f.iterations !== undefined) run.iterations = num('iterations', f.iterations);
  if (f.mode !== undefined) run.mode = f.mode;
  if (f.seed !== undefined) run.seed = num('seed', f.seed);
  if (f.fresh) run.fresh = true;
  if (f.actors !== undefined) layer.actor = { count: num('actors', f.actors) };
  if (f.env !== undefined) layer.env = { id: envAlias(f.env) };
  if (f.logLevel !== undefined) layer.log = { level: f.logLevel };
  if (f.metricsListen !== undefined) layer.observe = { listen: f.metricsListen };
  return layer;
}

export interface ResolvedRun {
  config: Config;
  runDir: string;
  resumed: boolean;
}

/** Resolves config layers and the run directory (resume when it holds a config.json, unless --fresh). */
export function resolveRun(f: RunFlags, envAlias: (id: string) => string = (x) => x): ResolvedRun {
  const runDir = f.runDir ?? defaultRunDir();
  if (existsSync(runDir) && !statSync(runDir).isDirectory()) {
    throw badInput(
      `--run-dir ${runDir}: is a file, not a directory; ` +
        'pass a directory (a new one is created, an existing run is resumed)',
    );
  }
  const saved = join(runDir, 'config.json');
  const resumed = existsSync(saved) && !f.fresh;
  const base: Record<string, unknown> = resumed ? readSavedConfig(saved) : {};
  if (resumed) delete (base.run as Record<string, unknown> | undefined)?.fresh;
  const file = f.config ? readConfigFile(f.config) : {};
  const sets = (f.set ?? []).map(parseOverride);
  const config = resolveConfig(base, file, ...sets, flagLayer(f, envAlias));
  config.run.dir = runDir;
  return { config, runDir, resumed };
}

/** A run directory's saved config.json; a damaged one is a clear error, not a JSON stack trace. */
function readSavedConfig(path: string): Record<string, unknown> {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw e; // fs errors are wrapped by the CLI with their path
  }
  throw new LamerError(
    'RL_ERR_CONFIG',
    `${path} is not a JSON object: the run directory's saved ` +
      'configuration is damaged (use --fresh, or another --run-dir)',
  );
}
