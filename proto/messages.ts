/**
 * The wire contract between actors and the learner: every message is a `z.strictObject` with a `type`
 * literal (unknown keys, including msgpackr's renamed `__proto_`, fail), gathered in discriminated unions per
 * direction. Bulk numbers travel as {@link Tensor}s (raw little-endian bytes + dtype + shape), never as arrays
 * of JS numbers: 2x smaller, ~700x faster to decode, and a much smaller amplification surface (docs/design.md §8.2).
 *
 * Semantic checks that need more than one field (rows in order, lengths agree) live in {@link validateTrial},
 * separate from the schema, so a schema failure (a broken peer: close 1008) and a bad record (ack `rejected`)
 * stay distinguishable.
 */
import { z } from 'zod';

/** Hard caps that bound what one decoded message can allocate beyond its bytes. */
export const LIMITS = {
  idChars: 128,
  textChars: 4096,
  rows: 16_384,
  attempts: 1024,
  groupSize: 4096,
  tensorRank: 8,
  committedStreams: 1024,
  committedSeqs: 65_536,
  jsonArray: 1024,
  jsonKeys: 256,
  /** Containers nested in one message (a trial needs 5; room for nested env options and model config). */
  nesting: 32,
  /**
   * msgpack values in one frame: a trial row takes ~40, so a trial of `rows` rows fits; it caps the unpacking work
   * of one frame of tiny values (1 MiB of empty arrays costs ~200 ms to decode and validate, server.ts).
   */
  frameValues: 1 << 20,
  /** Bytes of any frame an actor sends except a trial (hello with capabilities is < 4 KiB). */
  smallFrameBytes: 64 << 10,
  /** |reward| of one row: keeps every return and advantage sum finite in float32 (a trial has <= 16,384 rows). */
  rewardAbs: 1e6,
  /** Lowest behaviour log-prob: a sampled token with probability below e^-1000 does not exist in float32. */
  logpMin: -1000,
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Scalars and identifiers

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);
/** Run, lease and group ids: printable, no '/' (keys are joined with '/'), bounded. */
export const IdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'id must match [A-Za-z0-9][A-Za-z0-9_.:-]{0,127}');
/** Actor ids also name files and appear in `Authorization: Bearer <actorId>.<token>`. */
export const ActorIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'actorId must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}');
/** Random per actor process start; names outbox files, so filename-safe. */
export const IncarnationSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'incarnation must match [A-Za-z0-9_-]{1,64}');
const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex characters');
const Text = z.string().max(LIMITS.textChars);
const Mode = z.enum(['train', 'eval']);

/** JSON-like values (config, env options): no Dates, typed arrays or other exotic decodes. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export const JsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([Text, z.number(), z.boolean(), z.null(), z.array(JsonValueSchema).max(LIMITS.jsonArray), JsonRecordSchema]),
);
const JsonRecordSchema: z.ZodType<{ [key: string]: JsonValue }> = z.lazy(() =>
  z
    .record(z.string().max(LIMITS.idChars), JsonValueSchema)
    .refine((r) => Object.keys(r).length <= LIMITS.jsonKeys, `at most ${LIMITS.jsonKeys} keys`),
);

// ---------------------------------------------------------------------------------------------------------------
// Tensors

export const DTYPE_BYTES = { float32: 4, int32: 4, uint8: 1 } as const;
export type DType = keyof typeof DTYPE_BYTES;
const DTypeSchema = z.enum(['float32', 'int32', 'uint8']);

/** Raw tensor on the wire: little-endian bytes, `data.byteLength == product(shape) * itemsize`. */
export interface Tensor<D extends DType = DType> {
  dtype: D;
  shape: number[];
  data: Uint8Array;
}

function tensorBytesMatch(t: { dtype: DType; shape: readonly number[]; data: Uint8Array }): boolean {
  let n = DTYPE_BYTES[t.dtype];
  for (const d of t.shape) n *= d;
  return n === t.data.byteLength;
}
const tensorMessage = { message: 'tensor data byte length must equal product(shape) * itemsize' };
const Dim = int(0, 2 ** 31 - 1);
/** Raw bytes (Buffers included); typed as plain `Uint8Array` so any backing buffer type fits. */
const Bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected raw bytes (msgpack bin)');

/** Any tensor (rank <= 8). */
export const TensorSchema = z
  .strictObject({
    dtype: DTypeSchema,
    shape: z.array(Dim).max(LIMITS.tensorRank),
    data: Bytes,
  })
  .refine(tensorBytesMatch, tensorMessage);

/** A 1-D tensor of a fixed dtype (token ids, log-probs). */
function vectorSchema<D extends DType>(dtype: D) {
  return z
    .strictObject({
      dtype: z.literal(dtype),
      shape: z.array(Dim).length(1),
      data: Bytes,
    })
    .refine(tensorBytesMatch, tensorMessage);
}

type AnyTypedArray = Float32Array | Int32Array | Uint8Array;
type ArrayFor<D extends DType> = D extends 'float32' ? Float32Array : D extends 'int32' ? Int32Array : Uint8Array;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Copies a typed array into a wire tensor. `shape` defaults to 1-D. The copy decouples the message from later
 * mutation of the source. Plain Uint8Array data is tagged `uint8` (Buffers included).
 */
export function toTensor(array: Float32Array): Tensor<'float32'>;
export function toTensor(array: Int32Array): Tensor<'int32'>;
export function toTensor(array: Uint8Array): Tensor<'uint8'>;
export function toTensor(array: AnyTypedArray, shape?: number[]): Tensor;
export function toTensor(array: AnyTypedArray, shape: number[] = [array.length]): Tensor {
  if (!LITTLE_ENDIAN) throw new Error('lamer wire tensors are little-endian; big-endian hosts are not supported');
  const dtype: DType =
    array instanceof Float32Array
      ? 'float32'
      : array instanceof Int32Array
        ? 'int32'
        : array instanceof Uint8Array
          ? 'uint8'
          : ((): never => {
              throw new TypeError('toTensor: unsupported array type');
            })();
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== array.length)
    throw new RangeError(`toTensor: shape [${shape.join(',')}] has ${n} elements, array has ${array.length}`);
  const data = new Uint8Array(array.byteLength);
  data.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return { dtype, shape: [...shape], data };
}

/**
 * Copies a tensor's bytes into a fresh, aligned typed array. Always copy: decoded `bin` values alias the
 * received frame and usually sit at an odd byte offset, where `new Float32Array(buf.buffer, off)` throws.
 */
export function fromTensor<D extends DType>(t: Tensor<D>): ArrayFor<D>;
export function fromTensor(t: Tensor): AnyTypedArray {
  if (!tensorBytesMatch(t)) throw new RangeError('fromTensor: byte length does not match shape');
  const bytes = new Uint8Array(t.data.byteLength);
  bytes.set(t.data);
  switch (t.dtype) {
    case 'float32':
      return new Float32Array(bytes.buffer);
    case 'int32':
      return new Int32Array(bytes.buffer);
    case 'uint8':
      return bytes;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Trial records

/** Exactly-once identity of a trial record: one actor process (incarnation) numbers its trials 0, 1, 2, ... */
export const TrialKeySchema = z.strictObject({
  runId: IdSchema,
  actorId: ActorIdSchema,
  incarnation: IncarnationSchema,
  seq: int(0),
});
export type TrialKey = z.infer<typeof TrialKeySchema>;

/** Canonical string of a key (ids contain no '/'), used as a map key and in logs. */
export function trialKeyString(k: TrialKey): string {
  return `${k.runId}/${k.actorId}/${k.incarnation}/${k.seq}`;
}

/** One generated turn (play) or reflection. */
export const RowSchema = z.strictObject({
  phase: z.enum(['play', 'reflect']),
  /** Play: the episode index. Reflect: the index of the episode that follows the reflection. */
  episode: int(0, LIMITS.attempts - 1),
  turn: int(0, 65_535),
  reward: z.number(), // zod rejects NaN and ±Infinity
  valid: z.boolean(),
  /** Raw environment state text (GiGPO step-group anchor). */
  anchor: Text,
  /** True on the play turn that won its episode. Absent in records of older actors: derived from `episodesWon`. */
  won: z.boolean().optional(),
  /** Version of the policy that sampled this row's response. */
  policyVersion: int(0),
  prompt: vectorSchema('int32'),
  response: vectorSchema('int32'),
  /** Behaviour log-prob of every response token (same length as `response`; empty when `hasLogp` is false). */
  behavLogp: vectorSchema('float32'),
  actionText: Text.optional(),
  /**
   * Whether `behavLogp` holds the behaviour policy's log-probs. Absent = true (records from before this field, and
   * the embedded policy). False when an inference server gave none, its tokens do not map onto the learner's
   * vocabulary, or the prompt is a full-template one the learner's model cannot read: such rows are for evaluation
   * only and the learner does not train on them.
   */
  hasLogp: z.boolean().optional(),
});
export type Row = z.infer<typeof RowSchema>;

export const TrialStatsSchema = z.strictObject({
  /** Wall-clock ms since the epoch. */
  startedAt: z.number().min(0),
  finishedAt: z.number().min(0),
  envSteps: int(0),
  genTokens: int(0),
  /** Mean fill (requests / max batch) of the actor's decode batches while this trial ran. */
  batchFill: z.number().min(0).max(1).optional(),
  /**
   * Actor-process counters since it started (ms): time its policy engine was generating, and uptime (idle fraction).
   */
  actorBusyMs: z.number().min(0).optional(),
  actorUpMs: z.number().min(0).optional(),
  /**
   * The actor's latest weight switch not yet reported: version, ms from the learner's publish to the switch, and
   * of those the ms from the frame's arrival (checksum verified) to the switch (engine session swap).
   */
  weightSwitch: z
    .strictObject({ policyVersion: int(0), ms: z.number().min(0), swapMs: z.number().min(0).optional() })
    .optional(),
  /** Records in the actor's outbox (completed, not yet acked) when this trial was finished: delivery backlog. */
  outboxDepth: int(0).optional(),
});

export const TrialSchema = z.strictObject({
  type: z.literal('trial'),
  key: TrialKeySchema,
  leaseId: IdSchema,
  groupId: IdSchema,
  trialIndex: int(0, LIMITS.groupSize - 1),
  envId: z.string().min(1).max(LIMITS.idChars),
  taskSeed: int(0),
  mode: Mode,
  attempts: int(1, LIMITS.attempts),
  episodesWon: z.array(z.boolean()).max(LIMITS.attempts),
  rows: z.array(RowSchema).max(LIMITS.rows),
  stats: TrialStatsSchema,
  /**
   * Who generated the responses. Absent = the embedded ONNX policy (whose weights the learner publishes). `openai`:
   * an OpenAI-compatible server (`model` names it); its samples are off-policy for the learner's weights.
   */
  policy: z
    .strictObject({ backend: z.enum(['onnx', 'openai']), model: z.string().max(LIMITS.idChars).optional() })
    .optional(),
  /** Optional end-to-end digest: sha256 of `encode(record without sha256)` (see codec `verifyTrialDigest`). */
  sha256: Sha256Hex.optional(),
});
export type Trial = z.infer<typeof TrialSchema>;
/** What the trial scheduler produces; the client adds `type` and `key`. */
export type TrialBody = Omit<Trial, 'type' | 'key'>;

// ---------------------------------------------------------------------------------------------------------------
// Handshake

export const HelloSchema = z.strictObject({
  type: z.literal('hello'),
  protocol: int(0),
  runId: IdSchema,
  actorId: ActorIdSchema,
  incarnation: IncarnationSchema,
  /** -1 = no policy yet. */
  lastPolicyVersion: int(-1),
  lastLearnerEpoch: int(-1),
  capabilities: z
    .record(z.string().max(64), z.union([Text, z.number(), z.boolean()]))
    .refine((r) => Object.keys(r).length <= 64, 'at most 64 capabilities')
    .optional(),
});
export type Hello = z.infer<typeof HelloSchema>;

/**
 * What the learner's ledger already holds for one (actorId, incarnation): every seq <= `upTo` plus the listed
 * `seqs` above it. The actor drops those outbox entries instead of resending them.
 */
export const CommittedMarkSchema = z.strictObject({
  incarnation: IncarnationSchema,
  upTo: int(-1),
  seqs: z.array(int(0)).max(LIMITS.committedSeqs),
});
export type CommittedMark = z.infer<typeof CommittedMarkSchema>;

export const WelcomeSchema = z.strictObject({
  type: z.literal('welcome'),
  learnerEpoch: int(0),
  /** -1 = the learner has no policy to publish yet. */
  policyVersion: int(-1),
  heartbeatMs: int(1),
  maxPayload: int(1),
  /** Max trials the actor may have sent and not yet seen acked on this connection. */
  creditWindow: int(1),
  committed: z.array(CommittedMarkSchema).max(LIMITS.committedStreams),
});
export type Welcome = z.infer<typeof WelcomeSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Work, acks, weights, flow control

/** Per-lease trial settings (prompt template, turn limits, sampling) and, in sync mode, the lockstep cohort. */
export const TrialOptionsSchema = z.strictObject({
  template: z.enum(['compact', 'full']),
  maxTurns: int(1, 1024),
  reflect: z.boolean(),
  temperature: z.number().positive().max(100),
  topP: z.number().gt(0).max(1),
  maxActionTokens: int(1, 65_536),
  maxReflectTokens: int(1, 65_536),
  /** Sync mode: leases of one cohort start together and advance in lockstep; the actor waits for all `cohortSize`. */
  cohort: IdSchema.optional(),
  cohortSize: int(1, LIMITS.groupSize).optional(),
});
export type TrialOptions = z.infer<typeof TrialOptionsSchema>;

export const LeaseSchema = z
  .strictObject({
    type: z.literal('lease'),
    leaseId: IdSchema,
    groupId: IdSchema,
    envId: z.string().min(1).max(LIMITS.idChars),
    taskSeed: int(0),
    groupSize: int(1, LIMITS.groupSize),
    attempts: int(1, LIMITS.attempts),
    mode: Mode,
    memory: z.enum(['reflection', 'trajectory', 'both']),
    /** Which trials of the group this lease covers (a retry covers a subset). */
    trialIndices: z
      .array(int(0, LIMITS.groupSize - 1))
      .min(1)
      .max(LIMITS.groupSize),
    policyVersionAtLease: int(0),
    envOptions: z.record(z.string().max(LIMITS.idChars), JsonValueSchema),
    /** How to run each trial; the learner owns the run configuration, actors need none of their own. */
    trial: TrialOptionsSchema,
  })
  .refine((l) => l.trialIndices.every((i) => i < l.groupSize), 'trialIndices must be < groupSize');
export type Lease = z.infer<typeof LeaseSchema>;

export const LeaseRequestSchema = z.strictObject({
  type: z.literal('leaseRequest'),
  want: int(0, 1024),
});
export type LeaseRequest = z.infer<typeof LeaseRequestSchema>;

export const AckSchema = z.strictObject({
  type: z.literal('ack'),
  key: TrialKeySchema,
  /**
   * committed: durable now. duplicate: was durable before (not stored again). rejected: never stored, do not resend.
   */
  status: z.enum(['committed', 'duplicate', 'rejected']),
  reason: Text.optional(),
});
export type Ack = z.infer<typeof AckSchema>;

export const PolicySchema = z.strictObject({
  type: z.literal('policy'),
  policyVersion: int(0),
  learnerEpoch: int(0),
  /** Model config (architecture) the weights belong to. */
  config: z.record(z.string().max(LIMITS.idChars), JsonValueSchema),
  weights: TensorSchema,
  /** sha256 of `weights.data`; the actor verifies it before swapping. */
  sha256: Sha256Hex,
  /** Learner wall clock (ms since the epoch) at publish: actors report publish-to-switch latency against it. */
  publishedAt: z.number().min(0).optional(),
});
export type Policy = z.infer<typeof PolicySchema>;

/** Learner -> actor: the credit window is now `n` (0 pauses sending trials; never above the welcome's window). */
export const CreditSchema = z.strictObject({ type: z.literal('credit'), n: int(0) });
export type Credit = z.infer<typeof CreditSchema>;

/** Application heartbeat; the learner echoes it (RTT probe). Any frame counts as liveness anyway. */
export const HeartbeatSchema = z.strictObject({ type: z.literal('heartbeat'), t: z.number() });
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

export const ErrorMessageSchema = z.strictObject({
  type: z.literal('error'),
  code: z.string().max(64),
  message: Text,
});
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;

export const ByeSchema = z.strictObject({ type: z.literal('bye'), reason: Text });
export type Bye = z.infer<typeof ByeSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Unions

/** Every message, either direction. */
export const MessageSchema = z.discriminatedUnion('type', [
  HelloSchema,
  WelcomeSchema,
  LeaseSchema,
  LeaseRequestSchema,
  TrialSchema,
  AckSchema,
  PolicySchema,
  CreditSchema,
  HeartbeatSchema,
  ErrorMessageSchema,
  ByeSchema,
]);
export type Message = z.infer<typeof MessageSchema>;
export type MessageType = Message['type'];

/** Types an actor may send; anything else from an actor is a protocol violation (close 1008). */
export const ACTOR_MESSAGE_TYPES: ReadonlySet<MessageType> = new Set([
  'hello',
  'leaseRequest',
  'trial',
  'heartbeat',
  'error',
  'bye',
]);
/** Types a learner may send. */
export const LEARNER_MESSAGE_TYPES: ReadonlySet<MessageType> = new Set([
  'welcome',
  'lease',
  'ack',
  'policy',
  'credit',
  'heartbeat',
  'error',
  'bye',
]);
export type ActorMessage = Extract<
  Message,
  { type: 'hello' | 'leaseRequest' | 'trial' | 'heartbeat' | 'error' | 'bye' }
>;
export type LearnerMessage = Extract<
  Message,
  { type: 'welcome' | 'lease' | 'ack' | 'policy' | 'credit' | 'heartbeat' | 'error' | 'bye' }
>;

// ---------------------------------------------------------------------------------------------------------------
// Semantic validation of trial records

export interface TrialCheckContext {
  /** The learner's current policy version: rows claiming a newer one are a tell-tale of a rollback. */
  learnerPolicyVersion?: number;
  /** Token ids must be < vocabSize. */
  vocabSize?: number;
  /** The trainer's context length: a row it trains on must fit (prompt + response <= contextLength). */
  contextLength?: number;
}

/**
 * Whether the trainer learns from this row: it carries behaviour log-probs and a response. Other rows (text
 * backends without log-probs, an empty reply) still count in the group statistics through their rewards.
 */
export function isTrainableRow(r: Pick<Row, 'hasLogp' | 'response'>): boolean {
  return r.hasLogp !== false && r.response.shape[0] > 0;
}

/** Log-probs are <= 0; allow float32 rounding noise above 0. */
const LOGP_SLACK = 1e-3;

/**
 * Checks what the schema cannot: rows in chronological order, response/log-prob lengths agree, log-probs finite
 * and in [logpMin, 0], rewards within ±rewardAbs, episodes contiguous and consistent with `episodesWon` (a won
 * episode ends the trial), one reflection before every later episode or none at all, times ordered; with a
 * context, the model's shape: token ids in the vocabulary, and every trainable row ({@link isTrainableRow}) with
 * a non-empty prompt that fits the context with its response. Every rule the trainer relies on is here, so that
 * a record that passes cannot fail an update.
 * Returns the first problem as a reason string, or null when the record is sound.
 */
export function validateTrial(t: Trial, ctx: TrialCheckContext = {}): string | null {
  if (t.rows.length === 0) return 'trial has no rows';
  if (t.stats.finishedAt < t.stats.startedAt) return 'stats.finishedAt is before stats.startedAt';
  if (t.episodesWon.length === 0) return 'episodesWon is empty';
  if (t.episodesWon.length > t.attempts)
    return `episodesWon has ${t.episodesWon.length} entries for ${t.attempts} attempts`;
  const wonAt = t.episodesWon.indexOf(true);
  if (wonAt !== -1 && wonAt !== t.episodesWon.length - 1) return `episode ${wonAt} was won but the trial continued`;
  if (wonAt === -1 && t.episodesWon.length !== t.attempts) {
    return `trial ended after ${t.episodesWon.length} of ${t.attempts} episodes without a win`;
  }
  let prev: [number, number, number] | null = null;
  const winningRows = new Set<number>();
  let lastPlayEpisode = -1;
  let reflections = 0;
  for (let i = 0; i < t.rows.length; i++) {
    const r = t.rows[i];
    const where = `row ${i}`;
    if (r.hasLogp === false) {
      if (r.behavLogp.shape[0] !== 0)
        return `${where}: hasLogp is false but behavLogp has ${r.behavLogp.shape[0]} values`;
    } else if (r.response.shape[0] !== r.behavLogp.shape[0]) {
      return `${where}: response has ${r.response.shape[0]} tokens but behavLogp has ${r.behavLogp.shape[0]}`;
    }
    if (r.episode >= t.episodesWon.length)
      return `${where}: episode ${r.episode} beyond the ${t.episodesWon.length} episodes played`;
    if (r.phase === 'play') {
      if (r.episode !== lastPlayEpisode && r.episode !== lastPlayEpisode + 1)
        return `${where}: play episode ${r.episode} skips an episode`;
      lastPlayEpisode = r.episode;
    } else if (r.episode === 0) {
      return `${where}: a reflection precedes episode 0`;
    } else {
      reflections++;
    }
    // Chronological: (episode, reflect before play, turn) strictly increasing.
    const pos: [number, number, number] = [r.episode, r.phase === 'reflect' ? 0 : 1, r.turn];
    if (
      prev &&
      !(pos[0] > prev[0] || (pos[0] === prev[0] && (pos[1] > prev[1] || (pos[1] === prev[1] && pos[2] > prev[2]))))
    ) {
      return `${where}: rows are not in chronological order`;
    }
    prev = pos;
    if (Math.abs(r.reward) > LIMITS.rewardAbs) return `${where}: reward ${r.reward} is outside ±${LIMITS.rewardAbs}`;
    if (r.won === true) {
      if (r.phase !== 'play' || t.episodesWon[r.episode] !== true)
        return `${where}: won is set but episode ${r.episode} was not won`;
      if (winningRows.has(r.episode)) return `${where}: a second winning row in episode ${r.episode}`;
      winningRows.add(r.episode);
    }
    const logp = new DataView(r.behavLogp.data.buffer, r.behavLogp.data.byteOffset, r.behavLogp.data.byteLength);
    for (let j = 0; j < r.behavLogp.shape[0]; j++) {
      const v = logp.getFloat32(j * 4, true);
      if (!Number.isFinite(v) || v > LOGP_SLACK || v < LIMITS.logpMin) {
        return `${where}: behavLogp[${j}] = ${v} is not a log-probability in [${LIMITS.logpMin}, 0]`;
      }
    }
    if (isTrainableRow(r)) {
      if (r.prompt.shape[0] === 0) return `${where}: empty prompt (a trained response needs a prompt)`;
      const len = r.prompt.shape[0] + r.response.shape[0];
      if (ctx.contextLength !== undefined && len > ctx.contextLength) {
        return `${where}: prompt + response is ${len} tokens, more than the context of ${ctx.contextLength}`;
      }
    }
    if (ctx.vocabSize !== undefined) {
      for (const tensor of [r.prompt, r.response]) {
        const ids = new DataView(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
        for (let j = 0; j < tensor.shape[0]; j++) {
          const id = ids.getInt32(j * 4, true);
          if (id < 0 || id >= ctx.vocabSize)
            return `${where}: token id ${id} outside the vocabulary of ${ctx.vocabSize}`;
        }
      }
    }
    if (ctx.learnerPolicyVersion !== undefined && r.policyVersion > ctx.learnerPolicyVersion) {
      return `${where}: policyVersion ${r.policyVersion} is newer than the learner's ${ctx.learnerPolicyVersion}`;
    }
  }
  if (lastPlayEpisode !== t.episodesWon.length - 1) {
    return `rows cover ${lastPlayEpisode + 1} played episodes but episodesWon has ${t.episodesWon.length}`;
  }
  // Reflection is on or off for the whole trial: one reflection before each episode after the first, or none.
  if (reflections !== 0 && reflections !== t.episodesWon.length - 1) {
    const n = t.episodesWon.length;
    return `${reflections} reflections for ${n} episodes (expected 0 or ${n - 1})`;
  }
  return null;
}
