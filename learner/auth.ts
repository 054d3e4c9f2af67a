/**
 * Per-actor bearer tokens: `token = hex(HMAC-SHA256(masterKey, actorId))`. The actor sends
 * `Authorization: Bearer <actorId>.<token>`; the learner recomputes the token for the claimed actorId and compares
 * in constant time. A leaked token therefore binds one actorId: it cannot impersonate other actors or write into
 * their exactly-once key space (docs/design.md §8.4). Only the learner holds the master key.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ActorIdSchema } from '../proto/messages.js';
import { LamerError, badInput } from '../shared/errors.js';

/** Environment variables consulted by {@link loadMasterKey}. */
export const MASTER_KEY_ENV = 'LAMER_MASTER_KEY';
export const MASTER_KEY_FILE_ENV = 'LAMER_MASTER_KEY_FILE';
const MIN_KEY_BYTES = 16;

/** A fresh random master key (64 hex characters), e.g. for a local `lamer train` run. */
export function generateMasterKey(): string {
  return randomBytes(32).toString('hex');
}

function keyBytes(masterKey: string | Uint8Array): Buffer {
  const b = typeof masterKey === 'string' ? Buffer.from(masterKey.trim(), 'utf8') : Buffer.from(masterKey);
  if (b.byteLength < MIN_KEY_BYTES)
    throw badInput(`master key must be at least ${MIN_KEY_BYTES} bytes, got ${b.byteLength}`);
  return b;
}

/** The token of one actor (64 lowercase hex characters). */
export function deriveActorToken(masterKey: string | Uint8Array, actorId: string): string {
  if (!ActorIdSchema.safeParse(actorId).success)
    throw badInput(`invalid actor id '${actorId}': use [A-Za-z0-9][A-Za-z0-9_.-]{0,63}`);
  return createHmac('sha256', keyBytes(masterKey)).update(actorId, 'utf8').digest('hex');
}

/** The `Authorization` header value an actor sends. */
export function authorizationHeader(actorId: string, token: string): string {
  return `Bearer ${actorId}.${token}`;
}

/**
 * Reads the master key from `opts.file`, else `$LAMER_MASTER_KEY`, else the file named by `$LAMER_MASTER_KEY_FILE`.
 * Keys are never taken from the command line (they would show up in `ps`).
 */
export function loadMasterKey(opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): Buffer {
  const env = opts.env ?? process.env;
  const file = opts.file ?? (env[MASTER_KEY_ENV] ? undefined : env[MASTER_KEY_FILE_ENV]);
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw badInput(
        `cannot read master key file '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    return keyBytes(text);
  }
  const value = env[MASTER_KEY_ENV];
  if (!value) throw new LamerError('RL_ERR_CONFIG', `no master key: set ${MASTER_KEY_ENV} or ${MASTER_KEY_FILE_ENV}`);
  return keyBytes(value);
}

/** Verifies `Authorization` headers against one master key. */
export interface Authenticator {
  /** The authenticated actorId, or null for a missing/malformed/wrong credential. */
  verify(authorization: string | undefined): string | null;
}

const BEARER = /^Bearer ([A-Za-z0-9][A-Za-z0-9_.-]{0,63})\.([0-9a-f]{64})$/;

/** An {@link Authenticator} for per-actor HMAC tokens. */
export function createAuthenticator(masterKey: string | Uint8Array): Authenticator {
  const key = keyBytes(masterKey);
  return {
    verify(authorization) {
      // Header shape is not secret; only the token comparison must not leak timing.
      const m = BEARER.exec(authorization ?? '');
      if (!m) return null;
      const [, actorId, token] = m;
      const expected = createHmac('sha256', key).update(actorId, 'utf8').digest();
      const given = Buffer.from(token, 'hex');
      return given.byteLength === expected.byteLength && timingSafeEqual(given, expected) ? actorId : null;
    },
  };
}
