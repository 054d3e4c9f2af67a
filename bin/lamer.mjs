#!/usr/bin/env node
// Entry for `npx lamer` / a global install: register the TypeScript loader, then run the CLI.
import { register } from 'tsx/esm/api';
register();
await import('../scripts/cli.ts');
