/**
 * The learner's training engine in its own thread: `session.run` blocks for tens to hundreds of ms, and the
 * main thread must keep serving sockets (heartbeats, acks) meanwhile. Holds the weights and AdamW state.
 * Minibatches arrive as [B, T] with B <= batchSize, T <= seqLen.
 */
import { PolicyTrainer, type PpoMinibatch } from '../shared/model/trainer.js';
import { serveRpc } from '../shared/worker-rpc.js';
import type { BcMinibatch, TrainerInit, TrainerWorkerApi } from './trainer-api.js';

let trainer: PolicyTrainer | null = null;
/** Set by close: a prewarm still running stops before its next shape. */
let closing = false;
let opts: TrainerInit | null = null;
/**
 * Training graphs have static shapes, so minibatches run on a graph of a bucketed shape (B to a quarter or all
 * of the batch size, T to a multiple of 64): compute scales with the real lengths instead of always [batchSize, nCtx].
 * Bucket trainers only compute gradients at the master's current weights; the master owns weights and AdamW state.
 */
const buckets = new Map<string, Promise<PolicyTrainer>>();

function need(): PolicyTrainer {
  if (!trainer) throw new Error('trainer not initialised');
  return trainer;
}

function bucketShape(B: number, T: number): [number, number] {
  const t = need();
  if (B > t.batchSize || T > t.seqLen)
    throw new Error(`minibatch [${B}, ${T}] exceeds the training shape [${t.batchSize}, ${t.seqLen}]`);
  // Few buckets on purpose: every shape is one more training session (and its memory arena) in this worker.
  const Bb = B <= t.batchSize / 4 ? Math.ceil(t.batchSize / 4) : t.batchSize;
  return [Bb, Math.min(Math.ceil(T / 64) * 64, t.seqLen)];
}

async function bucketTrainer(Bb: number, Tb: number): Promise<PolicyTrainer> {
  const t = need();
  if (Bb === t.batchSize && Tb === t.seqLen) return t;
  const key = `${Bb}x${Tb}`;
  let p = buckets.get(key);
  if (!p) {
    p = PolicyTrainer.create({ ...opts!, params: t.params(), batchSize: Bb, seqLen: Tb, optimizerState: undefined });
    buckets.set(key, p);
  }
  const bt = await p;
  bt.setParams(t.params());
  return bt;
}

/** Copies a [B, T] row-major array into [Bb, Tb], filling the rest with `fill`. */
function pad<A extends Int32Array | Float32Array>(
  a: A,
  B: number,
  T: number,
  Bb: number,
  Tb: number,
  fill: number,
  make: (n: number) => A,
): A {
  if (B === Bb && T === Tb) return a;
  const out = make(Bb * Tb);
  if (fill !== 0) out.fill(fill);
  for (let b = 0; b < B; b++) out.set(a.subarray(b * T, b * T + T), b * Tb);
  return out;
}

const f32 = (n: number) => new Float32Array(n);
const i32 = (n: number) => new Int32Array(n);

/** The first T columns of the first B rows of a row-major [Bb, Tb] array. */
function crop(a: Float32Array, B: number, T: number, Bb: number, Tb: number): Float32Array {
  if (B === Bb && T === Tb) return a;
  const out = new Float32Array(B * T);
  for (let b = 0; b < B; b++) out.set(a.subarray(b * Tb, b * Tb + T), b * T);
  return out;
}

/**
 * Scoring runs on the bucketed shape too, padded at the end of each row: the model is causal, so log p of a real
 * token never sees the padding. With arbitrary [B, T] the scoring session's memory arena kept growing whenever a
 * shape larger than any before arrived, which over hours reads as a leak; with buckets its high-water mark is
 * reached by `prewarm`.
 */
async function scoreBucketed<R>(
  b: { tokens: Int32Array; B: number; T: number },
  run: (tokens: Int32Array, Bb: number, Tb: number) => Promise<R>,
): Promise<R> {
  const [Bb, Tb] = bucketShape(b.B, b.T);
  return run(pad(b.tokens, b.B, b.T, Bb, Tb, opts!.padId, i32), Bb, Tb);
}

/** Every (B, T) bucket shape of this worker (`bucketShape` of a short and a full batch at each length), B first. */
function allBuckets(): Array<[number, number]> {
  const t = need();
  const out = new Map<string, [number, number]>();
  for (const B of [1, t.batchSize])
    for (let T = 64; T < t.seqLen + 64; T += 64) {
      const s = bucketShape(B, Math.min(T, t.seqLen));
      out.set(s.join('x'), s);
    }
  return [...out.values()];
}

serveRpc<TrainerWorkerApi>({
  async init(o: TrainerInit) {
    opts = o;
    trainer = await PolicyTrainer.create(o);
    return { batchSize: trainer.batchSize, seqLen: trainer.seqLen };
  },
  async ppoStep(b: PpoMinibatch) {
    const [Bb, Tb] = bucketShape(b.B, b.T);
    const P = <A extends Int32Array | Float32Array>(a: A, fill: number, make: (n: number) => A) =>
      pad(a, b.B, b.T, Bb, Tb, fill, make);
    const { grads, ...r } = await (await bucketTrainer(Bb, Tb)).ppoGradients({
      tokens: P(b.tokens, opts!.padId, i32),
      respMask: P(b.respMask, 0, f32),
      advantages: P(b.advantages, 0, f32),
      proxLogp: P(b.proxLogp, 0, f32),
      isWeight: P(b.isWeight, 0, f32),
      clipEps: b.clipEps,
      dualClipC: b.dualClipC,
      entropyCoef: b.entropyCoef,
      critic: b.critic && {
        ...b.critic,
        valueMask: P(b.critic.valueMask, 0, f32),
        returns: P(b.critic.returns, 0, f32),
        oldValues: P(b.critic.oldValues, 0, f32),
      },
    });
    const step = r.tokens > 0 ? need().applyGradients(grads) : { gradNorm: 0 };
    return {
      loss: r.loss,
      gradNorm: step.gradNorm,
      entropy: r.entropy,
      clipFrac: r.clipFrac,
      dualClipFrac: r.dualClipFrac,
      tokens: r.tokens,
      valueLoss: r.valueLoss,
    };
  },
  async bcStep(b: BcMinibatch) {
    const [Bb, Tb] = bucketShape(b.B, b.T);
    const { loss, grads } = await (await bucketTrainer(Bb, Tb)).bcGradients({
      tokens: pad(b.tokens, b.B, b.T, Bb, Tb, opts!.padId, i32),
      weights: pad(b.weights, b.B, b.T, Bb, Tb, 0, f32),
    });
    return { loss, ...need().applyGradients(grads) };
  },
  score: (b) => scoreBucketed(b, async (tokens, Bb, Tb) => crop(await need().score(tokens, Bb, Tb), b.B, b.T, Bb, Tb)),
  scoreWithValues: (b) =>
    scoreBucketed(b, async (tokens, Bb, Tb) => {
      const r = await need().scoreWithValues(tokens, Bb, Tb);
      return { logp: crop(r.logp, b.B, b.T, Bb, Tb), values: crop(r.values, b.B, b.T, Bb, Tb) };
    }),
  /**
   * Runs every bucket shape once (a scoring pass and a gradient pass, nothing applied) so that every session and
   * memory arena this worker will ever hold exists now: the worker's memory is at its ceiling after start-up
   * instead of stepping up hours later when a rare shape first arrives.
   */
  async prewarm() {
    const t0 = performance.now();
    const shapes = allBuckets();
    // Twice: onnxruntime plans a session's memory pattern on its first run and allocates that plan on the second.
    for (const [Bb, Tb] of [...shapes, ...shapes]) {
      if (closing) return { shapes: [], ms: Math.round(performance.now() - t0) };
      const tokens = new Int32Array(Bb * Tb).fill(opts!.padId);
      const respMask = new Float32Array(Bb * Tb);
      for (let r = 0; r < Bb; r++) respMask[r * Tb + Tb - 1] = 1;
      const zeros = new Float32Array(Bb * Tb);
      await need().score(tokens, Bb, Tb);
      await (await bucketTrainer(Bb, Tb)).ppoGradients({
        tokens,
        respMask,
        advantages: zeros,
        proxLogp: zeros,
        isWeight: zeros,
        clipEps: 0.2,
        dualClipC: 3,
        entropyCoef: 0,
      });
    }
    return { shapes: shapes.map((s) => s.join('x')), ms: Math.round(performance.now() - t0) };
  },
  params: () => need().params(),
  setParams: (p: Float32Array) => need().setParams(p),
  optimizerState: () => need().optimizerState(),
  close: async () => {
    closing = true;
    for (const p of buckets.values()) await (await p).close();
    buckets.clear();
    await trainer?.close();
    trainer = null;
  },
});
