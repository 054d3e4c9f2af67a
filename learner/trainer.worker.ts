/**
 * The learner's training engine in its own thread: `session.run` blocks for tens to hundreds of ms, and the
 * main thread must keep serving sockets (heartbeats, acks) meanwhile. Holds the weights and AdamW state.
 * Minibatches arrive as [B, T] with B <= batchSize, T <= seqLen.
 */
import { PolicyTrainer, type PpoMinibatch } from '../shared/model/trainer.js';
import { serveRpc } from '../shared/worker-rpc.js';
import type { BcMinibatch, TrainerInit, TrainerWorkerApi } from './trainer-api.js';

let trainer: PolicyTrainer | null = null;
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
  score: (b) => need().score(b.tokens, b.B, b.T),
  scoreWithValues: (b) => need().scoreWithValues(b.tokens, b.B, b.T),
  params: () => need().params(),
  setParams: (p: Float32Array) => need().setParams(p),
  optimizerState: () => need().optimizerState(),
  close: async () => {
    for (const p of buckets.values()) await (await p).close();
    buckets.clear();
    await trainer?.close();
    trainer = null;
  },
});
