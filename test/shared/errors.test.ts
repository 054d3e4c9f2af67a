import { describe, expect, it } from 'vitest';
import { LamerError, badInput, isLamerError } from '../../shared/errors.js';

describe('error catalog', () => {
  it('keeps the code across a structured clone (worker boundary)', () => {
    const e = badInput('mine (7, 1) is outside the 6x6 board');
    const cloned = structuredClone(e.toJSON());
    expect(isLamerError(cloned)).toBe(true);
    expect(cloned.code).toBe('RL_ERR_BAD_INPUT');
    expect(e).toBeInstanceOf(LamerError);
    expect(isLamerError(new Error('plain'))).toBe(false);
  });
});

describe('system errors in the catalog', () => {
  it('wraps ENOTDIR/EACCES/EADDRINUSE with the path or address and a hint; leaves other errors alone', async () => {
    const { fromSystemError, formatCliError } = await import('../../shared/errors.js');
    const { mkdtempSync, writeFileSync, mkdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const f = join(mkdtempSync(join(tmpdir(), 'lamer-err-')), 'file');
    writeFileSync(f, 'x');
    let real: unknown;
    try {
      mkdirSync(join(f, 'sub'));
    } catch (e) {
      real = e;
    }
    expect(fromSystemError(real)?.code).toBe('RL_ERR_FS');
    expect(fromSystemError(real)?.message).toBe(
      `mkdir ${join(f, 'sub')}: a part of the path is a file, not a directory (ENOTDIR); ` +
        'point the option at a directory (a new one is created if it does not exist)',
    );
    const acces = Object.assign(new Error('EACCES: permission denied'), {
      code: 'EACCES',
      syscall: 'open',
      path: '/srv/runs/x/meta.json',
    });
    expect(formatCliError(acces, false)).toBe(
      'lamer: error [RL_ERR_FS]: open /srv/runs/x/meta.json: permission denied (EACCES); ' +
        'choose a path you can write to, or fix its permissions\n',
    );
    const inUse = Object.assign(new Error('listen EADDRINUSE'), {
      code: 'EADDRINUSE',
      syscall: 'listen',
      address: '0.0.0.0',
      port: 7070,
    });
    expect(fromSystemError(inUse)?.message).toMatch(
      /^listen 0\.0\.0\.0:7070: address already in use \(EADDRINUSE\); .*port 0/,
    );
    expect(fromSystemError(new Error('plain'))).toBeNull();
    expect(formatCliError(new Error('plain'), false)).toBe(
      'lamer: unexpected error: plain (run again with --debug for the stack trace)\n',
    );
    expect(formatCliError(acces, true)).toMatch(/\n\s+at /); // --debug: the stack follows the line
  });
});
