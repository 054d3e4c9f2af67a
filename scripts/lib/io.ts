import { readFileSync } from 'node:fs';
import { badInput } from '../../shared/errors.js';

/** Reads and parses a JSON file; errors name the file and what went wrong. */
export function readJsonFile(path: string, what = 'input file'): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw badInput(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badInput(`${what} '${path}' is not valid JSON: ${(e as Error).message}`);
  }
}

/** Prints one JSON object as a single line on stdout (the contract of every `--json` command). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/** Parses a CLI integer option with a clear message. */
export function parseIntOption(name: string, min = 0): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw badInput(`option --${name} must be an integer >= ${min}, got '${v}'`);
    return n;
  };
}

/** Commander argParser for a repeatable option (`--set a=1 --set b=2` → ['a=1', 'b=2']). */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
