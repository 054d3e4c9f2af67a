/**
 * Every command in a `bash` block of README.md and docs/*.md, and every `$ command` line of any fenced block, is
 * run here, in document order, from a scratch directory that sees the repository's docs/ and node_modules/ — so the
 * examples cannot rot. Training commands get a tiny model and budget (same flags otherwise); `$` lines followed by
 * output must print exactly that output. Commands that need an external server, several machines or minutes of
 * benchmarking are not run; a `lamer` one is still checked against the CLI (its command exists and `--help` lists
 * every flag it uses) and a `scripts/` one must name an existing file, with the reason it is not run in the test
 * name. Commands outside the project (npm install/test, vitest, third-party servers) get no test.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(REPO, 'scripts', 'cli.ts');
const DOCS = [
  'README.md',
  ...readdirSync(join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

interface DocCommand {
  file: string;
  line: number;
  command: string;
  expected?: string[];
}

/**
 * Commands of one markdown text: `bash` blocks (continuations joined, comments dropped, `a && b` split) and `$` lines.
 */
function extractCommands(file: string, text: string): DocCommand[] {
  const out: DocCommand[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    const body = lines.slice(start, end);
    if (body.some((l) => l.startsWith('$ '))) {
      for (let j = 0; j < body.length; j++) {
        if (!body[j].startsWith('$ ')) continue;
        const expected: string[] = [];
        for (let k = j + 1; k < body.length && !body[k].startsWith('$ '); k++)
          if (body[k].trim()) expected.push(body[k]);
        out.push({ file, line: start + j + 1, command: stripComment(body[j].slice(2)), expected });
      }
    } else if (open[1] === 'bash') {
      for (let j = 0; j < body.length; j++) {
        let cmd = body[j];
        const at = j;
        while (cmd.endsWith('\\') && j + 1 < body.length) cmd = cmd.slice(0, -1) + ' ' + body[++j].trim();
        cmd = stripComment(cmd).trim();
        if (!cmd || cmd.startsWith('#')) continue;
        for (const part of cmd.split(' && ')) out.push({ file, line: start + at + 1, command: part.trim() });
      }
    }
    i = end;
  }
  return out;
}

/** Drops a trailing `   # comment` (two or more spaces before the #). */
function stripComment(cmd: string): string {
  return cmd.replace(/\s{2,}#.*$/, '');
}

/** Why a command is not run, or null. */
function skipReason(cmd: string): string | null {
  const rules: Array<[RegExp, string]> = [
    [/^npm (install|ci)\b/, 'installs the dependencies; .ci/run does that on a fresh checkout'],
    [/^npm test\b/, 'the test suite itself'],
    [/^(vllm|llama-server)\b|--base-url https?:/, 'needs an external LLM server'],
    [
      /\blamer -- (learner|token|actor)\b/,
      'learner and actors on several machines; test/e2e/faults.test.ts runs that setup',
    ],
    [/\blamer -- chaos\b/, 'minutes of fault injection; test/scripts/chaos.test.ts runs a 1.25-minute version'],
    [
      /\blamer -- bench\b|scripts\/bench\/(ingest|serve|throughput|decode|hosts|engine)/,
      'a benchmark: minutes of CPU on a shared machine',
    ],
    [/^npx vitest\b/, 'a test run, part of npm test'],
    [
      /^(docker|dockerd|kubectl|apt-get|umask|chown|cp -r deploy\/)\b|^deploy\/docker\/|^npm run test:containers\b/,
      'needs a container engine, root or a cluster; test/deploy/containers.test.ts and manifests.test.ts run these',
    ],
    [/<[a-z][^>]*>|\.\.\./, 'has a placeholder to fill in'],
  ];
  for (const [re, why] of rules) if (re.test(cmd)) return why;
  return null;
}

/**
 * For a command that is not run: the CLI invocation that checks it without running it (`lamer <command> --help`,
 * whose output must list every flag the documented command uses), or a project file it names, or null when the
 * command is not the project's (npm install, third-party servers).
 */
function staticCheck(cmd: string): { helpArgv: string[]; flags: string[] } | { file: string } | null {
  let w = words(cmd.replace(/^nice -n \d+ /, ''));
  while (w.length && /^[A-Z_][A-Z0-9_]*=/.test(w[0])) w = w.slice(1); // VAR=value prefixes
  if (w[0] === 'node' && w[1] === '--import' && w[3]?.startsWith('scripts/')) return { file: w[3] };
  if (!(w[0] === 'npm' && w[1] === 'run' && w.includes('lamer'))) return null;
  const args = w.slice(w.indexOf('--') + 1);
  const path = args
    .slice(
      0,
      Math.max(
        1,
        args.findIndex((a) => a.startsWith('-')),
      ),
    )
    .filter((a) => !/[<>.]/.test(a));
  const flags = [
    ...new Set(
      args
        .map((a) => a.replace(/^\[/, ''))
        .filter((a) => /^--[a-z]/.test(a))
        .map((a) => a.split(/[=\]]/)[0]),
    ),
  ];
  return { helpArgv: [CLI, ...path, '--help'], flags };
}

/** Splits a shell command line into words (single and double quotes; no expansion). */
function words(cmd: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m; (m = re.exec(cmd)); ) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

const TINY = [
  'env.groupSize=2',
  'algo.groupsPerUpdate=2',
  'run.evalTasks=4',
  'learner.checkpointEvery=1',
  'model.dModel=16',
  'model.nLayer=1',
  'model.nHead=2',
  'model.nCtx=160',
  'pretrain.trials=8',
  'pretrain.epochs=1',
  'log.level=warn',
].flatMap((s) => ['--set', s]);

/** The argv to run for a documented command: budgets shrunk, ports freed; node + the CLI instead of npm. */
function plan(cmd: string, trains: Map<string, number>): { argv: string[]; serve: boolean } {
  let w = words(cmd.replace(/^nice -n \d+ /, ''));
  const opt = (name: string) => {
    const i = w.indexOf(name);
    return i >= 0 ? w[i + 1] : undefined;
  };
  const drop = (name: string) => {
    const i = w.indexOf(name);
    if (i >= 0) w.splice(i, 2);
  };
  if (w[0] === 'npm' && w[1] === 'start') w = ['train', ...w.slice(w[2] === '--' ? 3 : 2)];
  else if (w[0] === 'npm' && w[1] === 'run' && w.includes('lamer')) w = w.slice(w.indexOf('--') + 1);
  else if (w[0] === 'node') return { argv: w.slice(1), serve: false };
  else throw new Error(`no rule to run '${cmd}'`);
  const sub = w[0];
  if (sub === 'train') {
    // Budgets are totals: each invocation on the same directory trains one more update than the last.
    const dir = opt('--run-dir') ?? '';
    const n = (trains.get(dir) ?? 1) + 1;
    trains.set(dir, n);
    drop('--minutes');
    drop('--iterations');
    w.push('--iterations', String(n), ...TINY);
  }
  if (sub === 'check-env' && Number(opt('--episodes')) > 20) w[w.indexOf('--episodes') + 1] = '20';
  if (sub === 'eval' && Number(opt('--tasks')) > 8) w[w.indexOf('--tasks') + 1] = '8';
  if (sub === 'serve' && opt('--listen')) w[w.indexOf('--listen') + 1] = opt('--listen')!.replace(/:\d+$/, ':0');
  return { argv: ['--import', 'tsx', CLI, ...w], serve: sub === 'serve' };
}

interface Run {
  code: number | null;
  out: string;
}

function run(argv: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      argv,
      { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, LAMER_DEBUG: '' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
      },
    );
  });
}

/** Starts a server command, waits for its listening line and the vocabulary note, then stops it. */
function runServer(argv: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const check = () => {
      if (
        /^lamer serve: .* at http:\/\/127\.0\.0\.1:\d+\/v1/m.test(out) &&
        /^note: this model knows only its game vocabulary/m.test(out)
      )
        child.kill('SIGTERM');
    };
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      check();
    });
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

const docs = DOCS.flatMap((f) => extractCommands(f, readFileSync(join(REPO, f), 'utf8')));

describe('documented commands', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'lamer-docs-'));
  symlinkSync(join(REPO, 'docs'), join(cwd, 'docs'));
  symlinkSync(join(REPO, 'node_modules'), join(cwd, 'node_modules'));
  symlinkSync(join(REPO, 'scripts'), join(cwd, 'scripts')); // `node --import tsx scripts/...` commands
  TINY.push('--set', `pretrain.cacheDir=${join(cwd, 'runs', 'base')}`);
  const trains = new Map<string, number>();

  it("finds the README's commands", () => {
    const readme = docs.filter((d) => d.file === 'README.md').map((d) => d.command);
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm run -s lamer -- eval --run-dir runs/first');
  });

  for (const d of docs) {
    const why = skipReason(d.command);
    const name = `${d.file}:${d.line} ${d.command}`;
    if (why) {
      const check = staticCheck(d.command);
      if (!check) continue;
      it(`${name} (not run: ${why}; checked against the CLI)`, async () => {
        if ('file' in check) {
          expect(existsSync(join(REPO, check.file)), check.file).toBe(true);
          return;
        }
        const r = await run(['--import', 'tsx', ...check.helpArgv], cwd);
        expect(r.code, r.out.slice(-2000)).toBe(0);
        for (const f of check.flags) expect(r.out, `${check.helpArgv.slice(1).join(' ')} lists ${f}`).toContain(f);
      });
      continue;
    }
    it(name, async () => {
      const { argv, serve } = plan(d.command, trains);
      const r = serve ? await runServer(argv, cwd) : await run(argv, cwd);
      if (d.expected?.length) {
        expect(
          r.out
            .split('\n')
            .filter((l) => l.trim())
            .map((l) => l.trimEnd()),
        ).toEqual(d.expected.map((l) => l.trimEnd()));
      } else {
        expect(r.out).not.toMatch(/^\s+at /m); // never a stack trace
        if (serve) expect([0, null], r.out.slice(-2000)).toContain(r.code);
        else expect(r.code, r.out.slice(-2000)).toBe(0);
      }
    }, 240_000);
  }
});
