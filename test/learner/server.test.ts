import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Packr } from 'msgpackr';
import { LearnerClient } from '../../actor/learner-client.js';
import { Outbox } from '../../actor/outbox.js';
import { PolicyPublisher } from '../../learner/publisher.js';
import { CloseCode } from '../../proto/wire.js';
import { encode } from '../../proto/codec.js';
import { toTensor, type Trial } from '../../proto/messages.js';
import { sampleKey, sampleTrial, sampleTrialBody } from '../proto/samples.js';
import { RUN, RawClient, hello, maskedFrame, startHarness, token, until, type Harness } from './harness.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

const plain = new Packr({ useRecords: false });
const trialFor = (actorId: string, seq: number, seed = seq + 1): Trial =>
  sampleTrial(seed, sampleKey(seq, { runId: RUN, actorId, incarnation: 'inc-a' }));

describe('upgrade: authentication and admission happen before any WebSocket exists', () => {
  it('answers 401 for a missing, malformed or wrong token and 403 for a browser Origin', async () => {
    h = await startHarness();
    const cases: Array<[string | undefined, number]> = [
      ['', 401],
      ['Bearer nonsense', 401],
      [`Bearer actor-2.${token('actor-1')}`, 401], // a leaked token cannot impersonate another actor
      [`Bearer actor-1.${'0'.repeat(64)}`, 401],
    ];
    for (const [auth, status] of cases) {
      await expect(RawClient.open(h.server.url, 'actor-1', { auth })).rejects.toMatchObject({ status });
    }
    await expect(RawClient.open(h.server.url, 'actor-1', { origin: 'https://evil.example' })).rejects.toMatchObject({
      status: 403,
    });
    const m = h.server.metrics();
    expect(m.authFailures).toBe(4);
    expect(m.originRejected).toBe(1);
    expect(m.connectionsOpened).toBe(0);
  });

  it('answers 503 over the connection limit and 426 to plain HTTP', async () => {
    h = await startHarness({ maxConnections: 2 });
    const a = await RawClient.ready(h.server.url, 'actor-a');
    const b = await RawClient.ready(h.server.url, 'actor-b');
    await expect(RawClient.open(h.server.url, 'actor-c')).rejects.toMatchObject({ status: 503 });
    // Every TCP connection counts, not only upgraded ones: a plain HTTP request is over the limit too.
    expect((await fetch(h.server.url.replace('ws://', 'http://'))).status).toBe(503);
    expect(h.server.metrics().overLimit).toBe(2);
    a.ws.close();
    await a.closed;
    await until(() => h!.server.metrics().connectionsLive === 1);
    const c = await RawClient.ready(h.server.url, 'actor-c');
    expect(
      h.server
        .connections()
        .map((x) => x.actorId)
        .sort(),
    ).toEqual(['actor-b', 'actor-c']);
    b.ws.close();
    c.ws.close();
    await until(() => h!.server.metrics().connectionsLive === 0);
    expect((await fetch(h.server.url.replace('ws://', 'http://'))).status).toBe(426);
  });
});

describe('handshake', () => {
  it('welcomes with the learner state and what the ledger already holds for this actor', async () => {
    h = await startHarness({ creditWindow: 7, heartbeatMs: 1234, maxPayload: 1 << 20 });
    await h.ledger.append(sampleKey(0, { actorId: 'actor-1' }), Buffer.from('x'));
    await h.ledger.append(sampleKey(2, { actorId: 'actor-1' }), Buffer.from('y'));
    const c = await RawClient.open(h.server.url, 'actor-1');
    c.send(hello('actor-1'));
    expect(await c.next()).toEqual({
      type: 'welcome',
      learnerEpoch: 1,
      policyVersion: 3,
      heartbeatMs: 1234,
      maxPayload: 1 << 20,
      creditWindow: 7,
      committed: [{ incarnation: 'inc-a', upTo: 0, seqs: [2] }],
    });
    const conn = h.server.connection('actor-1')!;
    expect(conn.incarnation).toBe('inc-a');
    expect(conn.initialPolicy).toEqual({ learnerEpoch: -1, policyVersion: -1 });
    c.send({ type: 'heartbeat', t: 42 });
    expect(await c.next()).toEqual({ type: 'heartbeat', t: 42 });
    c.ws.close();
  });

  it.each([
    ['wrong runId', hello('actor-1', { runId: 'other-run' }), CloseCode.WRONG_RUN],
    ['protocol mismatch', hello('actor-1', { protocol: 99 }), CloseCode.PROTOCOL_MISMATCH],
    ['actorId differing from the token', hello('actor-2'), CloseCode.POLICY_VIOLATION],
  ])('closes a hello with %s', async (_name, msg, code) => {
    h = await startHarness();
    const c = await RawClient.open(h.server.url, 'actor-1');
    c.send(msg);
    expect((await c.closed).code).toBe(code);
  });

  it('closes with 1008 when no hello arrives in time', async () => {
    h = await startHarness({ helloTimeoutMs: 100 });
    const c = await RawClient.open(h.server.url, 'actor-1');
    const t0 = Date.now();
    expect(await c.closed).toMatchObject({ code: CloseCode.POLICY_VIOLATION, reason: 'no hello in time' });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(h.server.metrics().helloTimeouts).toBe(1);
  });

  it('fences: a newer incarnation closes the old socket with 4003, and the old incarnation stays out', async () => {
    h = await startHarness();
    const closedOld: number[] = [];
    const old = await RawClient.ready(h.server.url, 'actor-1', { incarnation: 'inc-a' });
    const fresh = await RawClient.ready(h.server.url, 'actor-1', { incarnation: 'inc-b' });
    closedOld.push((await old.closed).code);
    expect(closedOld).toEqual([CloseCode.SUPERSEDED]);
    expect(h.server.connection('actor-1')?.incarnation).toBe('inc-b');
    // The zombie reconnects: refused with 4003, the live one is untouched.
    const zombie = await RawClient.open(h.server.url, 'actor-1');
    zombie.send(hello('actor-1', { incarnation: 'inc-a' }));
    expect((await zombie.closed).code).toBe(CloseCode.SUPERSEDED);
    expect(h.server.connection('actor-1')?.incarnation).toBe('inc-b');
    fresh.send({ type: 'heartbeat', t: 1 });
    expect((await fresh.next()).type).toBe('heartbeat');
    expect(h.server.metrics()).toMatchObject({ superseded: 1, fencedHellos: 1 });
    fresh.ws.close();
  });
});

describe('protocol violations get their documented close code; other connections keep working', () => {
  it('text, undecodable, schema, out-of-order, wrong-direction, nesting, bad frames, oversize, credit', async () => {
    h = await startHarness({ maxPayload: 16_384, creditWindow: 2 });
    const bystander = await RawClient.ready(h.server.url, 'bystander');
    const cases: Array<[string, (c: RawClient) => void, number, boolean]> = [
      ['text frame', (c) => c.ws.send('hello?'), CloseCode.UNSUPPORTED_DATA, true],
      [
        'truncated msgpack',
        (c) => c.ws.send(encode({ type: 'heartbeat', t: 1 }).subarray(0, 5)),
        CloseCode.INVALID_PAYLOAD,
        true,
      ],
      ['extension type', (c) => c.ws.send(Buffer.from([0xd6, 0x65, 1, 2, 3, 4])), CloseCode.INVALID_PAYLOAD, true],
      ['deep nesting', (c) => c.ws.send(Buffer.alloc(3000, 0x91)), CloseCode.INVALID_PAYLOAD, true],
      [
        'schema violation',
        (c) => c.ws.send(plain.pack({ type: 'heartbeat', t: 'not a number' })),
        CloseCode.POLICY_VIOLATION,
        true,
      ],
      [
        'unknown field',
        (c) =>
          c.ws.send(Buffer.from([0x82, 0xa4, ...Buffer.from('type'), 0xa3, ...Buffer.from('bye'), 0xa1, 0x78, 0x01])),
        CloseCode.POLICY_VIOLATION,
        true,
      ],
      ['message before hello', (c) => c.send(trialFor('x', 0)), CloseCode.POLICY_VIOLATION, false],
      ['learner-only message type', (c) => c.send({ type: 'credit', n: 3 }), CloseCode.POLICY_VIOLATION, true],
      ['second hello', (c) => c.send(hello('victim')), CloseCode.POLICY_VIOLATION, true],
      ['RSV2 bit set', (c) => c.writeRaw(maskedFrame(0xa2, Buffer.from([0x90]))), CloseCode.PROTOCOL_ERROR, true],
      ['unmasked frame', (c) => c.writeRaw(Buffer.from([0x82, 0x01, 0x90])), CloseCode.PROTOCOL_ERROR, true],
      ['invalid opcode', (c) => c.writeRaw(maskedFrame(0x83, Buffer.from([0x90]))), CloseCode.PROTOCOL_ERROR, true],
      ['frame over maxPayload', (c) => c.ws.send(Buffer.alloc(20_000)), CloseCode.MESSAGE_TOO_BIG, true],
    ];
    for (const [name, act, code, handshake] of cases) {
      const c = handshake
        ? await RawClient.ready(h.server.url, 'victim')
        : await RawClient.open(h.server.url, 'victim');
      act(c);
      const closed = await c.closed;
      expect(closed.code, name).toBe(code);
      // The learner keeps serving the bystander.
      bystander.send({ type: 'heartbeat', t: cases.indexOf(cases.find((x) => x[0] === name)!) });
      expect((await bystander.next()).type, `bystander after ${name}`).toBe('heartbeat');
    }
    // Credit: a third unacked trial beyond a window of 2 is a violation. The ledger is slower than 3 sends.
    const greedy = await RawClient.ready(h.server.url, 'greedy');
    for (let i = 0; i < 40; i++) greedy.send(trialFor('greedy', i));
    expect((await greedy.closed).code).toBe(CloseCode.POLICY_VIOLATION);
    const m = h.server.metrics();
    expect(m).toMatchObject({ textFrames: 1, decodeErr: 3, schemaErr: 2, creditViolations: 1 });
    expect(m.protocolErr).toBeGreaterThanOrEqual(3);
    expect(m.wsErrors).toBeGreaterThanOrEqual(4);
    const t = trialFor('bystander', 0);
    bystander.send(t);
    expect(await bystander.next()).toEqual({ type: 'ack', key: t.key, status: 'committed' });
    bystander.ws.close();
  });
});

describe('decode budget', () => {
  it('closes a connection that spends more decode time than its budget; others are unaffected', async () => {
    // 25 ms/s: far above what the bystander needs even on a loaded machine, far below what the hog uses.
    // Heartbeats slow: the 200,000 sends block this process's event loop (client and server share it) for seconds,
    // and a bystander that cannot answer pings meanwhile would be cut off for silence, which is not under test here.
    h = await startHarness({ decodeBudgetMs: 25, heartbeatMs: 60_000 });
    const bystander = await RawClient.ready(h.server.url, 'bystander');
    const hog = await RawClient.ready(h.server.url, 'hog');
    const frame = encode({ type: 'heartbeat', t: 1 }); // microseconds each; 200,000 of them exceed 25 ms
    for (let i = 0; i < 200_000; i++) hog.ws.send(frame);
    expect(await hog.closed).toMatchObject({ code: CloseCode.POLICY_VIOLATION, reason: 'decode budget exceeded' });
    expect(h.server.metrics().decodeBudgetExceeded).toBe(1);
    bystander.send({ type: 'heartbeat', t: 1 });
    expect((await bystander.next()).type).toBe('heartbeat');
    bystander.ws.close();
  });
});

describe('heartbeats', () => {
  it('terminates a peer that stops reading within 3 intervals, and keeps a responsive one', async () => {
    h = await startHarness({ heartbeatMs: 100 });
    const frozen = await RawClient.ready(h.server.url, 'frozen');
    const alive = await RawClient.ready(h.server.url, 'alive');
    // SIGSTOP-like: the frozen client stops reading its socket, so it never answers pings.
    (frozen.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const t0 = Date.now();
    await until(() => h!.server.connection('frozen') === undefined, 3000);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 700));
    expect(h.server.connection('alive')).toBeDefined();
    expect(h.server.metrics().heartbeatTimeouts).toBe(1);
    alive.ws.close();
    frozen.ws.terminate();
  });
});

describe('trial ingest: ack after commit, exactly once', () => {
  it('commits, answers duplicates and conflicts, and rejects bad records without closing', async () => {
    const committed: string[] = [];
    const rejected: number[] = [];
    h = await startHarness({
      onTrialCommitted: (t, info) => committed.push(`${t.key.seq}@${info.offset}`),
      onTrialRejected: (t, _reason, conn) => rejected.push(conn.actorId === 'actor-1' ? t.key.seq : -1),
    });
    const c = await RawClient.ready(h.server.url, 'actor-1');
    const t0 = trialFor('actor-1', 0);
    c.send(t0);
    expect(await c.next()).toEqual({ type: 'ack', key: t0.key, status: 'committed' });
    expect(h.ledger.status(t0.key)).toBe('committed');
    c.send(t0);
    expect(await c.next()).toEqual({ type: 'ack', key: t0.key, status: 'duplicate' });
    c.send({ ...t0, taskSeed: 999 });
    expect(await c.next()).toMatchObject({
      type: 'ack',
      status: 'rejected',
      reason: expect.stringMatching(/conflict/),
    });
    const bad: Array<[Trial, RegExp]> = [
      [{ ...trialFor('actor-1', 1), key: sampleKey(1, { runId: 'old-run', actorId: 'actor-1' }) }, /not this run/],
      [
        { ...trialFor('actor-1', 2), key: sampleKey(2, { actorId: 'someone-else' }) },
        /does not match the authenticated actor/,
      ],
      [{ ...trialFor('actor-1', 3), episodesWon: [true, true, false] }, /was won but the trial continued/],
      [
        { ...trialFor('actor-1', 4), rows: trialFor('actor-1', 4).rows.map((r) => ({ ...r, policyVersion: 9 })) },
        /newer than the learner's 3/,
      ],
      [{ ...trialFor('actor-1', 5), sha256: 'f'.repeat(64) }, /sha256 does not match/],
      [
        {
          ...trialFor('actor-1', 6),
          rows: [{ ...trialFor('actor-1', 6).rows[0], behavLogp: toTensor(new Float32Array([-1])) }],
        },
        /behavLogp/,
      ],
    ];
    for (const [trial, reason] of bad) {
      c.send(trial);
      expect(await c.next()).toMatchObject({ type: 'ack', status: 'rejected', reason: expect.stringMatching(reason) });
    }
    expect(committed).toEqual(['0@0']);
    // Content rejections are reported (their slots go back to the pool); another run's or actor's record is not.
    expect(rejected).toEqual([3, 4, 5, 6]);
    expect(h.ledger.size).toBe(1);
    expect(h.server.metrics()).toMatchObject({ trialsCommitted: 1, dupSuppressed: 1, conflicts: 1, rejected: 6 });
    c.ws.close();
  });

  it('applies the checkTrial hook and passes leaseRequest/bye to onMessage', async () => {
    const seen: string[] = [];
    h = await startHarness({
      checkTrial: (t) => (t.leaseId === 'lease-unknown' ? 'unknown lease' : null),
      onMessage: (m, conn) => seen.push(`${conn.actorId}:${m.type}`),
    });
    const c = await RawClient.ready(h.server.url, 'actor-1');
    c.send({ ...trialFor('actor-1', 0), leaseId: 'lease-unknown' });
    expect(await c.next()).toMatchObject({ status: 'rejected', reason: 'unknown lease' });
    c.send({ type: 'leaseRequest', want: 2 });
    c.send({ type: 'bye', reason: 'done' });
    expect((await c.closed).code).toBe(CloseCode.NORMAL);
    expect(seen).toEqual(['actor-1:leaseRequest', 'actor-1:bye']);
  });

  it('closes with 1011 and acks nothing when the ledger cannot commit', async () => {
    h = await startHarness();
    const c = await RawClient.ready(h.server.url, 'actor-1');
    await (h.ledger as unknown as { writeHandle: { close(): Promise<void> } }).writeHandle.close();
    c.send(trialFor('actor-1', 0));
    expect((await c.closed).code).toBe(CloseCode.INTERNAL_ERROR);
    expect(c.messages.filter((m) => m.type === 'ack')).toEqual([]);
    expect(h.server.metrics().internalErr).toBe(1);
  });

  it('send reaches one actor, published weights reach every ready one, close() closes all with 1001', async () => {
    h = await startHarness({ creditWindow: 4 });
    const a = await RawClient.ready(h.server.url, 'actor-a');
    const b = await RawClient.ready(h.server.url, 'actor-b');
    const waiting = await RawClient.open(h.server.url, 'actor-c'); // no hello yet: not a peer for anything
    expect(h.server.send('actor-a', { type: 'bye', reason: 'direct' })).toBe(true);
    expect(h.server.send('nobody', { type: 'bye', reason: 'x' })).toBe(false);
    expect(h.server.send('actor-c', { type: 'bye', reason: 'x' })).toBe(false);
    expect(await a.next()).toEqual({ type: 'bye', reason: 'direct' });
    expect(h.server.send('actor-b', { type: 'credit', n: 2 })).toBe(true);
    expect(await b.next()).toEqual({ type: 'credit', n: 2 });
    // Weights go out through the real fan-out: the publisher over the server's ready connections.
    const pub = new PolicyPublisher({ peers: () => h!.server.connections() });
    try {
      pub.publish({ policyVersion: 4, learnerEpoch: 1, config: {}, weights: toTensor(new Float32Array([1, 2, 3])) });
      for (const c of [a, b]) expect(await c.next()).toMatchObject({ type: 'policy', policyVersion: 4 });
      expect(pub.stats().sent).toBe(2);
    } finally {
      pub.close();
    }
    expect(waiting.messages).toEqual([]);
    await h.server.close();
    expect((await a.closed).code).toBe(CloseCode.GOING_AWAY);
    expect((await b.closed).code).toBe(CloseCode.GOING_AWAY);
    expect((await waiting.closed).code).toBe(CloseCode.GOING_AWAY);
  });

  it('keeps serving others while an upgrade request hangs half-sent (slowloris)', async () => {
    h = await startHarness();
    const port = h.server.port;
    const sock = connect(port, '127.0.0.1');
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write('GET / HTTP/1.1\r\nHost: x\r\n');
    // The server still serves everyone else meanwhile.
    const c = await RawClient.ready(h.server.url, 'actor-1');
    c.ws.close();
    sock.destroy();
  });
});

describe('TLS (wss) with a pinned CA made by openssl at test time', () => {
  it('connects with the pinned CA and refuses an unknown CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamer-tls-'));
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    try {
      run([
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '1',
        '-subj',
        '/CN=lamer-test-ca',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign',
      ]);
      run([
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        'srv.key',
        '-out',
        'srv.csr',
        '-subj',
        '/CN=localhost',
      ]);
      writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      run([
        'x509',
        '-req',
        '-in',
        'srv.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'srv.pem',
        '-days',
        '1',
        '-extfile',
        'ext.cnf',
      ]);
      const ca = readFileSync(join(dir, 'ca.pem'));
      // A short upgrade deadline: an upgraded TLS connection must be released from it (it outlives the deadline below).
      h = await startHarness({
        tls: { key: readFileSync(join(dir, 'srv.key')), cert: readFileSync(join(dir, 'srv.pem')) },
        upgradeTimeoutMs: 300,
      });
      expect(h.server.url).toMatch(/^wss:\/\//);
      const c = await RawClient.open(h.server.url, 'actor-1', { ca });
      c.send(hello('actor-1'));
      expect((await c.next()).type).toBe('welcome');
      expect((c.ws as unknown as { _socket: { getProtocol(): string } })._socket.getProtocol()).toBe('TLSv1.3');
      await new Promise((r) => setTimeout(r, 600));
      c.send({ type: 'heartbeat', t: 7 });
      expect(await c.next()).toEqual({ type: 'heartbeat', t: 7 });
      expect(h.server.metrics().upgradeTimeouts).toBe(0);
      c.ws.close();
      await expect(RawClient.open(h.server.url, 'actor-1')).rejects.toThrow(
        /self[- ]signed|unable to verify|UNABLE_TO_GET_ISSUER/i,
      );
      // Plain ws:// against the TLS port never gets a WebSocket either.
      const plain = new WebSocket(h.server.url.replace('wss://', 'ws://'), {
        headers: { authorization: `Bearer actor-1.${token('actor-1')}` },
      });
      await expect(
        new Promise((resolve, reject) => {
          plain.once('open', resolve);
          plain.once('error', reject);
        }),
      ).rejects.toThrow();
      expect(h.server.metrics().connectionsOpened).toBe(1);
      // The actor's client pins the same CA and delivers a trial over wss.
      const client = new LearnerClient({
        url: h.server.url,
        actorId: 'actor-9',
        token: token('actor-9'),
        runId: RUN,
        outbox: await Outbox.open({}),
        tls: { ca },
      });
      client.start();
      expect((await client.sendTrial(sampleTrialBody(3))).status).toBe('committed');
      await client.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
