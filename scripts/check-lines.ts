/**
 * `node --import tsx scripts/check-lines.ts <paths...>`: fails when a source line (.ts, .mjs, .js) under the given
 * paths is longer than 120 characters. Biome's formatter wraps code at that width but leaves long strings, template
 * literals and comments as they are; this catches those (`npm run lint` runs it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const MAX_LINE = 120;

/** 1-based numbers and lengths of the lines of `text` longer than `max` characters. */
export function longLines(text: string, max = MAX_LINE): Array<{ line: number; length: number }> {
  return text
    .split('\n')
    .map((l, i) => ({ line: i + 1, length: l.length }))
    .filter((l) => l.length > max);
}

/**
 * Source files under `paths` (directories recurse): tracked or new and not ignored (git's view, so node_modules and
 * runs are skipped). Tracked files deleted from the work tree are left out; `-z` keeps unusual names unquoted.
 */
export function sourceFiles(paths: readonly string[], cwd = process.cwd()): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...paths], {
    cwd,
    encoding: 'utf8',
  });
  return [...new Set(out.split('\0'))].filter((f) => /\.(ts|mjs|js)$/.test(f) && existsSync(join(cwd, f))).sort();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const paths = process.argv.slice(2);
  let n = 0;
  for (const f of sourceFiles(paths.length ? paths : ['.'])) {
    for (const l of longLines(readFileSync(f, 'utf8'))) {
      process.stdout.write(`${f}:${l.line}: ${l.length} characters (max ${MAX_LINE})\n`);
      n++;
    }
  }
  if (n > 0) {
    process.stdout.write(`${n} lines longer than ${MAX_LINE} characters\n`);
    process.exitCode = 1;
  }
}
