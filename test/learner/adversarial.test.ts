/**
 * An authenticated actor (or a buggy one: another tokenizer, a corrupted record) must not be able to crash, hang or
 * poison the learner. One test per defect an attack on the learner found (numbered as in docs/reliability.md §8),
 * then fast-check properties over frames and records: for any byte string the server answers with a documented
 * close code and stays up; every record it commits is one the trainer can use. Runs per property:
 * LAMER_FUZZ_RUNS (default 150; each run is a real connection).
 */
import { connect, type Socket } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { compactVocabulary } from '../../actor/envs/prompt.js';
import { createAuthenticator } from '../../learner/auth.js';
import { Ledger } from '../../learner/ledger.js';
import { LearnerRuntime } from '../../learner/runtime.js';
import { TaskBook, type GroupState } from '../../learner/task-book.js';
import { runUpdate, type RecordedRow, type TrainerApi } from '../../learner/update.js';
import { encode } from '../../proto/codec.js';
import {
  fromTensor,
  toTensor,
  validateTrial,
  type Lease,
  type Message,
  type Row,
  type Trial,
  type TrialKey,
} from '../../proto/messages.js';
import { CloseCode } from '../../proto/wire.js';
import { AlgoSchema, resolveConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { RunDir } from '../../shared/run-dir.js';
import { MASTER, RUN, RawClient, hello, startHarness, until, type Harness } from './harness.js';

const RUNS = Number(process.env.LAMER_FUZZ_RUNS ?? 150);
const plain = new Packr({ useRecords: false });
const VOCAB = compactVocabulary('lamer/MineSweeper-v0').length + 4; // + the 4 special tokens
const CTX = 64;
/** Every close code the learner documents (proto/wire.ts), plus 1006 (an abnormal close observed, never sent). */
const DOCUMENTED = new Set<number>([...Object.values(CloseCode), 1006]);

let h: Harness | null = null;
let runtimes: LearnerRuntime[] = [];
let dirs: string[] = [];
afterEach(async () => {
  await h?.stop();
  h = null;
  for (const r of runtimes) await r.close();
  runtimes = [];
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lamer-adv-'));
  dirs.push(d);
  return d;
}

/** The next message of `type`, skipping others (weights, credit). */
async function nextOf<T extends Message['type']>(
  c: RawClient,
  type: T,
  timeoutMs = 10_000,
): Promise<Extract<Message, { type: T }>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = await c.next(Math.max(1, end - Date.now()));
    if (m.type === type) return m as Extract<Message, { type: T }>;
  }
}

/** A heartbeat round trip: the learner is up and serving this connection. */
async function alive(c: RawClient): Promise<void> {
  const t = Math.random();
  c.send({ type: 'heartbeat', t });
  for (;;) {
    const m = await c.next();
    if (m.type === 'heartbeat' && m.t === t) return;
  }
}

/** A row within a CTX-token model over VOCAB ids (token ids in [4, VOCAB)). */
function row(
  phase: Row['phase'],
  episode: number,
  turn: number,
  over: { prompt?: number[]; response?: number[]; reward?: number } = {},
): Row {
  const prompt = over.prompt ?? [4, 5, 6, 7, 8, 9, 10, 11];
  const response = over.response ?? [12, 13];
  return {
    phase,
    episode,
    turn,
    reward: over.reward ?? (phase === 'play' ? 0.5 : 0),
    valid: true,
    anchor: `s${episode}.${turn}`,
    policyVersion: 0,
    prompt: toTensor(Int32Array.from(prompt)),
    response: toTensor(Int32Array.from(response)),
    behavLogp: toTensor(Float32Array.from(response, () => -1)),
  };
}

/** A sound trial for `lease` (3 lost episodes of 2 turns, reflections between), keyed by `key`. */
function trialFor(
  lease: Pick<Lease, 'leaseId' | 'groupId' | 'taskSeed' | 'attempts' | 'mode' | 'envId'>,
  key: TrialKey,
  trialIndex = 0,
  edit: (rows: Row[]) => Row[] = (r) => r,
): Trial {
  const rows: Row[] = [];
  for (let e = 0; e < lease.attempts; e++) {
    if (e > 0) rows.push(row('reflect', e, 0));
    rows.push(row('play', e, 0), row('play', e, 1));
  }
  return {
    type: 'trial',
    key,
    leaseId: lease.leaseId,
    groupId: lease.groupId,
    trialIndex,
    envId: lease.envId,
    taskSeed: lease.taskSeed,
    mode: lease.mode,
    attempts: lease.attempts,
    episodesWon: Array.from({ length: lease.attempts }, () => false),
    rows: edit(rows),
    stats: { startedAt: 1, finishedAt: 2, envSteps: 6, genTokens: 12 },
  };
}

async function startRuntime(
  dir: string,
  over: { learner?: Record<string, unknown>; run?: Record<string, unknown>; groupSize?: number } = {},
): Promise<LearnerRuntime> {
  const config = resolveConfig({
    model: { dModel: 16, nLayer: 1, nHead: 2, nCtx: CTX, init: 'random' },
    env: { groupSize: over.groupSize ?? 2 },
    run: { evalTasks: 1, ...over.run },
    learner: { port: 0, ...over.learner },
  });
  const r = await LearnerRuntime.start({
    config,
    runDir: new RunDir(dir),
    logger: createLogger({ level: 'silent' }),
    auth: createAuthenticator(MASTER),
    vocabulary: compactVocabulary(config.env.id),
  });
  runtimes.push(r);
  return r;
}

/** msgpack of `{type, <field>: {a: {a: ... 1}}}` nested `depth` maps deep, built by hand (no encoder recursion). */
function nestedFrame(type: string, field: string, depth: number): Buffer {
  const str = (s: string) => Buffer.concat([Buffer.from([0xa0 | s.length]), Buffer.from(s)]);
  const level = Buffer.from([0x81, 0xa1, 0x61]);
  return Buffer.concat([
    Buffer.from([0x82]),
    str('type'),
    str(type),
    str(field),
    Buffer.alloc(level.length * depth).fill(level),
    Buffer.from([0x01]),
  ]);
}

// ---------------------------------------------------------------------------------------------------------------

describe('defect 1: a deeply nested value cannot take the learner down', () => {
  it.each([1000, 2500, 4500])(
    'closes 1007 on a free-form field nested %i deep, as the first frame and after hello',
    async (depth) => {
      h = await startHarness({ heartbeatMs: 60_000 }); // liveness is not under test; a loaded machine stalls pongs
      const bystander = await RawClient.ready(h.server.url, 'bystander');
      const first = await RawClient.open(h.server.url, 'victim');
      first.ws.send(nestedFrame('policy', 'config', depth));
      expect((await first.closed).code).toBe(CloseCode.INVALID_PAYLOAD);
      const ready = await RawClient.ready(h.server.url, 'victim');
      ready.ws.send(nestedFrame('lease', 'envOptions', depth));
      expect((await ready.closed).code).toBe(CloseCode.INVALID_PAYLOAD);
      await alive(bystander);
      expect(h.server.metrics().decodeErr).toBe(2);
      bystander.ws.close();
    },
  );
});

describe('defects 2, 3 and 6: ingest checks slot, task and model shape before the ledger', () => {
  it('rejects forged slots, unknown or far groups, ' +
    'other tasks and records the model cannot train; commits the sound one', async () => {
    const dir = tempDir();
    const r = await startRuntime(dir, { learner: { leaseTimeoutSec: 0 }, groupSize: 12 });
    const a = await RawClient.ready(r.url, 'actor-a', { runId: r.runId, incarnation: 'inc-a' });
    const b = await RawClient.ready(r.url, 'actor-b', { runId: r.runId, incarnation: 'inc-b' });
    a.send({ type: 'leaseRequest', want: 1 });
    const lease = await nextOf(a, 'lease');
    expect(lease).toMatchObject({ groupId: 'g0', trialIndices: [...Array(12).keys()], mode: 'train' });
    // A rejected record of the lessee for its own lease re-opens that slot (the actor will not send another), so
    // each such case uses a slot of its own; forgeries name slot 11, which they must not re-open.
    let slot = 0;
    let seqA = 0;
    let seqB = 0;
    const keyA = () => ({ runId: r.runId, actorId: 'actor-a', incarnation: 'inc-a', seq: seqA++ });
    const keyB = () => ({ runId: r.runId, actorId: 'actor-b', incarnation: 'inc-b', seq: seqB++ });
    const send = async (c: RawClient, t: Trial) => {
      c.send(t);
      const ack = await nextOf(c, 'ack');
      expect(ack.key).toEqual(t.key);
      return ack;
    };
    const cases: Array<[string, RawClient, Trial, RegExp]> = [
      // 6: slot integrity
      ["another actor fills A's slot", b, trialFor(lease, keyB(), 11), /not leased to actor-b\/inc-b/],
      [
        'another incarnation of A',
        a,
        trialFor(lease, { ...keyA(), incarnation: 'inc-z', seq: 0 }, 11),
        /not leased to actor-a\/inc-z/,
      ],
      ['a lease id A does not hold', a, trialFor({ ...lease, leaseId: 'L77' }, keyA(), 11), /not leased .* under L77/],
      ['another task seed', a, trialFor({ ...lease, taskSeed: lease.taskSeed + 1 }, keyA(), slot++), /taskSeed/],
      ['another attempts count', a, trialFor({ ...lease, attempts: 2 }, keyA(), slot++), /attempts 2/],
      [
        'an eval result for a round never opened',
        a,
        trialFor({ ...lease, groupId: 'eval-v0-0', mode: 'eval' }, keyA()),
        /not open/,
      ],
      ['a group past admission', a, trialFor({ ...lease, groupId: 'g5' }, keyA()), /g5 is not open/],
      ['a slot outside the group', a, trialFor(lease, keyA(), 40), /outside group g0/],
      // 2: a far group index
      ['a group index far beyond', a, trialFor({ ...lease, groupId: 'g99999999999' }, keyA()), /not open/],
      // 3: records the trainer cannot use
      [
        'a token id at the vocabulary size',
        a,
        trialFor(lease, keyA(), slot++, (rows) => [
          { ...rows[0], response: toTensor(Int32Array.from([VOCAB, 5])) },
          ...rows.slice(1),
        ]),
        /outside the vocabulary/,
      ],
      [
        'a negative token id',
        a,
        trialFor(lease, keyA(), slot++, (rows) => [
          { ...rows[0], prompt: toTensor(Int32Array.from([-1, 5])) },
          ...rows.slice(1),
        ]),
        /outside the vocabulary/,
      ],
      [
        'a response past the context',
        a,
        trialFor(lease, keyA(), slot++, (rows) => [
          row('play', 0, 0, { prompt: Array(60).fill(5), response: Array(10).fill(6) }),
          ...rows.slice(1),
        ]),
        /more than the context of 64/,
      ],
      [
        'an empty prompt',
        a,
        trialFor(lease, keyA(), slot++, (rows) => [row('play', 0, 0, { prompt: [] }), ...rows.slice(1)]),
        /empty prompt/,
      ],
      [
        'a reward of 1.7e308',
        a,
        trialFor(lease, keyA(), slot++, (rows) => [row('play', 0, 0, { reward: 1.7e308 }), ...rows.slice(1)]),
        /reward/,
      ],
      [
        'a reward of -1.7e308',
        a,
        trialFor(lease, keyA(), slot++, (rows) => [row('play', 0, 0, { reward: -1.7e308 }), ...rows.slice(1)]),
        /reward/,
      ],
      [
        'a log-prob of -3e38',
        a,
        trialFor(lease, keyA(), slot++, (rows) => [
          { ...rows[0], behavLogp: toTensor(Float32Array.from([-3e38, -1])) },
          ...rows.slice(1),
        ]),
        /behavLogp/,
      ],
    ];
    for (const [name, c, t, reason] of cases) {
      const ack = await send(c, t);
      expect(ack.status, name).toBe('rejected');
      expect(ack.reason, name).toMatch(reason);
    }
    // Nothing of it reached the ledger, the book did not grow, and the learner still answers.
    const book = r.book;
    expect(book.groups.map((g) => g.groupId)).toEqual(['g0']);
    expect(r.summary().trialsCommitted).toBe(0);
    await alive(a);
    // The forgeries left slot 11 leased to A, whose sound record for it is committed; A's own rejected records
    // re-opened their slots for someone else.
    expect(slot).toBe(9);
    expect(book.groups[0].open).toEqual([...Array(slot).keys()]);
    expect((await send(a, trialFor(lease, keyA(), 11))).status).toBe('committed');
    expect(book.groups[0].slots[11]).not.toBeNull();
    a.ws.close();
    b.ws.close();
  }, 60_000);
});

describe('defect 3: records ledgered before these checks are quarantined, not replayed at every start', () => {
  it('sets unusable records aside with their reason, skips ' +
    'them on restart, and --fresh sets the ledger aside', async () => {
    const dir = tempDir();
    const runId = 'run-q';
    writeFileSync(join(dir, 'run-id'), `${runId}\n`);
    const key = (seq: number) => ({ runId, actorId: 'old-actor', incarnation: 'inc-o', seq });
    const base = {
      leaseId: 'L0',
      groupId: 'g0',
      taskSeed: new TaskBook({ seed: 1, groupSize: 2, attempts: 3, evalTasks: 1, evalAttempts: 3 }).grant(
        'x',
        1,
        0,
        () => 1,
      )[0].taskSeed,
      attempts: 3,
      mode: 'train' as const,
      envId: 'lamer/MineSweeper-v0',
    };
    const ledger = await Ledger.open(join(dir, 'ledger'));
    const badToken = trialFor(base, key(0), 0, (rows) => [
      { ...rows[0], response: toTensor(Int32Array.from([VOCAB + 3, 5])) },
      ...rows.slice(1),
    ]);
    const farGroup = trialFor({ ...base, groupId: 'g200000' }, key(1));
    const good = trialFor(base, key(2), 1);
    for (const t of [badToken, farGroup, good])
      expect((await ledger.append(t.key, encode(t))).status).toBe('committed');
    await ledger.close();

    const lines = () =>
      readFileSync(join(dir, 'quarantine', 'index.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    const r1 = await startRuntime(dir, { learner: { leaseTimeoutSec: 0 } });
    const q = lines();
    expect(q.map((x) => [x.key.seq, x.reason])).toEqual([
      [0, expect.stringMatching(/outside the vocabulary/)],
      [1, expect.stringMatching(/g200000 is beyond/)],
    ]);
    expect(readdirSync(join(dir, 'quarantine')).filter((f) => f.endsWith('.msgpack'))).toHaveLength(2);
    const book1 = r1.book;
    expect(book1.groups.map((g) => g.groupId)).toEqual(['g0']); // no group allocated up to g200000
    expect(book1.groups[0].slots.map((s) => s !== null)).toEqual([false, true]); // the good record fills its slot
    await r1.close();
    runtimes = [];

    const r2 = await startRuntime(dir, { learner: { leaseTimeoutSec: 0 } });
    expect(lines()).toHaveLength(2); // skipped, not quarantined again
    expect(r2.book.groups[0].slots.map((s) => s !== null)).toEqual([false, true]);
    // --fresh never pulls the ledger from under a learner that is using it (checkpoints stay too).
    await expect(startRuntime(dir, { run: { fresh: true } })).rejects.toThrow(/ledger of .* is in use by process/);
    expect(existsSync(join(dir, 'ledger'))).toBe(true);
    await r2.close();
    runtimes = [];

    const r3 = await startRuntime(dir, { learner: { leaseTimeoutSec: 0 }, run: { fresh: true } });
    expect(readdirSync(dir).filter((f) => /^(ledger|quarantine)\.pre-fresh-/.test(f)).length).toBe(2);
    expect(existsSync(join(dir, 'quarantine'))).toBe(false);
    expect(r3.book.groups).toEqual([]);
    expect(r3.runId).toBe(runId); // kept, as documented
  }, 90_000);

  it('a complete group holding an unusable record is not trained: ' +
    'the record is quarantined and its slot re-leased', async () => {
    const dir = tempDir();
    const r = await startRuntime(dir, { learner: { leaseTimeoutSec: 0 } });
    const a = await RawClient.ready(r.url, 'actor-a', { runId: r.runId, incarnation: 'inc-a' });
    a.send({ type: 'leaseRequest', want: 1 });
    const lease = await nextOf(a, 'lease');
    for (const i of [0, 1]) {
      a.send(trialFor(lease, { runId: r.runId, actorId: 'actor-a', incarnation: 'inc-a', seq: i }, i));
      expect(await nextOf(a, 'ack')).toMatchObject({ status: 'committed' });
    }
    const inside = { book: r.book, train: (g: GroupState[]) => r.loop.train(g) };
    const [group] = inside.book.ready('train');
    expect(group.groupId).toBe('g0');
    // A record an older learner let in: a token id past this model's vocabulary.
    const t = r.ingest.trials(group)[1];
    t.rows[0] = { ...t.rows[0], response: toTensor(Int32Array.from([VOCAB + 7, 5])) };
    const offset = group.slots[1]!.offset;
    expect(await inside.train([group])).toBe(false);
    expect(r.policyVersion).toBe(0); // nothing trained
    const q = readFileSync(join(dir, 'quarantine', 'index.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(q).toEqual([
      expect.objectContaining({
        groupId: 'g0',
        trialIndex: 1,
        offset,
        reason: expect.stringMatching(/outside the vocabulary/),
      }),
    ]);
    expect(inside.book.groups[0].slots.map((s) => s !== null)).toEqual([true, false]);
    expect(inside.book.groups[0].open).toEqual([1]);
    expect(inside.book.ready('train')).toEqual([]);
    a.ws.close();
  }, 60_000);

  it('the update refuses groups whose advantages are not finite and trains nothing', async () => {
    let calls = 0;
    const trainer: TrainerApi = {
      score: async () => {
        calls++;
        return new Float32Array();
      },
      ppoStep: async () => {
        calls++;
        return { loss: 0, gradNorm: 0, entropy: 0, clipFrac: 0 };
      },
    };
    const rec = (reward: number): RecordedRow => ({
      phase: 'play',
      episode: 0,
      turn: 0,
      reward,
      valid: true,
      anchor: 'a',
      policyVersion: 0,
      prompt: Int32Array.from([4, 5]),
      response: Int32Array.from([6]),
      behavLogp: Float32Array.from([-1]),
    });
    const groups = [
      {
        groupId: 'ok',
        trials: [
          { trialId: 'ok/0', rows: [rec(1)] },
          { trialId: 'ok/1', rows: [rec(0)] },
        ],
      },
      {
        groupId: 'bad',
        trials: [
          { trialId: 'bad/0', rows: [rec(1.7e308)] },
          { trialId: 'bad/1', rows: [rec(-1.7e308)] },
        ],
      },
    ];
    const res = await runUpdate(trainer, groups, 0, AlgoSchema.parse({}), {
      nCtx: CTX,
      padId: 0,
      seed: 1,
      sampling: { temperature: 1, topP: 1 },
    });
    expect(res.unusable).toEqual([{ group: 1, reason: expect.stringMatching(/non-finite advantage/) }]);
    expect(calls).toBe(0);
  });
});

describe('defect 7: a lease not delivered in time is taken back and leased again', () => {
  it('re-leases an expired slot to another actor and rejects the late delivery', async () => {
    const dir = tempDir();
    const r = await startRuntime(dir, { learner: { leaseTimeoutSec: 0.3 } });
    const a = await RawClient.ready(r.url, 'actor-a', { runId: r.runId, incarnation: 'inc-a' });
    const b = await RawClient.ready(r.url, 'actor-b', { runId: r.runId, incarnation: 'inc-b' });
    a.send({ type: 'leaseRequest', want: 1 });
    const leaseA = await nextOf(a, 'lease');
    expect(leaseA.groupId).toBe('g0');
    // A stays connected and silent. B asks for work until the expired g0 slots come back to it.
    let leaseB: Lease | null = null;
    const t0 = Date.now();
    while (!leaseB && Date.now() - t0 < 15_000) {
      b.send({ type: 'leaseRequest', want: 1 });
      const l = await nextOf(b, 'lease');
      if (l.groupId === 'g0') leaseB = l;
      else await new Promise((res) => setTimeout(res, 100));
    }
    expect(leaseB).toMatchObject({ groupId: 'g0', trialIndices: [0, 1], taskSeed: leaseA.taskSeed });
    expect(leaseB!.leaseId).not.toBe(leaseA.leaseId);
    const late = trialFor(leaseA, { runId: r.runId, actorId: 'actor-a', incarnation: 'inc-a', seq: 0 });
    a.send(late);
    expect(await nextOf(a, 'ack')).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/expired, revoked or never granted/),
    });
    b.send(trialFor(leaseB!, { runId: r.runId, actorId: 'actor-b', incarnation: 'inc-b', seq: 0 }));
    expect(await nextOf(b, 'ack')).toMatchObject({ status: 'committed' });
    a.ws.close();
    b.ws.close();
  }, 60_000);
});

describe("defect 4: a peer that never reads cannot grow the learner's memory", () => {
  it('closes a connection whose outgoing buffer passes its cap; the buffer never goes far past it', async () => {
    const cap = 256 << 10;
    const reply = { type: 'bye', reason: 'x'.repeat(4000) } as const; // a lease-sized answer per request
    let maxBuffered = 0;
    h = await startHarness({
      maxBufferedBytes: cap,
      decodeBudgetMs: 1_000_000,
      heartbeatMs: 60_000,
      onMessage: (m, conn) => {
        if (m.type !== 'leaseRequest') return;
        maxBuffered = Math.max(maxBuffered, conn.bufferedAmount);
        conn.send(reply);
      },
    });
    const bystander = await RawClient.ready(h.server.url, 'bystander');
    const slow = await RawClient.ready(h.server.url, 'slow');
    (slow.ws as unknown as { _socket: Socket })._socket.pause(); // stops reading, keeps writing
    for (let i = 0; i < 20_000; i++) slow.send({ type: 'leaseRequest', want: 1 });
    await until(() => h!.server.metrics().slowReaders === 1, 20_000);
    await until(() => h!.server.connection('slow') === undefined, 10_000);
    expect(maxBuffered).toBeLessThanOrEqual(cap + 8192);
    await alive(bystander);
    bystander.ws.close();
    slow.ws.terminate();
  }, 60_000);
});

describe('defect 5: frames are refused by type and size before they are decoded', () => {
  /** A frame of `type` with a junk field of `n` empty arrays: schema-invalid, costly to unpack. */
  const junk = (type: string, n: number) => plain.pack({ type, junk: Array.from({ length: n }, () => []) });

  it('refuses a large learner-only frame, a non-hello before hello, and oversized small types, unread', async () => {
    // Built before any connection: packing them blocks this process (client and server) for a while.
    const cases: Array<[string, boolean, Uint8Array, RegExp]> = [
      ['learner-only type', true, junk('policy', 200_000), /actors may not send 'policy'/],
      ['a trial before hello', false, junk('trial', 200_000), /expected hello, got 'trial'/],
      [
        'a 256 KiB hello',
        false,
        encode(
          hello('victim', {
            capabilities: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, 'v'.repeat(4000)])),
          }),
        ),
        /'hello' frame of \d+ bytes/,
      ],
      ['a 200 KiB heartbeat', true, junk('heartbeat', 200_000), /'heartbeat' frame of \d+ bytes/],
    ];
    h = await startHarness({ heartbeatMs: 60_000 });
    const bystander = await RawClient.ready(h.server.url, 'bystander');
    for (const [name, handshake, bytes, reason] of cases) {
      const c = handshake
        ? await RawClient.ready(h.server.url, 'victim')
        : await RawClient.open(h.server.url, 'victim');
      c.ws.send(bytes);
      const closed = await c.closed;
      expect(closed.code, name).toBe(CloseCode.POLICY_VIOLATION);
      expect(closed.reason, name).toMatch(reason);
      if (handshake) {
        // A handshaken peer gets the whole reason in an `error` message before the close.
        expect(
          c.messages.find((m) => m.type === 'error'),
          name,
        ).toMatchObject({ type: 'error', code: 'protocol', message: expect.stringMatching(reason) });
      }
    }
    expect(h.server.metrics().schemaErr).toBe(0); // none of them reached validation
    await alive(bystander);
    bystander.ws.close();
  });
});

describe('defect 8: connections that never upgrade are counted and timed out', () => {
  it('counts raw TCP sockets against maxConnections and drops them after upgradeTimeoutMs', async () => {
    h = await startHarness({ maxConnections: 2, upgradeTimeoutMs: 300, heartbeatMs: 60_000 });
    const raw: Socket[] = [];
    const closedAt: number[] = [];
    const t0 = Date.now();
    for (let i = 0; i < 2; i++) {
      const s = connect(h.server.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => closedAt.push(Date.now() - t0));
      await new Promise<void>((res) => s.once('connect', () => res()));
      raw.push(s);
    }
    await expect(RawClient.open(h.server.url, 'actor-1')).rejects.toMatchObject({ status: 503 });
    await until(() => closedAt.length === 2, 5000);
    expect(h.server.metrics().upgradeTimeouts).toBe(2);
    const c = await RawClient.ready(h.server.url, 'actor-1');
    await alive(c);
    c.ws.close();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties

/** Sends `bytes` on a fresh connection (after hello if `handshake`); returns the close code, or 0 if still open. */
async function outcome(url: string, bytes: Uint8Array, handshake: boolean): Promise<number> {
  const c = handshake ? await RawClient.ready(url, 'fuzz') : await RawClient.open(url, 'fuzz');
  c.ws.send(bytes);
  const code = await Promise.race([
    c.closed.then((x) => x.code),
    new Promise<number>((res) => setTimeout(() => res(0), 150)),
  ]);
  if (code === 0) {
    c.ws.terminate();
    await c.closed;
  }
  return code;
}

const TYPES = [
  'hello',
  'welcome',
  'lease',
  'leaseRequest',
  'trial',
  'ack',
  'policy',
  'credit',
  'heartbeat',
  'error',
  'bye',
  'nope',
];
/** msgpack values shaped like messages: a known (or unknown) type with arbitrary fields, nesting and sizes. */
const messageLike = fc
  .record({
    type: fc.constantFrom(...TYPES),
    fields: fc.dictionary(
      fc.string({ maxLength: 12 }),
      fc.anything({ maxDepth: 4, withTypedArray: false, withMap: false, withSet: false, withDate: false }),
    ),
  })
  .map(({ type, fields }) => ({ ...fields, type }));

describe('property: for any frame the server answers with a documented close code and stays up', () => {
  it.each([
    ['arbitrary bytes as the first frame', false, fc.uint8Array({ maxLength: 512 })],
    ['arbitrary bytes after hello', true, fc.uint8Array({ maxLength: 512 })],
    ['message-shaped msgpack as the first frame', false, messageLike.map((m) => plain.pack(m))],
    ['message-shaped msgpack after hello', true, messageLike.map((m) => plain.pack(m))],
  ] as const)(
    '%s',
    async (_name, handshake, frames) => {
      h = await startHarness({ heartbeatMs: 60_000 });
      const bystander = await RawClient.ready(h.server.url, 'bystander');
      await fc.assert(
        fc.asyncProperty(frames as fc.Arbitrary<Uint8Array>, async (bytes) => {
          const code = await outcome(h!.server.url, bytes, handshake);
          expect(code === 0 || DOCUMENTED.has(code), `close code ${code}`).toBe(true);
          expect(code).not.toBe(CloseCode.INTERNAL_ERROR); // peer input is never a learner failure
        }),
        { numRuns: RUNS, seed: 22 },
      );
      await alive(bystander);
      expect(h.server.metrics().internalErr).toBe(0);
      bystander.ws.close();
    },
    120_000,
  );
});

/** What the trainer checks itself when it is given rows: ids in the vocabulary, a context-sized row, finite numbers. */
const strictTrainer = (seen: { steps: number }): TrainerApi => ({
  score: async (tokens, B, T) => {
    expect(T).toBeLessThanOrEqual(CTX);
    for (const id of tokens) expect(id >= 0 && id < VOCAB, `token ${id}`).toBe(true);
    return new Float32Array(B * T).fill(-1);
  },
  ppoStep: async (b) => {
    seen.steps++;
    expect(b.T).toBeLessThanOrEqual(CTX);
    for (const id of b.tokens) expect(id >= 0 && id < VOCAB, `token ${id}`).toBe(true);
    for (const a of [b.advantages, b.proxLogp, b.isWeight])
      for (const v of a) expect(Number.isFinite(v), 'finite').toBe(true);
    return { loss: 0, gradNorm: 0, entropy: 0, clipFrac: 0 };
  },
});

describe('property: every record the learner commits is one the trainer can use', () => {
  const ids = fc.array(fc.integer({ min: -3, max: VOCAB + 3 }), { maxLength: 40 });
  const arbRow = fc.record({
    prompt: ids,
    response: ids,
    reward: fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.double({ min: -20, max: 20, noNaN: true }),
    ),
    logp: fc.oneof(fc.float({ noNaN: true, noDefaultInfinity: true }), fc.float({ min: -20, max: 0, noNaN: true })),
    hasLogp: fc.option(fc.boolean(), { nil: undefined }),
  });

  it('commits only sound records, and an update over them feeds the trainer only valid numbers', async () => {
    h = await startHarness({ heartbeatMs: 60_000, modelShape: () => ({ vocabSize: VOCAB, contextLength: CTX }) });
    h.state.policyVersion = 0;
    const c = await RawClient.ready(h.server.url, 'actor-p');
    let seq = 0;
    const committed: Trial[] = [];
    const lease = {
      leaseId: 'L0',
      groupId: 'g0',
      taskSeed: 1,
      attempts: 1,
      mode: 'train' as const,
      envId: 'lamer/MineSweeper-v0',
    };
    await fc.assert(
      fc.asyncProperty(fc.array(arbRow, { minLength: 1, maxLength: 3 }), async (rows) => {
        const t = trialFor(lease, { runId: RUN, actorId: 'actor-p', incarnation: 'inc-a', seq: seq++ }, 0, () =>
          rows.map((r, i) => {
            const hasLogp = r.hasLogp !== false;
            return {
              ...row('play', 0, i, { prompt: r.prompt, response: r.response, reward: r.reward }),
              behavLogp: toTensor(hasLogp ? Float32Array.from(r.response, () => r.logp) : new Float32Array()),
              ...(r.hasLogp === undefined ? {} : { hasLogp: r.hasLogp }),
            };
          }),
        );
        c.send(t);
        const ack = await nextOf(c, 'ack');
        expect(ack.status === 'committed' || ack.status === 'rejected').toBe(true);
        if (ack.status === 'committed') {
          expect(validateTrial(t, { vocabSize: VOCAB, contextLength: CTX })).toBeNull();
          committed.push(t);
        }
      }),
      { numRuns: RUNS, seed: 22 },
    );
    expect(committed.length).toBeGreaterThan(0);
    // Everything committed, in groups of two, through the real update with a trainer that checks its inputs.
    const recorded = (t: Trial): RecordedRow[] =>
      t.rows.map((r) => ({
        phase: r.phase,
        episode: r.episode,
        turn: r.turn,
        reward: r.reward,
        valid: r.valid,
        anchor: r.anchor,
        policyVersion: r.policyVersion,
        prompt: fromTensor(r.prompt),
        response: fromTensor(r.response),
        behavLogp: fromTensor(r.behavLogp),
      }));
    const groups = [];
    for (let i = 0; i + 1 < committed.length; i += 2) {
      groups.push({
        groupId: `g${i}`,
        trials: [0, 1].map((k) => ({ trialId: `g${i}/${k}`, rows: recorded(committed[i + k]) })),
      });
    }
    const seen = { steps: 0 };
    for (const algo of [{}, { isMode: 'mask' }, { norm: 'mean_std' }]) {
      const res = await runUpdate(strictTrainer(seen), groups, 0, AlgoSchema.parse({ miniBatchRows: 8, ...algo }), {
        nCtx: CTX,
        padId: 0,
        seed: 1,
        sampling: { temperature: 0.7, topP: 1 },
      });
      expect(res.unusable).toEqual([]);
      for (const v of Object.values(res.metrics)) expect(Number.isNaN(v)).toBe(false);
    }
    expect(seen.steps).toBeGreaterThan(0);
    c.ws.close();
  }, 120_000);
});
