/**
 * The learner's engine: the training graphs (forward + in-graph loss + autodiff backward) on onnxruntime plus
 * AdamW on the flat parameter buffer. `session.run` blocks its thread, so the learner runs this class inside a
 * worker thread; it works on any thread.
 *
 * Batches are static [batchSize, seqLen] (right-pad shorter rows and give them zero mask/weight).
 */
import { LamerError, badInput } from '../errors.js';
import { AdamW, decayMaskFor, type AdamWOptions, type AdamWState } from './adamw.js';
import { hasValueHead, parseModelConfig, type ModelConfig } from './config.js';
import { buildScoringGraph, buildTrainingGraph, type TrainingLoss } from './gpt-graphs.js';
import { buildManifest, checkParams, type Manifest } from './manifest.js';
import { toOnnxBytes } from './onnx/encode.js';
import { SCORING_MEM_PATTERN, scoreBatch, scoreBatchWithValues } from './scorer.js';
import { createSession, OrtTensor, releaseSession, runSession, type Session, type SessionOptions } from './session.js';
import { checkLength, checkTokenIds } from './validate.js';

/**
 * Fusions skipped in training sessions (profiled at the toy size, per-node minimum kernel time over 40+ runs):
 * - SkipLayerNormFusion: fuses the last residual Add into the (affine-free) final LayerNorm; that kernel with
 *   the statistics outputs took ~1.1 ms vs ~0.2 ms for the Add + LayerNormalization it replaces.
 * - MatMulAddFusion: Gemm with a bias (plus the Reshapes it adds around 3-D inputs) was no faster than MatMul +
 *   Add here, and leaves 11 more nodes.
 */
export const TRAINING_DISABLED_OPTIMIZERS: readonly string[] = ['SkipLayerNormFusion', 'MatMulAddFusion'];

export interface PolicyTrainerOptions {
  config: ModelConfig;
  params: Float32Array;
  /** AdamW settings; without `decayMask`, biases and LayerNorm parameters are not decayed. */
  optimizer: AdamWOptions;
  batchSize: number;
  seqLen: number;
  /** Intra-op threads of the training session (default 1). */
  threads?: number;
  /** Let idle intra-op threads spin (default false; see SessionOptions.spin). */
  spin?: boolean;
  /**
   * ORT memory settings of every session of this trainer. Default: createSession's, except that the scoring
   * session runs without the memory pattern (SCORING_MEM_PATTERN).
   */
  memory?: Pick<SessionOptions, 'memArena' | 'memPattern'>;
  optimizerState?: AdamWState;
}

/** One PPO minibatch, all per-token arrays [B·T] in row-major (batch.ts) layout. */
export interface PpoBatch {
  tokens: Int32Array;
  /** 1 at response tokens, 0 elsewhere (position 0 of a row has no log-prob and must be 0). */
  respMask: Float32Array;
  advantages: Float32Array;
  /** log π_prox of each token (the learner's weights at the start of the update). */
  proxLogp: Float32Array;
  /** Importance weight w_t = π_prox/μ (truncated); a constant, no gradient. */
  isWeight: Float32Array;
  clipEps: number;
  dualClipC: number;
  entropyCoef: number;
  /** The critic's targets (a model with a value head; without them its value loss has weight 0). */
  critic?: CriticBatch;
}

/** Per-row value targets at one position of each row (docs/method.md §4.7), arrays [B·T] like the rest. */
export interface CriticBatch {
  /** 1 at the position whose value is trained (a row's last prompt token), else 0. */
  valueMask: Float32Array;
  /** The value target R (GAE λ-return) at those positions. */
  returns: Float32Array;
  /** V_old at those positions: the head's values at the start of the update (the clip's anchor). */
  oldValues: Float32Array;
  /** The value clip ε_v: V may move at most this far from V_old before the clipped term takes over. */
  valueClip: number;
  /** Weight of the value loss in the total loss. */
  valueCoef: number;
}

/** A PPO minibatch with its shape, as it crosses from the learner's update to the trainer worker. */
export interface PpoMinibatch extends PpoBatch {
  B: number;
  T: number;
}

export interface PpoResult {
  loss: number;
  pgLoss: number;
  /** Token-mean entropy over response tokens. */
  entropy: number;
  /** Fraction of response tokens where the PPO clip binds (pg2 > pg1). */
  clipFrac: number;
  /** Fraction of response tokens where the dual clip binds. */
  dualClipFrac: number;
  /** Response tokens in the batch. */
  tokens: number;
  /** log π_θ per token before the update ([B·T], position 0 = 0). */
  logp: Float32Array;
  /** The clipped value loss (before its coefficient); 0 for a model without a value head. */
  valueLoss: number;
  /** The value head's V per position before the update ([B·T]); null without a value head. */
  values: Float32Array | null;
}

export interface StepInfo {
  gradNorm: number;
  clipped: boolean;
  /** True when the batch had no response tokens (no optimizer step was taken). */
  skipped: boolean;
}

/** What one PPO optimizer step reports back to the learner's update. */
export type PpoStepSummary = Pick<
  PpoResult,
  'loss' | 'entropy' | 'clipFrac' | 'dualClipFrac' | 'tokens' | 'valueLoss'
> & {
  gradNorm: number;
};

export interface BcBatch {
  tokens: Int32Array;
  /** Per-token weight (0 on non-target tokens and at position 0). */
  weights: Float32Array;
}

export class PolicyTrainer {
  readonly config: ModelConfig;
  readonly manifest: Manifest;
  readonly batchSize: number;
  readonly seqLen: number;
  private weights: Float32Array;
  private readonly opt: AdamW;
  private readonly threads: number;
  private readonly spin: boolean;
  private readonly memory: Pick<SessionOptions, 'memArena' | 'memPattern'>;
  private sessions = new Map<TrainingLoss | 'score', Promise<Session>>();

  private constructor(o: PolicyTrainerOptions) {
    this.config = parseModelConfig(o.config);
    this.manifest = buildManifest(this.config);
    checkParams(this.manifest, o.params);
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
      throw badInput(`batchSize must be a positive integer, got ${o.batchSize}`);
    if (!Number.isInteger(o.seqLen) || o.seqLen < 2) throw badInput(`seqLen must be an integer >= 2, got ${o.seqLen}`);
    checkLength(this.config, o.seqLen, 'trainer seqLen');
    this.batchSize = o.batchSize;
    this.seqLen = o.seqLen;
    this.threads = o.threads ?? 1;
    this.spin = o.spin ?? false;
    this.memory = { ...o.memory };
    this.weights = o.params.slice();
    this.opt = new AdamW(this.manifest.totalSize, { decayMask: decayMaskFor(this.manifest), ...o.optimizer });
    if (o.optimizerState) this.opt.load(o.optimizerState);
  }

  /** Builds the trainer; the PPO graph session is created now, the others on first use. */
  static async create(o: PolicyTrainerOptions): Promise<PolicyTrainer> {
    const t = new PolicyTrainer(o);
    await t.session('ppo');
    return t;
  }

  private session(kind: TrainingLoss | 'score'): Promise<Session> {
    let s = this.sessions.get(kind);
    if (!s) {
      const g =
        kind === 'score'
          ? buildScoringGraph(this.config)
          : buildTrainingGraph(this.config, this.batchSize, this.seqLen, kind);
      const disabledOptimizers = kind === 'score' ? [] : TRAINING_DISABLED_OPTIMIZERS;
      // Scoring runs any [B, T] (see SCORING_MEM_PATTERN); a training graph has one static shape, whose memory
      // pattern is a single plan and the faster choice.
      const memPattern = this.memory.memPattern ?? (kind === 'score' ? SCORING_MEM_PATTERN : undefined);
      s = createSession(toOnnxBytes(g), {
        ...this.memory,
        memPattern,
        threads: this.threads,
        spin: this.spin,
        disabledOptimizers,
      });
      this.sessions.set(kind, s);
    }
    return s;
  }

  private get n(): number {
    return this.batchSize * this.seqLen;
  }

  private checkTokens(tokens: Int32Array): void {
    if (!(tokens instanceof Int32Array) || tokens.length !== this.n) {
      throw new LamerError(
        'RL_ERR_MODEL',
        `tokens must be an Int32Array of B·T = ${this.batchSize}·${this.seqLen} = ${this.n} ids, got ${tokens?.length}`,
      );
    }
    checkTokenIds(this.config, tokens, 'training batch');
  }

  /** Per-token inputs with zeros at inactive positions (nothing there can reach the loss as NaN). */
  private active(name: string, a: Float32Array, mask: Float32Array): Float32Array {
    if (!(a instanceof Float32Array) || a.length !== this.n)
      throw new LamerError('RL_ERR_MODEL', `${name} must be a Float32Array of ${this.n} values, got ${a?.length}`);
    const out = new Float32Array(this.n);
    for (let i = 0; i < this.n; i++) {
      if (mask[i] === 0) continue;
      if (!Number.isFinite(a[i]!)) throw new LamerError('RL_ERR_MODEL', `${name}[${i}] is ${a[i]} at a response token`);
      out[i] = a[i]!;
    }
    return out;
  }

  private scalar(v: number): OrtTensor {
    return new OrtTensor('float32', Float32Array.of(v), []);
  }

  /** Forward + backward of the PPO loss at the current weights; no update. */
  async ppoGradients(b: PpoBatch): Promise<PpoResult & { grads: Float32Array }> {
    this.checkTokens(b.tokens);
    const mask = b.respMask;
    if (!(mask instanceof Float32Array) || mask.length !== this.n)
      throw new LamerError('RL_ERR_MODEL', `respMask must be a Float32Array of ${this.n} values`);
    let tokens = 0;
    for (let i = 0; i < this.n; i++) {
      if (mask[i] !== 0 && mask[i] !== 1)
        throw new LamerError('RL_ERR_MODEL', `respMask[${i}] is ${mask[i]}; it must be 0 or 1`);
      if (mask[i] === 1 && i % this.seqLen === 0)
        throw new LamerError(
          'RL_ERR_MODEL',
          `respMask is 1 at position 0 of row ${i / this.seqLen}: the first token has no log-prob`,
        );
      tokens += mask[i]!;
    }
    if (!(b.clipEps > 0 && b.clipEps < 1)) throw badInput(`clipEps must be in (0, 1), got ${b.clipEps}`);
    if (!(b.dualClipC > 1 && Number.isFinite(b.dualClipC)))
      throw badInput(`dualClipC must be a finite number > 1, got ${b.dualClipC}`);
    if (!(b.entropyCoef >= 0 && Number.isFinite(b.entropyCoef)))
      throw badInput(`entropyCoef must be a finite number >= 0, got ${b.entropyCoef}`);
    const shape = [this.batchSize, this.seqLen];
    const s = await this.session('ppo');
    if (b.critic && !hasValueHead(this.config))
      throw badInput('the batch has value targets but the model has no value head (model config valueHead)');
    const critic = hasValueHead(this.config) ? this.criticInputs(b.critic, shape) : {};
    const r = await runSession(s, {
      ...critic,
      params: new OrtTensor('float32', this.weights, [this.weights.length]),
      tokens: new OrtTensor('int32', b.tokens, shape),
      resp_mask: new OrtTensor('float32', mask, shape),
      advantages: new OrtTensor('float32', this.active('advantages', b.advantages, mask), shape),
      prox_logp: new OrtTensor('float32', this.active('proxLogp', b.proxLogp, mask), shape),
      is_weight: new OrtTensor('float32', this.active('isWeight', b.isWeight, mask), shape),
      clip_eps: this.scalar(b.clipEps),
      dual_clip_c: this.scalar(b.dualClipC),
      entropy_coef: this.scalar(b.entropyCoef),
    });
    const num = (k: string) => Number(r[k]!.data[0]) + 0; // + 0: no -0 from an empty mask
    return {
      loss: num('loss'),
      pgLoss: num('pg_loss'),
      entropy: num('entropy'),
      clipFrac: num('clip_frac'),
      dualClipFrac: num('dual_clip_frac'),
      tokens,
      logp: r.logp!.data as Float32Array,
      valueLoss: r.value_loss ? num('value_loss') : 0,
      values: r.values ? (r.values.data as Float32Array) : null,
      grads: r.grads!.data as Float32Array,
    };
  }

  /** The value-loss inputs of the training graph; no targets → a zero mask and weight 0. */
  private criticInputs(c: CriticBatch | undefined, shape: number[]): Record<string, OrtTensor> {
    const zeros = () => new Float32Array(this.n);
    const mask = c?.valueMask ?? zeros();
    if (!(mask instanceof Float32Array) || mask.length !== this.n)
      throw new LamerError('RL_ERR_MODEL', `valueMask must be a Float32Array of ${this.n} values`);
    for (let i = 0; i < this.n; i++)
      if (mask[i] !== 0 && mask[i] !== 1)
        throw new LamerError('RL_ERR_MODEL', `valueMask[${i}] is ${mask[i]}; it must be 0 or 1`);
    if (c && !(c.valueClip > 0 && Number.isFinite(c.valueClip)))
      throw badInput(`valueClip must be a finite number > 0, got ${c.valueClip}`);
    if (c && !(c.valueCoef >= 0 && Number.isFinite(c.valueCoef)))
      throw badInput(`valueCoef must be a finite number >= 0, got ${c.valueCoef}`);
    return {
      value_mask: new OrtTensor('float32', mask, shape),
      returns: new OrtTensor('float32', c ? this.active('returns', c.returns, mask) : zeros(), shape),
      old_values: new OrtTensor('float32', c ? this.active('oldValues', c.oldValues, mask) : zeros(), shape),
      value_clip: this.scalar(c?.valueClip ?? 1),
      value_coef: this.scalar(c?.valueCoef ?? 0),
    };
  }

  /** One PPO update: gradients, then AdamW (skipped when the batch has no response tokens). */
  async ppoStep(b: PpoBatch): Promise<PpoResult & StepInfo> {
    const { grads, ...res } = await this.ppoGradients(b);
    return { ...res, ...this.apply(grads, res.tokens === 0) };
  }

  /** Forward + backward of the weighted log-likelihood loss −Σ w·logp / Σ w; no update. */
  async bcGradients(b: BcBatch): Promise<{ loss: number; logp: Float32Array; grads: Float32Array }> {
    this.checkTokens(b.tokens);
    const w = b.weights;
    if (!(w instanceof Float32Array) || w.length !== this.n)
      throw new LamerError('RL_ERR_MODEL', `weights must be a Float32Array of ${this.n} values`);
    let sum = 0;
    for (let i = 0; i < this.n; i++) {
      if (!Number.isFinite(w[i]!) || w[i]! < 0)
        throw new LamerError('RL_ERR_MODEL', `weights[${i}] is ${w[i]}; weights must be finite and >= 0`);
      if (w[i] !== 0 && i % this.seqLen === 0)
        throw new LamerError(
          'RL_ERR_MODEL',
          `weights is nonzero at position 0 of row ${i / this.seqLen}: the first token has no log-prob`,
        );
      sum += w[i]!;
    }
    if (!(sum > 0)) throw new LamerError('RL_ERR_MODEL', 'weights sum to 0: nothing to learn from');
    const shape = [this.batchSize, this.seqLen];
    const s = await this.session('bc');
    const r = await runSession(s, {
      params: new OrtTensor('float32', this.weights, [this.weights.length]),
      tokens: new OrtTensor('int32', b.tokens, shape),
      weights: new OrtTensor('float32', w, shape),
    });
    return { loss: Number(r.loss!.data[0]), logp: r.logp!.data as Float32Array, grads: r.grads!.data as Float32Array };
  }

  /** One behaviour-cloning update. */
  async bcStep(b: BcBatch): Promise<{ loss: number; gradNorm: number; clipped: boolean }> {
    const { loss, grads } = await this.bcGradients(b);
    const { gradNorm, clipped } = this.apply(grads, false);
    return { loss, gradNorm, clipped };
  }

  /** Applies externally accumulated gradients with AdamW. */
  applyGradients(grads: Float32Array): StepInfo {
    return this.apply(grads, false);
  }

  private apply(grads: Float32Array, skip: boolean): StepInfo {
    if (skip) return { gradNorm: 0, clipped: false, skipped: true };
    return { ...this.opt.step(this.weights, grads), skipped: false };
  }

  /** Per-token log p(token t | < t) for any [B, T] batch (T <= nCtx); position 0 = 0. */
  async score(tokens: Int32Array, B: number, T: number): Promise<Float32Array> {
    if (!Number.isInteger(B) || !Number.isInteger(T) || B < 1 || T < 1 || tokens.length !== B * T) {
      throw new LamerError('RL_ERR_MODEL', `score: tokens has ${tokens.length} ids, expected B·T = ${B}·${T}`);
    }
    checkLength(this.config, T, 'score');
    checkTokenIds(this.config, tokens, 'score');
    return scoreBatch(await this.session('score'), this.weights, tokens, B, T);
  }

  /** Per-token log-probs and the value head's V at every position (a model with a value head only). */
  async scoreWithValues(
    tokens: Int32Array,
    B: number,
    T: number,
  ): Promise<{ logp: Float32Array; values: Float32Array }> {
    if (!Number.isInteger(B) || !Number.isInteger(T) || B < 1 || T < 1 || tokens.length !== B * T) {
      throw new LamerError('RL_ERR_MODEL', `score: tokens has ${tokens.length} ids, expected B·T = ${B}·${T}`);
    }
    checkLength(this.config, T, 'score');
    checkTokenIds(this.config, tokens, 'score');
    return scoreBatchWithValues(await this.session('score'), this.weights, tokens, B, T);
  }

  /** A copy of the current weights. */
  params(): Float32Array {
    return this.weights.slice();
  }

  /** Replaces the weights (copied); the optimizer state is kept. */
  setParams(p: Float32Array): void {
    checkParams(this.manifest, p);
    this.weights = p.slice();
  }

  optimizerState(): AdamWState {
    return this.opt.state();
  }

  loadOptimizerState(s: AdamWState): void {
    this.opt.load(s);
  }

  /** The optimizer (e.g. to change the learning rate). */
  get optimizer(): AdamW {
    return this.opt;
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await releaseSession(await s);
  }
}
