import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  authorizationHeader,
  createAuthenticator,
  deriveActorToken,
  generateMasterKey,
  loadMasterKey,
} from '../../learner/auth.js';

describe('per-actor tokens', () => {
  const master = 'k'.repeat(32);

  it('derives a stable HMAC-SHA256 hex token per actor', () => {
    const t = deriveActorToken(master, 'actor-1');
    expect(t).toMatch(/^[0-9a-f]{64}$/);
    expect(deriveActorToken(master, 'actor-1')).toBe(t);
    expect(deriveActorToken(master, 'actor-2')).not.toBe(t);
    expect(deriveActorToken('z'.repeat(32), 'actor-1')).not.toBe(t);
    expect(generateMasterKey()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verifies only the actor the token was derived for', () => {
    const auth = createAuthenticator(master);
    const t1 = deriveActorToken(master, 'actor.1');
    expect(auth.verify(authorizationHeader('actor.1', t1))).toBe('actor.1');
    // A leaked token cannot impersonate another actor.
    expect(auth.verify(authorizationHeader('actor-2', t1))).toBeNull();
    expect(
      auth.verify(
        authorizationHeader(
          'actor.1',
          t1.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
        ),
      ),
    ).toBeNull();
    expect(auth.verify(undefined)).toBeNull();
    expect(auth.verify('')).toBeNull();
    expect(auth.verify(`Bearer ${t1}`)).toBeNull();
    expect(auth.verify(`Basic actor.1.${t1}`)).toBeNull();
    expect(auth.verify(authorizationHeader('actor.1', t1.slice(0, 62)))).toBeNull();
    expect(createAuthenticator('other-master-key-xx').verify(authorizationHeader('actor.1', t1))).toBeNull();
  });

  it('rejects short keys and bad actor ids with clear errors', () => {
    expect(() => deriveActorToken('short', 'a')).toThrow(/at least 16 bytes/);
    expect(() => deriveActorToken(master, '../x')).toThrow(/invalid actor id/);
  });

  it('loads the master key from the environment or a file, never silently', () => {
    expect(loadMasterKey({ env: { LAMER_MASTER_KEY: master } }).toString()).toBe(master);
    const dir = mkdtempSync(join(tmpdir(), 'lamer-auth-'));
    const file = join(dir, 'key');
    writeFileSync(file, `${master}\n`);
    expect(loadMasterKey({ env: { LAMER_MASTER_KEY_FILE: file } }).toString()).toBe(master);
    expect(loadMasterKey({ file, env: {} }).toString()).toBe(master);
    expect(() => loadMasterKey({ env: {} })).toThrow(/no master key/);
    expect(() => loadMasterKey({ file: join(dir, 'missing'), env: {} })).toThrow(
      /cannot read master key file .*ENOENT/,
    );
  });
});
