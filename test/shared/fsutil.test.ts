import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicWrite, atomicWriteSync, isTempName, tempPathFor } from '../../shared/fsutil.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lamer-fsutil-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** One traced syscall: where it started and completed in the trace, its arguments and return value. */
interface Call {
  name: string;
  args: string;
  ret: number;
  start: number;
  done: number;
}

/**
 * Runs the probe under `strace -f` and returns its file syscalls. Calls that other threads interrupted appear as
 * `name(args <unfinished ...>` ... `<... name resumed>rest) = ret`; they are stitched back together.
 */
function trace(mode: string): Call[] {
  const out = join(dir, 'trace.txt');
  execFileSync(
    'strace',
    [
      '-f',
      '-o',
      out,
      '-e',
      'trace=openat,write,pwrite64,pwritev,writev,fsync,fdatasync,rename,renameat,renameat2',
      process.execPath,
      '--import',
      'tsx',
      join(import.meta.dirname, '..', 'learner', 'fixtures', 'durability-probe.ts'),
      mode,
      dir,
    ],
    { stdio: 'pipe' },
  );
  const calls: Call[] = [];
  const open = new Map<string, { name: string; args: string; start: number }>();
  readFileSync(out, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      let m = /^(\d+)\s+(\w+)\((.*) <unfinished \.\.\.>$/.exec(line);
      if (m) return void open.set(`${m[1]}:${m[2]}`, { name: m[2], args: m[3], start: i });
      m = /^(\d+)\s+<\.\.\. (\w+) resumed>(.*)\)\s+= (-?\d+)/.exec(line);
      if (m) {
        const o = open.get(`${m[1]}:${m[2]}`);
        open.delete(`${m[1]}:${m[2]}`);
        if (o) calls.push({ name: o.name, args: o.args + m[3], ret: Number(m[4]), start: o.start, done: i });
        return;
      }
      m = /^(\d+)\s+(\w+)\((.*)\)\s+= (-?\d+)/.exec(line);
      if (m) calls.push({ name: m[2], args: m[3], ret: Number(m[4]), start: i, done: i });
    });
  return calls;
}
/** First call named `name` whose arguments match `re` and that started after line `after`. */
function find(calls: Call[], name: RegExp, re: RegExp, after = -1): Call {
  const c = calls
    .filter((x) => name.test(x.name) && re.test(x.args) && x.start > after)
    .sort((a, b) => a.start - b.start)[0];
  if (!c) throw new Error(`no ${name} call matching ${re} after line ${after}`);
  return c;
}
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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
    const calls = trace('atomic');
    const tmp = find(calls, /^openat$/, /\.target\.bin\.tmp-\d+-[0-9a-f]{8}", O_WRONLY\|O_CREAT\|O_EXCL/);
    const fsyncFile = find(calls, /^fsync$/, new RegExp(`^${tmp.ret}$`), tmp.done);
    const rename = find(calls, /^rename(at2?)?$/, /\.tmp-.*target\.bin"/, fsyncFile.done);
    const openDir = find(calls, /^openat$/, new RegExp(`"${esc(dir)}", O_RDONLY`), rename.done);
    const fsyncDir = find(calls, /^fsync$/, new RegExp(`^${openDir.ret}$`), openDir.done);
    // Each step starts only after the previous one completed.
    expect(fsyncFile.start).toBeGreaterThan(tmp.done);
    expect(rename.start).toBeGreaterThan(fsyncFile.done);
    expect(fsyncDir.start).toBeGreaterThan(rename.done);
  });

  it('ledger (strace): the append resolves only after the fdatasync that follows its write', () => {
    const calls = trace('ledger');
    // The segment opened for appending (the last open of it; earlier ones are the recovery scan).
    const seg = calls.filter((c) => c.name === 'openat' && /seg-0{20}\.log", O_RDWR/.test(c.args)).at(-1)!;
    const write = find(calls, /^pwritev?$/, new RegExp(`^${seg.ret}, `), seg.done);
    const sync = find(calls, /^fdatasync$/, new RegExp(`^${seg.ret}$`), write.done);
    const acked = find(calls, /^write$/, /^1, "ACKED/);
    expect(sync.start).toBeGreaterThan(write.done);
    expect(acked.start).toBeGreaterThan(sync.done);
  });

  it('checkpoint (strace): MANIFEST.json is written after the data file is fsynced, then renamed into place', () => {
    const calls = trace('checkpoint');
    const data = find(calls, /^openat$/, /ckpt-000000000001\.partial-\d+\/weights\.bin", O_WRONLY\|O_CREAT\|O_EXCL/);
    const fsyncData = find(calls, /^fsync$/, new RegExp(`^${data.ret}$`), data.done);
    const manifest = find(calls, /^openat$/, /\.MANIFEST\.json\.tmp-/, fsyncData.done);
    const renameDir = find(
      calls,
      /^rename(at2?)?$/,
      /ckpt-000000000001\.partial-\d+", .*ckpt-000000000001"/,
      manifest.done,
    );
    expect(manifest.start).toBeGreaterThan(fsyncData.done);
    expect(renameDir.start).toBeGreaterThan(manifest.done);
  });
});
