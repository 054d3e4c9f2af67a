/**
 * Ingest benchmark: many actor connections stream ~50 KB trial records into one learner with durability on
 * (ledger group commit + fdatasync, ack after commit). The learner runs in this process; the actors run in a
 * child process (real LearnerClients with outboxes) so the two sides do not share an event loop.
 *
 *   node --import tsx scripts/bench/ingest.ts [--connections 32] [--seconds 10] [--size 50000] [--window 8] \
 *     [--client real|raw|ledger]
 *
 * Prints one JSON line: {recordsPerSec, ackP99Ms, ...}. ackP99Ms is measured at the actor: from the moment a
 * record is on the wire (the outbox holds at most one credit window, so it is sent as soon as it is queued)
 * to the moment its ack arrives, i.e. transfer + decode + validation + durable commit + ack.
 * `--client raw` replaces the LearnerClients by minimal senders of pre-encoded frames (only the key's seq is
 * patched per record), so nearly all CPU goes to the learner: that measures the learner's own ingest capacity.
 * `--client ledger` skips sockets altogether: connections x window concurrent `Ledger.append`s of fresh
 * record-sized buffers in this process (the durable write path alone; ackP99Ms is then append -> resolve).
 * `diskMBps` is the directory's sustained write+fdatasync bandwidth measured just before the run (4 MiB
 * writes, 2 s): durable ingest cannot exceed diskMBps / recordBytes records per second.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { PROTOCOL_VERSION } from '../../proto/version.js';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'learner' },
    url: { type: 'string', default: '' },
    connections: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    size: { type: 'string', default: '50000' },
    window: { type: 'string', default: '8' },
    client: { type: 'string', default: 'real' },
  },
});

function intArg(name: 'connections' | 'seconds' | 'size' | 'window', min: number): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`ingest bench: --${name} must be an integer >= ${min}, got '${values[name]}'\n`);
    process.exit(2);
  }
  return n;
}

const connections = intArg('connections', 1);
const seconds = intArg('seconds', 1);
const size = intArg('size', 2000);
const window = intArg('window', 1);
const RUN = 'bench-run';
const clientKind =
  values.client === 'raw' || values.client === 'real' || values.client === 'ledger'
    ? values.client
    : (() => {
        process.stderr.write(`ingest bench: --client must be real, raw or ledger, got '${values.client}'\n`);
        process.exit(2);
      })();
/** Raw senders number their records from here so every seq encodes as msgpack uint32 (patchable in place). */
const RAW_SEQ0 = 65_536;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A schema-valid MineSweeper-shaped trial (3 episodes x 7 turns + 2 reflections) of about `bytes` bytes. */
async function makeBody(bytes: number, seed: number) {
  const { toTensor } = await import('../../proto/messages.js');
  const rowsCount = 3 * 7 + 2;
  const promptLen = Math.max(1, Math.round((bytes / rowsCount - 200) / 4));
  let x = seed >>> 0;
  const rand = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const row = (phase: 'play' | 'reflect', episode: number, turn: number) => ({
    phase,
    episode,
    turn,
    reward: phase === 'play' ? Math.round(rand() * 10) / 10 : 0,
    valid: true,
    anchor: `board-${seed}-${episode}-${turn}`,
    policyVersion: 0,
    prompt: toTensor(Int32Array.from({ length: promptLen }, () => Math.floor(rand() * 64))),
    response: toTensor(Int32Array.from({ length: 6 }, () => Math.floor(rand() * 64))),
    behavLogp: toTensor(Float32Array.from({ length: 6 }, () => -rand() * 4)),
    actionText: 'click 2 3',
  });
  const rows = [];
  for (let e = 0; e < 3; e++) {
    if (e > 0) rows.push(row('reflect', e, 0));
    for (let t = 0; t < 7; t++) rows.push(row('play', e, t));
  }
  return {
    leaseId: `lease-${seed}`,
    groupId: `group-${seed}`,
    trialIndex: seed % 8,
    envId: 'lamer/MineSweeper-v0',
    taskSeed: seed,
    mode: 'train' as const,
    attempts: 3,
    episodesWon: [false, false, false],
    rows,
    stats: { startedAt: Date.now(), finishedAt: Date.now(), envSteps: 21, genTokens: 138 },
  };
}

/**
 * Minimal senders: one pre-encoded trial frame per connection with its key's seq patched per record (seqs start
 * at RAW_SEQ0 so they all encode as uint32). Same wire bytes the learner would get from LearnerClients.
 */
async function runRawClients(): Promise<void> {
  const { default: WebSocket } = await import('ws');
  const { encode, decode } = await import('../../proto/codec.js');
  const { deriveActorToken, loadMasterKey } = await import('../../learner/auth.js');
  const master = loadMasterKey();
  const body = await makeBody(size, 1);
  const latencies: number[] = [];
  let acked = 0;
  let rejected = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let last = start;
  await Promise.all(
    Array.from({ length: connections }, async (_, i) => {
      const actorId = `bench-${i}`;
      const frame = Buffer.from(
        encode({ type: 'trial', key: { runId: RUN, actorId, incarnation: 'raw', seq: RAW_SEQ0 }, ...body }),
      );
      const at = frame.indexOf(Buffer.from([0xa3, 0x73, 0x65, 0x71, 0xce])) + 5; // "seq": uint32
      if (at < 5) throw new Error('seq not found in the template frame');
      const ws = new WebSocket(values.url!, {
        headers: { authorization: `Bearer ${actorId}.${deriveActorToken(master, actorId)}` },
        perMessageDeflate: false,
      });
      const sentAt = new Map<number, number>();
      let next = RAW_SEQ0;
      const send = () => {
        if (performance.now() >= deadline) return;
        frame.writeUInt32BE(next, at);
        sentAt.set(next, performance.now());
        next++;
        ws.send(frame);
      };
      await new Promise<void>((resolve, reject) => {
        ws.once('error', reject);
        ws.once('open', () =>
          ws.send(
            encode({
              type: 'hello',
              protocol: PROTOCOL_VERSION,
              runId: RUN,
              actorId,
              incarnation: 'raw',
              lastPolicyVersion: -1,
              lastLearnerEpoch: -1,
            }),
          ),
        );
        ws.on('message', (data) => {
          const r = decode(data as Buffer);
          if (!r.ok) return reject(new Error(r.reason));
          if (r.msg.type === 'welcome') {
            for (let k = 0; k < window; k++) send();
          } else if (r.msg.type === 'ack') {
            const now = performance.now();
            if (r.msg.status === 'rejected') rejected++;
            else {
              acked++;
              latencies.push(now - sentAt.get(r.msg.key.seq)!);
              last = now;
            }
            sentAt.delete(r.msg.key.seq);
            send();
            if (sentAt.size === 0 && now >= deadline) resolve();
          }
        });
      });
      ws.close();
    }),
  );
  latencies.sort((a, b) => a - b);
  const elapsed = (last - start) / 1000;
  process.stdout.write(
    JSON.stringify({
      acked,
      rejected,
      elapsed,
      recordsPerSec: acked / elapsed,
      ackP50Ms: percentile(latencies, 50),
      ackP99Ms: percentile(latencies, 99),
      ackMaxMs: latencies.at(-1) ?? 0,
    }) + '\n',
  );
}

async function runClients(): Promise<void> {
  const { LearnerClient } = await import('../../actor/learner-client.js');
  const { Outbox } = await import('../../actor/outbox.js');
  const { deriveActorToken, loadMasterKey } = await import('../../learner/auth.js');
  const master = loadMasterKey();
  const bodies = await Promise.all(Array.from({ length: 16 }, (_, i) => makeBody(size, i + 1)));
  const latencies: number[] = [];
  let acked = 0;
  let rejected = 0;
  const clients = await Promise.all(
    Array.from({ length: connections }, async (_, i) => {
      const actorId = `bench-${i}`;
      const c = new LearnerClient({
        url: values.url!,
        actorId,
        token: deriveActorToken(master, actorId),
        runId: RUN,
        outbox: await Outbox.open({ maxEntries: window, maxBytes: 1 << 30 }),
      });
      c.start();
      await c.ready();
      return c;
    }),
  );
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let last = start;
  await Promise.all(
    clients.map(async (c, i) => {
      const inflight = new Set<Promise<unknown>>();
      for (let n = 0; performance.now() < deadline; n++) {
        const receipt = await c.enqueueTrial(bodies[(i + n) % bodies.length]);
        const sentAt = performance.now();
        const p = receipt.acked.then((a) => {
          const now = performance.now();
          if (a.status === 'rejected') rejected++;
          else {
            acked++;
            latencies.push(now - sentAt);
            last = now;
          }
          inflight.delete(p);
        });
        inflight.add(p);
      }
      await Promise.all(inflight);
    }),
  );
  await Promise.all(clients.map((c) => c.close()));
  latencies.sort((a, b) => a - b);
  const elapsed = (last - start) / 1000;
  process.stdout.write(
    JSON.stringify({
      acked,
      rejected,
      elapsed,
      recordsPerSec: acked / elapsed,
      ackP50Ms: percentile(latencies, 50),
      ackP99Ms: percentile(latencies, 99),
      ackMaxMs: latencies.at(-1) ?? 0,
    }) + '\n',
  );
}

/** Sustained append + fdatasync bandwidth of `dir` in MB/s (what durable ingest is bounded by). */
async function diskBandwidth(dir: string, ms = 2000): Promise<number> {
  const path = join(dir, 'disk-probe.bin');
  const fh = await open(path, 'w');
  const chunk = Buffer.alloc(4 << 20, 0x5a);
  let bytes = 0;
  const t0 = performance.now();
  try {
    while (performance.now() - t0 < ms) {
      await fh.write(chunk, 0, chunk.byteLength, bytes);
      await fh.datasync();
      bytes += chunk.byteLength;
    }
  } finally {
    await fh.close();
    rmSync(path, { force: true });
  }
  return bytes / 1e6 / ((performance.now() - t0) / 1000);
}

/** The durable write path alone: `connections * window` appenders of fresh `size`-byte payloads. */
async function runLedgerOnly(): Promise<void> {
  const { Ledger } = await import('../../learner/ledger.js');
  const dir = mkdtempSync(join(tmpdir(), 'lamer-bench-ingest-'));
  const diskMBps = await diskBandwidth(dir);
  const ledger = await Ledger.open(join(dir, 'ledger'));
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let seq = 0;
  await Promise.all(
    Array.from({ length: connections * window }, async () => {
      while (performance.now() < deadline) {
        const s = seq++;
        const payload = Buffer.allocUnsafe(size).fill(s & 0xff); // fresh memory, like a received frame
        const t0 = performance.now();
        await ledger.append({ runId: RUN, actorId: 'bench', incarnation: 'ledger', seq: s }, payload);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const st = ledger.stats();
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  process.stdout.write(
    JSON.stringify({
      bench: 'ingest',
      client: 'ledger',
      recordsPerSec: Math.round(st.entries / elapsed),
      ackP99Ms: +percentile(latencies, 99).toFixed(1),
      ackP50Ms: +percentile(latencies, 50).toFixed(1),
      records: st.entries,
      appenders: connections * window,
      recordBytes: size,
      seconds: +elapsed.toFixed(2),
      mbPerSec: +(st.offset / 1e6 / elapsed).toFixed(1),
      diskMBps: Math.round(diskMBps),
      durable: true,
      fsyncs: st.fsyncs,
      writeMs: Math.round(st.writeMs),
      syncMs: Math.round(st.syncMs),
      avgBatch: +(st.entries / Math.max(1, st.batches)).toFixed(1),
    }) + '\n',
  );
}

async function runLearner(): Promise<void> {
  const { Ledger } = await import('../../learner/ledger.js');
  const { createLearnerServer } = await import('../../learner/server.js');
  const { createAuthenticator, generateMasterKey } = await import('../../learner/auth.js');
  const { encode } = await import('../../proto/codec.js');
  const master = generateMasterKey();
  const dir = mkdtempSync(join(tmpdir(), 'lamer-bench-ingest-'));
  const diskMBps = await diskBandwidth(dir);
  // Raw senders start their seqs at RAW_SEQ0: let the ledger accept that gap.
  const ledger = await Ledger.open(join(dir, 'ledger'), { maxSeqAhead: RAW_SEQ0 + (1 << 20) });
  const server = await createLearnerServer({
    runId: RUN,
    auth: createAuthenticator(master),
    ledger,
    creditWindow: window,
    maxConnections: connections + 16,
    maxPayload: 4 << 20,
    heartbeatMs: 5000,
    policyState: () => ({ learnerEpoch: 0, policyVersion: 0 }),
  });
  const recordBytes = encode({
    type: 'trial',
    key: { runId: RUN, actorId: 'bench-0', incarnation: 'x', seq: 0 },
    ...(await makeBody(size, 1)),
  }).byteLength;
  // Profiling flags given to this process (--cpu-prof...) apply to the actor process too.
  const profFlags = process.execArgv.filter((a) => a.startsWith('--cpu-prof'));
  const child = spawn(
    process.execPath,
    [
      ...profFlags,
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--role',
      'clients',
      '--url',
      server.url,
      '--connections',
      String(connections),
      '--seconds',
      String(seconds),
      '--size',
      String(size),
      '--window',
      String(window),
      '--client',
      clientKind,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LAMER_MASTER_KEY: master } },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const m = server.metrics();
  const st = ledger.stats();
  await server.close();
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`bench clients exited with ${code}`);
  const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
  process.stdout.write(
    JSON.stringify({
      bench: 'ingest',
      recordsPerSec: Math.round(r.recordsPerSec),
      ackP99Ms: +r.ackP99Ms.toFixed(1),
      ackP50Ms: +r.ackP50Ms.toFixed(1),
      ackMaxMs: +r.ackMaxMs.toFixed(1),
      client: clientKind,
      records: r.acked,
      rejected: r.rejected,
      connections,
      creditWindow: window,
      recordBytes,
      seconds: +r.elapsed.toFixed(2),
      mbPerSec: +((r.recordsPerSec * recordBytes) / 1e6).toFixed(1),
      diskMBps: Math.round(diskMBps),
      durable: true,
      fsyncs: st.fsyncs,
      writeMs: Math.round(st.writeMs),
      syncMs: Math.round(st.syncMs),
      avgBatch: +(st.entries / Math.max(1, st.batches)).toFixed(1),
      maxBatch: st.maxBatch,
      committed: m.trialsCommitted,
      decodeErr: m.decodeErr,
      schemaErr: m.schemaErr,
      internalErr: m.internalErr,
    }) + '\n',
  );
}

(values.role === 'clients'
  ? clientKind === 'raw'
    ? runRawClients()
    : runClients()
  : clientKind === 'ledger'
    ? runLedgerOnly()
    : runLearner()
).catch((e: unknown) => {
  process.stderr.write(`ingest bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
