/** The line-length check of `npm run lint`. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { longLines, sourceFiles } from '../../scripts/check-lines.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/check-lines.ts', import.meta.url));
// The child runs in a temp repo, where a bare `--import tsx` would not resolve.
const TSX = import.meta.resolve('tsx');

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function repo(files: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), 'lamer-lines-'));
  spawnSync('git', ['init', '-q'], { cwd: dir });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('check-lines', () => {
  it('reports lines longer than 120 characters, with 1-based numbers', () => {
    const text = ['ok', 'x'.repeat(120), 'y'.repeat(121), ''].join('\n');
    expect(longLines(text)).toEqual([{ line: 3, length: 121 }]);
    expect(longLines('abcd', 3)).toEqual([{ line: 1, length: 4 }]);
  });

  it('checks source files only, skipping ignored ones', () => {
    const r = repo({ 'a.ts': '', 'b.md': '', 'c.mjs': '', '.gitignore': 'skip.ts\n', 'skip.ts': '' });
    expect(sourceFiles(['.'], r)).toEqual(['a.ts', 'c.mjs']);
  });

  it('recurses into directories, skips deleted tracked files and lists unusual names as they are', () => {
    const r = repo({ 'a.ts': '', 'gone.ts': '', 'é.ts': '' });
    mkdirSync(join(r, 'sub', 'deep'), { recursive: true });
    writeFileSync(join(r, 'sub', 'deep', 'b.js'), '');
    const git = (...args: string[]) => spawnSync('git', args, { cwd: r, encoding: 'utf8' });
    git('add', '.');
    rmSync(join(r, 'gone.ts'));
    expect(sourceFiles(['.'], r)).toEqual(['a.ts', 'sub/deep/b.js', 'é.ts']);
    expect(sourceFiles(['sub'], r)).toEqual(['sub/deep/b.js']);
  });

  it('exits 1 and names the line when one is too long, 0 otherwise', () => {
    const r = repo({ 'good.ts': 'const a = 1;\n', 'bad.ts': `// ${'z'.repeat(130)}\n` });
    const run = (...paths: string[]) =>
      spawnSync(process.execPath, ['--import', TSX, SCRIPT, ...paths], { cwd: r, encoding: 'utf8' });
    const bad = run('.');
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('bad.ts:1: 133 characters (max 120)');
    expect(bad.stdout).toContain('1 lines longer than 120 characters');
    const good = run('good.ts');
    expect(good.status).toBe(0);
    expect(good.stdout).toBe('');
  });
});
