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
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string'
    && (e as { code: string }).code in ErrorCodes;
}
