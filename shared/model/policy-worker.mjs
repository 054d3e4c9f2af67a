// Piscina entry for PolicyPool: registers the tsx loader in this worker (vitest has none, and a CLI started with
// `node --import tsx` does not carry it into piscina workers), then loads the TypeScript worker body.
import { register } from 'tsx/esm/api';

register();
const mod = await import('./policy.worker.ts');
export default mod.default;
