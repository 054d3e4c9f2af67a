import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicWrite, atomicWriteSync, isTempName, tempPathFor } from '../../shared/fsutil.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'lamer-fsutil-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

/** Runs the probe under strace and returns the trace lines (file syscalls + writes to stdout). */
function trace(mode: string): string[] {
  const out = join(dir, 'trace.txt');
  execFileSync('strace', ['-f', '-o', out, '-e', 'trace=openat,write,pwrite64,pwritev,writev,fsync,fdatasync,rename,renameat,renameat2',
    process.execPath, '--import', 'tsx', join(import.meta.dirname, '..', 'learner', 'fixtures', 'durability-probe.ts'), mode, dir], { stdio: 'pipe' });
  return readFileSync(out, 'utf8').split('\n');
}
const fdOf = (line: string) => Number(/= (\d+)$/.exec(line)?.[1]);
const indexOf = (lines: string[], re: RegExp, from = 0) => lines.findIndex((l, i) => i >= from && re.test(l));

describe('atomicWrite', () => {
  it('replaces the content and leaves no temp file', async () => {
    const f = join(dir, 'a.json');
    await atomicWrite(f, '{"v":1}');
    await atomicWrite(f, [Buffer.from('{"v"'), Buffer.from(':2}')]);
    atomicWriteSync(join(dir, 'b.bin'), new Uint8Array([1, 2, 3]));
    expect(readFileSync(f, 'utf8')).toBe('{"v":2}');
    expect([...readFileSync(join(dir, 'b.bin'))]).toEqual([1, 2, 3]);
    expect(readdirSync(dir).sort()).toEqual(['a.json', 'b.bin']);
    expect(isTempName(tempPathFor(f).split('/').pop()!)).toBe(true);
    expect(isTempName('a.json')).toBe(false);
  });

  it('syscall order (strace): write temp, fsync it, rename, fsync the directory', () => {
    const lines = trace('atomic');
    const open = indexOf(lines, /openat\(.*\.target\.bin\.tmp-\d+-[0-9a-f]{8}", O_WRONLY\|O_CREAT\|O_EXCL/);
    expect(open).toBeGreaterThanOrEqual(0);
    const fd = fdOf(lines[open]);
    const fsyncFile = indexOf(lines, new RegExp(`fsync\\(${fd}\\)`), open);
    const rename = indexOf(lines, /rename(at2?)?\(.*\.tmp-.*target\.bin"/, open);
    const openDir = indexOf(lines, new RegExp(`openat\\(AT_FDCWD, "${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}", O_RDONLY`), rename);
    const fsyncDir = indexOf(lines, new RegExp(`fsync\\(${fdOf(lines[openDir])}\\)`), openDir);
    expect(fsyncFile).toBeGreaterThan(open);
    expect(rename).toBeGreaterThan(fsyncFile);
    expect(openDir).toBeGreaterThan(rename);
    expect(fsyncDir).toBeGreaterThan(openDir);
  });

  it('ledger (strace): the append resolves only after the fdatasync that follows its write', () => {
    const lines = trace('ledger');
    // The segment opened for appending (the last open of it: the first one is the recovery scan).
    const opens = lines.map((l, i) => [l, i] as const).filter(([l]) => /openat\(.*seg-0{20}\.log", O_RDWR/.test(l));
    const fd = fdOf(opens[opens.length - 1][0]);
    const write = indexOf(lines, new RegExp(`pwritev?\\(${fd}, `), opens[opens.length - 1][1]);
    const sync = indexOf(lines, new RegExp(`fdatasync\\(${fd}\\)\\s+= 0`), write);
    const acked = indexOf(lines, /write\(1, "ACKED/);
    expect(write).toBeGreaterThanOrEqual(0);
    expect(sync).toBeGreaterThan(write);
    expect(acked).toBeGreaterThan(sync);
  });

  it('checkpoint (strace): MANIFEST.json is written after the data file is fsynced, then renamed into place', () => {
    const lines = trace('checkpoint');
    const openData = indexOf(lines, /openat\(.*ckpt-000000000001\.partial-\d+\/weights\.bin", O_WRONLY\|O_CREAT\|O_EXCL/);
    const fsyncData = indexOf(lines, new RegExp(`fsync\\(${fdOf(lines[openData])}\\)`), openData);
    const openManifest = indexOf(lines, /openat\(.*\.MANIFEST\.json\.tmp-/, fsyncData);
    const renameDir = indexOf(lines, /rename(at2?)?\(.*ckpt-000000000001\.partial-\d+", .*ckpt-000000000001"/, openManifest);
    expect(fsyncData).toBeGreaterThan(openData);
    expect(openManifest).toBeGreaterThan(fsyncData);
    expect(renameDir).toBeGreaterThan(openManifest);
  });
});
