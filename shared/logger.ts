import { pino, type Logger, type LoggerOptions } from 'pino';

/** The one logger factory. JSON lines to stderr so stdout stays free for `--json` results. */
export function createLogger(opts: { level?: string; component?: string; destination?: number | string } = {}): Logger {
  const options: LoggerOptions = { level: opts.level ?? process.env.LAMER_LOG_LEVEL ?? 'info', base: { pid: process.pid } };
  const dest = pino.destination({ dest: opts.destination ?? 2, sync: true });
  const root = pino(options, dest);
  return opts.component ? root.child({ component: opts.component }) : root;
}

export type { Logger };
