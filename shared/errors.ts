/**
 * One catalog of error codes. Errors that cross a worker or socket boundary travel as
 * `{ code, message, details }`; never rely on `instanceof` across such a boundary.
 */
export const ErrorCodes = {
  RL_ERR_BAD_INPUT: 'bad input (file, argument or option)',
  RL_ERR_CONFIG: 'invalid configuration',
  RL_ERR_UNKNOWN_ENV: 'unknown environment id',
  RL_ERR_BAD_STATE: 'malformed explicit environment state',
  RL_ERR_CHECKPOINT: 'checkpoint missing, corrupt or incompatible',
  RL_ERR_MODEL: 'model input out of range',
  RL_ERR_PROTOCOL: 'protocol violation',
  RL_ERR_BACKEND: 'policy backend (inference server) failed or answered malformed',
  RL_ERR_FS: 'file system error (a path that is missing, not a directory, not writable, or a full disk)',
  RL_ERR_NET: 'network error (address in use, connection refused, host not found)',
  RL_ERR_TIMEOUT: 'an operation across a process or thread boundary missed its deadline',
  RL_ERR_INTERNAL: 'internal error',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class LamerError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'LamerError';
    this.code = code;
    this.details = details;
  }
  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Shorthand for the common case: bad user input with a message that names the problem. */
export function badInput(message: string, details?: unknown): LamerError {
  return new LamerError('RL_ERR_BAD_INPUT', message, details);
}

/** True for any error-shaped value carrying one of our codes (works across worker boundaries). */
export function isLamerError(e: unknown): e is { code: ErrorCode; message: string } {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    (e as { code: string }).code in ErrorCodes
  );
}

/** What each operating-system error means for the user, and what to try. */
const SYSTEM_ERRORS: Record<string, { code: 'RL_ERR_FS' | 'RL_ERR_NET'; what: string; hint: string }> = {
  ENOENT: {
    code: 'RL_ERR_FS',
    what: 'no such file or directory',
    hint: 'check the path; relative paths start at the current directory',
  },
  ENOTDIR: {
    code: 'RL_ERR_FS',
    what: 'a part of the path is a file, not a directory',
    hint: 'point the option at a directory (a new one is created if it does not exist)',
  },
  EISDIR: { code: 'RL_ERR_FS', what: 'is a directory, a file was expected', hint: 'point the option at a file' },
  EACCES: {
    code: 'RL_ERR_FS',
    what: 'permission denied',
    hint: 'choose a path you can write to, or fix its permissions',
  },
  EPERM: { code: 'RL_ERR_FS', what: 'operation not permitted', hint: 'choose a path you own, or fix its permissions' },
  EROFS: {
    code: 'RL_ERR_FS',
    what: 'read-only file system',
    hint: 'choose a writable location, e.g. --run-dir runs/NAME',
  },
  ENOSPC: {
    code: 'RL_ERR_FS',
    what: 'no space left on the device',
    hint: 'free disk space (old runs/ directories) or choose another disk',
  },
  EEXIST: { code: 'RL_ERR_FS', what: 'already exists', hint: 'remove it or choose another path' },
  ENOTEMPTY: { code: 'RL_ERR_FS', what: 'directory not empty', hint: 'remove it or choose another path' },
  EMFILE: { code: 'RL_ERR_FS', what: 'too many open files', hint: 'raise the limit (ulimit -n) or run fewer actors' },
  EADDRINUSE: {
    code: 'RL_ERR_NET',
    what: 'address already in use',
    hint: 'another process listens there: choose another port, or port 0 for any free one',
  },
  EADDRNOTAVAIL: {
    code: 'RL_ERR_NET',
    what: 'address not available on this machine',
    hint: "listen on 127.0.0.1, 0.0.0.0 or one of this machine's addresses",
  },
  ECONNREFUSED: {
    code: 'RL_ERR_NET',
    what: 'connection refused',
    hint: 'is the server running and listening on that host and port?',
  },
  ECONNRESET: {
    code: 'RL_ERR_NET',
    what: 'connection reset by the peer',
    hint: 'the other side closed the connection; check its log',
  },
  ENOTFOUND: { code: 'RL_ERR_NET', what: 'host not found', hint: 'check the host name in the URL' },
  ETIMEDOUT: {
    code: 'RL_ERR_NET',
    what: 'timed out',
    hint: 'check the address and that a firewall lets the connection through',
  },
  EHOSTUNREACH: { code: 'RL_ERR_NET', what: 'host unreachable', hint: 'check the address and the network route' },
};

/**
 * Wraps an operating-system error (Node's `{code, syscall, path, address, port}`) into the catalog: the path or
 * address, what the code means and a hint. Returns null for anything else.
 */
export function fromSystemError(e: unknown): LamerError | null {
  if (typeof e !== 'object' || e === null) return null;
  const err = e as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string; dest?: string };
  const known = typeof err.code === 'string' ? SYSTEM_ERRORS[err.code] : undefined;
  if (!known) return null;
  const where = err.path
    ? `${err.path}${err.dest ? ` -> ${err.dest}` : ''}`
    : err.address
      ? `${err.address}${err.port !== undefined ? `:${err.port}` : ''}`
      : (err.hostname ?? '');
  const op = err.syscall ? `${err.syscall} ` : '';
  return new LamerError(known.code, `${op}${where}: ${known.what} (${err.code}); ${known.hint}`, {
    errno: err.code,
    syscall: err.syscall,
    path: err.path,
  });
}

/**
 * The CLI's one line for any error: catalog errors and wrapped system errors by code; a stack trace only if `debug`.
 */
export function formatCliError(e: unknown, debug: boolean): string {
  const known = isLamerError(e) ? e : fromSystemError(e);
  const stack = debug && e instanceof Error && e.stack ? `${e.stack}\n` : '';
  if (known) return `lamer: error [${known.code}]: ${known.message}\n${stack}`;
  if (stack) return `lamer: unexpected error: ${stack}`;
  return (
    `lamer: unexpected error: ${e instanceof Error ? e.message : String(e)} ` +
    `(run again with --debug for the stack trace)\n`
  );
}
