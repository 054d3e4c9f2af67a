/** `lamer replay` state files of envs whose tasks are generated from a seed (WebShop, ALFWorld). */
import { z } from 'zod';
import type { ReplaySpec } from '../types.js';

/** `{seed, options?, actions}`: `options` are env options; the template is always full. */
export const seededReplay: ReplaySpec = {
  state: z.strictObject({
    seed: z.number().int().min(0),
    options: z.record(z.string(), z.unknown()).optional(),
    actions: z.array(z.string()),
  }),
  options: (s) => ({ ...(s.options as Record<string, unknown> | undefined), template: 'full' }),
};
