import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { RotatingLogStream, type RotationOptions } from './rotating-file.js';

/** Rotation of log files when the caller gives none (the defaults of config keys log.maxMB and log.keep). */
export const DEFAULT_LOG_ROTATION: RotationOptions = { maxBytes: 50 << 20, keep: 5 };

/**
 * Rotation for a child process, from the environment its parent set (`LAMER_LOG_MAX_MB`, `LAMER_LOG_KEEP`);
 * unset variables take the defaults.
 */
export function rotationFromEnv(env: NodeJS.ProcessEnv = process.env): RotationOptions {
  const mb = env.LAMER_LOG_MAX_MB === undefined ? NaN : Number(env.LAMER_LOG_MAX_MB);
  const keep = env.LAMER_LOG_KEEP === undefined ? NaN : Number(env.LAMER_LOG_KEEP);
  return {
    maxBytes: Number.isFinite(mb) && mb >= 0 ? Math.round(mb * (1 << 20)) : DEFAULT_LOG_ROTATION.maxBytes,
    keep: Number.isInteger(keep) && keep >= 0 ? keep : DEFAULT_LOG_ROTATION.keep,
  };
}

/** The environment that makes a child's {@link createLogger} write to a rotated `file`. */
export function logFileEnv(file: string, rotate: RotationOptions): Record<string, string> {
  return {
    LAMER_LOG_FILE: file,
    LAMER_LOG_MAX_MB: String(rotate.maxBytes / (1 << 20)),
    LAMER_LOG_KEEP: String(rotate.keep),
  };
}

/**
 * The one logger factory. JSON lines to stderr so stdout stays free for `--json` results, or to a file
 * (`destination`, else `LAMER_LOG_FILE`) rotated by size (shared/rotating-file.ts). Writes are synchronous: the
 * last lines before a crash are on disk.
 */
export function createLogger(
  opts: { level?: string; component?: string; destination?: number | string; rotate?: RotationOptions } = {},
): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? process.env.LAMER_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
  };
  const target = opts.destination ?? process.env.LAMER_LOG_FILE ?? 2;
  const dest: DestinationStream =
    typeof target === 'string'
      ? new RotatingLogStream(target, opts.rotate ?? rotationFromEnv())
      : pino.destination({ dest: target, sync: true });
  const root = pino(options, dest);
  return opts.component ? root.child({ component: opts.component }) : root;
}

export type { Logger };
