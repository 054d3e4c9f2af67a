/**
 * Absolute URLs of the tsx loader. A child process's `--import tsx` and an eval worker's `import 'tsx/esm/api'`
 * resolve the bare name from the current directory, which need not be the repository: a container runs in its run
 * volume, a global install anywhere. Resolved from this file, they work from any directory.
 */
export function tsxUrl(entry: 'tsx' | 'tsx/esm/api'): string {
  try {
    return import.meta.resolve(entry);
  } catch {
    // A module runner without import.meta.resolve (vitest): it runs from the repository, where the bare name resolves.
    return entry;
  }
}
