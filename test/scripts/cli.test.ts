/**
 * The CLI's surface for a newcomer: one-line errors without stack traces, did-you-mean, help per command, --version.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI } from '../fixtures/cli.js';
import { describe, expect, it } from 'vitest';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}
const lamer = (args: string[]): Promise<Result> =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8' }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
const lines = (s: string) => s.split('\n').filter(Boolean);
const noStack = (s: string) => expect(s).not.toMatch(/^\s+at /m);

describe('lamer CLI errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lamer-cli-'));
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');

  it('--run-dir on a file, or below one: one catalog line with the path and a hint, no stack trace', async () => {
    const onFile = await lamer(['train', '--run-dir', file, '--iterations', '1']);
    expect(onFile.code).toBe(1);
    expect(lines(onFile.stderr)).toEqual([
      `lamer: error [RL_ERR_BAD_INPUT]: --run-dir ${file}: is a file, not a directory; ` +
        'pass a directory (a new one is created, an existing run is resumed)',
    ]);
    const below = await lamer(['train', '--run-dir', join(file, 'run'), '--iterations', '1']);
    expect(below.code).toBe(1);
    expect(lines(below.stderr)).toHaveLength(1);
    expect(below.stderr).toMatch(
      new RegExp(
        `^lamer: error \\[RL_ERR_FS\\]: mkdir ${join(file, 'run')}.*: a part of the ` +
          `path is a file, not a directory \\(ENOTDIR\\); point the option at a directory`,
      ),
    );
    noStack(below.stderr);
    const debug = await lamer(['train', '--run-dir', join(file, 'run'), '--iterations', '1', '--debug']);
    expect(debug.stderr).toMatch(/^\s+at /m); // --debug adds the stack trace
  }, 60_000);

  it('unknown flags and commands: one line with the suggestion, then where help is', async () => {
    const flag = await lamer(['train', '--minutess', '3']);
    expect(flag.code).toBe(2);
    expect(lines(flag.stderr)).toEqual([
      "lamer: error: unknown option '--minutess' (did you mean --minutes?)",
      '(see lamer train --help)',
    ]);
    const cmd = await lamer(['tran']);
    expect(cmd.code).toBe(2);
    expect(lines(cmd.stderr)).toEqual(["lamer: error: unknown command 'tran' (did you mean train?)", '(see --help)']);
  }, 60_000);

  it('unknown config keys get a did-you-mean before anything starts', async () => {
    const r = await lamer(['train', '--run-dir', join(dir, 'never'), '--set', 'algo.lrr=1', '--set', 'no.such.key=1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("algo: unknown key(s) 'lrr' (did you mean 'algo.lr'?)");
    expect(r.stderr).toContain("(top level): unknown key(s) 'no'; groups are run, env, model");
    noStack(r.stderr);
  }, 60_000);

  it('eval on a directory that is not a model: the path and what to pass instead', async () => {
    const notModel = join(dir, 'not-a-model');
    mkdirSync(notModel);
    const r = await lamer(['eval', '--checkpoint', notModel]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `RL_ERR_CHECKPOINT\\]: --checkpoint ${notModel}: no lamer.json there, ` +
          'so it is not a model directory; pass a run directory with --run-dir',
      ),
    );
    const empty = join(dir, 'empty-run');
    mkdirSync(join(empty, 'checkpoints'), { recursive: true });
    const none = await lamer(['eval', '--run-dir', empty]);
    expect(none.stderr).toMatch(/RL_ERR_CHECKPOINT\]: --run-dir .*empty-run: no checkpoint yet/);
  }, 60_000);
});

describe('lamer CLI help', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect((await lamer(['--version'])).stdout.trim()).toBe(pkg.version);
  });

  it('lists commands grouped by use, train first', async () => {
    const help = (await lamer(['--help'])).stdout;
    const order = [
      'Train and use a model:',
      '  train ',
      '  eval ',
      '  serve ',
      'Experiments:',
      '  experiment ',
      'Actors and learner on several machines:',
      '  learner ',
      '  actor ',
      'Benchmarks and fault injection:',
      '  bench ',
      'Tools:',
      '  config ',
    ];
    const at = order.map((s) => help.indexOf(s));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it('shows only the flags that apply; config keys live under --help-config and lamer config --help', async () => {
    const evalHelp = (await lamer(['eval', '--help'])).stdout;
    for (const f of ['--run-dir', '--checkpoint', '--log-level', '--help-config']) expect(evalHelp).toContain(f);
    for (const f of ['--minutes', '--iterations', '--actors', '--fresh', 'algo.lr=0.0003'])
      expect(evalHelp).not.toContain(f);
    const trainHelp = (await lamer(['train', '--help'])).stdout;
    expect(trainHelp).toContain('--minutes');
    expect(trainHelp).toContain('a total over every invocation');
    expect(trainHelp).not.toContain('algo.lr=0.0003');
    expect((await lamer(['config', '--help'])).stdout).toContain('algo.lr=0.0003');
    expect((await lamer(['train', '--help-config'])).stdout).toContain('run.minutes=10');
  }, 60_000);
});
