/** A whole learner (LearnerRuntime) for tests, kept out of harness.ts so the server tests do not load the runtime. */
import { compactVocabulary } from '../../actor/envs/prompt.js';
import { createAuthenticator } from '../../learner/auth.js';
import { LearnerRuntime } from '../../learner/runtime.js';
import type { Config } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { RunDir } from '../../shared/run-dir.js';
import { MASTER } from './harness.js';

/** A learner on `dir` with this config, silent, keyed by MASTER. */
export function startRuntime(config: Config, dir: string): Promise<LearnerRuntime> {
  return LearnerRuntime.start({
    config,
    runDir: new RunDir(dir),
    logger: createLogger({ level: 'silent' }),
    auth: createAuthenticator(MASTER),
    vocabulary: compactVocabulary(config.env.id),
  });
}
