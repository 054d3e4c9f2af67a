/** Valid sample messages for tests (deterministic given a seed). */
import { toTensor, type Message, type Row, type Trial, type TrialBody, type TrialKey } from '../../proto/messages.js';

/** Small deterministic PRNG (mulberry32) so samples do not depend on Math.random. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sampleRow(
  r: () => number,
  phase: Row['phase'],
  episode: number,
  turn: number,
  promptLen = 24,
  respLen = 4,
): Row {
  const prompt = Int32Array.from({ length: promptLen }, () => Math.floor(r() * 64));
  const response = Int32Array.from({ length: respLen }, () => Math.floor(r() * 64));
  const logp = Float32Array.from({ length: respLen }, () => -r() * 5);
  return {
    phase,
    episode,
    turn,
    reward: phase === 'play' ? Math.round(r() * 10) / 10 : 0,
    valid: r() > 0.1,
    anchor: `board ${episode}/${turn}`,
    policyVersion: 3,
    prompt: toTensor(prompt),
    response: toTensor(response),
    behavLogp: toTensor(logp),
    actionText: 'click 1 2',
  };
}

/**
 * A structurally valid trial body: `episodes` played episodes of `turns` turns each with reflections in between;
 * the last episode is won iff `won`. `promptLen` scales the record size (~8 bytes per prompt token per row).
 */
export function sampleTrialBody(
  seed = 1,
  opts: { episodes?: number; attempts?: number; turns?: number; won?: boolean; promptLen?: number } = {},
): TrialBody {
  const r = rng(seed);
  const episodes = opts.episodes ?? 3;
  const attempts = opts.attempts ?? 3;
  const turns = opts.turns ?? 3;
  const won = opts.won ?? false;
  const rows: Row[] = [];
  for (let e = 0; e < episodes; e++) {
    if (e > 0) rows.push(sampleRow(r, 'reflect', e, 0, opts.promptLen));
    for (let t = 0; t < turns; t++) rows.push(sampleRow(r, 'play', e, t, opts.promptLen));
  }
  return {
    leaseId: `lease-${seed}`,
    groupId: `group-${seed}`,
    trialIndex: seed % 8,
    envId: 'lamer/MineSweeper-v0',
    taskSeed: seed,
    mode: 'train',
    attempts,
    episodesWon: Array.from({ length: episodes }, (_, i) => won && i === episodes - 1),
    rows,
    stats: { startedAt: 1_700_000_000_000, finishedAt: 1_700_000_000_500, envSteps: episodes * turns, genTokens: 40 },
  };
}

export function sampleKey(seq = 0, over: Partial<TrialKey> = {}): TrialKey {
  return { runId: 'run-1', actorId: 'actor-1', incarnation: 'inc-a', seq, ...over };
}

export function sampleTrial(seed = 1, key: TrialKey = sampleKey(seed)): Trial {
  return { type: 'trial', key, ...sampleTrialBody(seed) };
}

/** One valid instance of every message type. */
export function sampleMessages(): Message[] {
  const weights = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i));
  return [
    {
      type: 'hello',
      protocol: 1,
      runId: 'run-1',
      actorId: 'actor-1',
      incarnation: 'inc-a',
      lastPolicyVersion: -1,
      lastLearnerEpoch: -1,
    },
    {
      type: 'hello',
      protocol: 1,
      runId: 'run-1',
      actorId: 'actor-1',
      incarnation: 'inc-a',
      lastPolicyVersion: 4,
      lastLearnerEpoch: 2,
      capabilities: { threads: 2, backend: 'onnx', gpu: false },
    },
    {
      type: 'welcome',
      learnerEpoch: 2,
      policyVersion: 7,
      heartbeatMs: 2000,
      maxPayload: 8 << 20,
      creditWindow: 32,
      committed: [{ incarnation: 'inc-a', upTo: 4, seqs: [6, 9] }],
    },
    {
      type: 'lease',
      leaseId: 'l-1',
      groupId: 'g-1',
      envId: 'lamer/MineSweeper-v0',
      taskSeed: 123456789,
      groupSize: 8,
      attempts: 3,
      mode: 'train',
      memory: 'reflection',
      trialIndices: [0, 1, 2, 3, 4, 5, 6, 7],
      policyVersionAtLease: 7,
      envOptions: { size: 6, mines: 3, nested: { list: [1, 'a', null, true] } },
      trial: {
        template: 'compact',
        maxTurns: 7,
        reflect: true,
        temperature: 1,
        topP: 1,
        maxActionTokens: 8,
        maxReflectTokens: 12,
        cohort: 'v3',
        cohortSize: 2,
      },
    },
    { type: 'leaseRequest', want: 2 },
    sampleTrial(1),
    { ...sampleTrial(2), key: sampleKey(2, { seq: 2 ** 40 }) },
    { type: 'ack', key: sampleKey(3), status: 'committed' },
    { type: 'ack', key: sampleKey(4), status: 'rejected', reason: 'conflict' },
    {
      type: 'policy',
      policyVersion: 8,
      learnerEpoch: 2,
      config: { nCtx: 256, dModel: 64 },
      weights: toTensor(weights, [8, 8]),
      sha256: 'a'.repeat(64),
    },
    { type: 'credit', n: 0 },
    { type: 'heartbeat', t: 12345.678 },
    { type: 'error', code: 'RL_ERR_INTERNAL', message: 'boom' },
    { type: 'bye', reason: 'shutdown' },
  ];
}
