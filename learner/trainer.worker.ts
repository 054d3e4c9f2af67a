/**
 * The learner's training engine in its own thread: `session.run` blocks for tens to hundreds of ms, and the
 * main thread must keep serving sockets (heartbeats, acks) meanwhile. Holds the weights and AdamW state.
 * Minibatches arrive as [B, T] with B <= batchSize, T <= seqLen and are zero-padded to the static graph shape.
 */
import { PolicyTrainer, type PolicyTrainerOptions } from '../shared/model/trainer.js';
import { serveRpc } from '../shared/worker-rpc.js';

let trainer: PolicyTrainer | null = null;
let padId = 0;

function need(): PolicyTrainer {
  if (!trainer) throw new Error('trainer not initialised');
  return trainer;
}

/** Copies a [B, T] row-major array into the static [batchSize, seqLen] shape, filling with `fill`. */
function pad<A extends Int32Array | Float32Array>(a: A, B: number, T: number, fill: number, make: (n: number) => A): A {
  const t = need();
  if (B > t.batchSize || T > t.seqLen) throw new Error(`minibatch [${B}, ${T}] exceeds the training shape [${t.batchSize}, ${t.seqLen}]`);
  if (B === t.batchSize && T === t.seqLen) return a;
  const out = make(t.batchSize * t.seqLen);
  if (fill !== 0) out.fill(fill);
  for (let b = 0; b < B; b++) out.set(a.subarray(b * T, b * T + T), b * t.seqLen);
  return out;
}

const f32 = (n: number) => new Float32Array(n);
const i32 = (n: number) => new Int32Array(n);

serveRpc({
  async init(o: PolicyTrainerOptions & { padId: number }) {
    padId = o.padId;
    trainer = await PolicyTrainer.create(o);
    return { batchSize: trainer.batchSize, seqLen: trainer.seqLen };
  },
  async ppoStep(b: {
    tokens: Int32Array; B: number; T: number; respMask: Float32Array; advantages: Float32Array; proxLogp: Float32Array;
    isWeight: Float32Array; clipEps: number; dualClipC: number; entropyCoef: number;
  }) {
    const r = await need().ppoStep({
      tokens: pad(b.tokens, b.B, b.T, padId, i32), respMask: pad(b.respMask, b.B, b.T, 0, f32),
      advantages: pad(b.advantages, b.B, b.T, 0, f32), proxLogp: pad(b.proxLogp, b.B, b.T, 0, f32),
      isWeight: pad(b.isWeight, b.B, b.T, 0, f32), clipEps: b.clipEps, dualClipC: b.dualClipC, entropyCoef: b.entropyCoef,
    });
    return { loss: r.loss, gradNorm: r.gradNorm, entropy: r.entropy, clipFrac: r.clipFrac, dualClipFrac: r.dualClipFrac, tokens: r.tokens };
  },
  async bcStep(b: { tokens: Int32Array; B: number; T: number; weights: Float32Array }) {
    return need().bcStep({ tokens: pad(b.tokens, b.B, b.T, padId, i32), weights: pad(b.weights, b.B, b.T, 0, f32) });
  },
  score: (b: { tokens: Int32Array; B: number; T: number }) => need().score(b.tokens, b.B, b.T),
  params: () => need().params(),
  setParams: (p: Float32Array) => need().setParams(p),
  optimizerState: () => need().optimizerState(),
  setLearningRate: (lr: number) => {
    need().optimizer.lr = lr;
  },
  close: async () => {
    await trainer?.close();
    trainer = null;
  },
});
