/**
 * Shared CLI plumbing for commands that take a run configuration: `--config FILE`, repeatable `--set a.b=c`,
 * dedicated flags, and resume (a run directory's saved config.json is the base layer; only flags given
 * explicitly on the command line override it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { describeConfig, parseOverride, readConfigFile, resolveConfig, type Config } from '../../shared/config.js';
import { LamerError } from '../../shared/errors.js';
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
  metricsListen?: string;
}


/** Adds the common run options; `--help` ends with every config key and its default. */
export function addRunOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'YAML/JSON config file (see the keys below)')
    .option('--set <key=value>', 'override one config key, e.g. --set algo.lr=1e-4 (repeatable)', collect)
    .option('--run-dir <dir>', 'run directory (default runs/<timestamp>); an existing one is resumed')
    .option('--minutes <m>', 'wall-clock budget (run.minutes)')
    .option('--iterations <n>', 'policy updates (run.iterations)')
    .addOption(new Option('--mode <mode>', 'async actor-learner or the synchronous baseline (run.mode)').choices(['async', 'sync']))
    .option('--actors <k>', 'local actor processes (actor.count)')
    .option('--seed <s>', 'master seed (run.seed)')
    .option('--env <id>', 'environment id or alias (env.id)')
    .option('--fresh', 'start over even if the run directory has checkpoints')
    .option('--metrics-listen <host:port>', "the learner's HTTP side: dashboard, /metrics, /healthz, /readyz (observe.listen; 'off' disables)")
    .addHelpText('after', `\nConfig keys (--set key=value or a YAML file):\n${describeConfig().map((l) => `  ${l}`).join('\n')}\n`);
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
  const saved = join(runDir, 'config.json');
  const resumed = existsSync(saved) && !f.fresh;
  const base: Record<string, unknown> = resumed ? JSON.parse(readFileSync(saved, 'utf8')) as Record<string, unknown> : {};
  if (resumed) delete (base.run as Record<string, unknown> | undefined)?.fresh;
  const file = f.config ? readConfigFile(f.config) : {};
  const sets = (f.set ?? []).map(parseOverride);
  const config = resolveConfig(base, file, ...sets, flagLayer(f, envAlias));
  config.run.dir = runDir;
  return { config, runDir, resumed };
}
