// Piscina entry for PolicyPool: registers the tsx loader (vitest and plain node do not have it; under the CLI's
// `--import tsx` a second registration is harmless), then loads the TypeScript worker body.
import { register } from 'tsx/esm/api';

if (!process.execArgv.some((a) => a.includes('tsx'))) register();
const mod = await import('./policy.worker.ts');
export default mod.default;
