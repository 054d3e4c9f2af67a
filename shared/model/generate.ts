/**
 * Batched generation with the KV-cache decode graph: one prefill over the left-padded prompts, then one decode
 * step per new token for the whole batch. Rows that finish keep their slot until enough have finished, then the
 * cache is compacted to the live rows. `session.run` blocks the thread: actors run this inside PolicyPool's
 * workers; tests and tools may run it anywhere.
 */
import { LamerError } from '../errors.js';
import { headDim, parseModelConfig, type ModelConfig } from './config.js';
import { buildDecodeGraph, cacheNames } from './gpt-graphs.js';
import { buildManifest, checkParams, isValueHeadEntry, type Manifest } from './manifest.js';
import { encodeModel, toModelProto, type ModelProto } from './onnx/encode.js';
import { Xoshiro128Rng } from '../rng.js';
import { sampleToken } from './sampling.js';
import { createSession, OrtTensor, releaseSession, runSession, type Session, type SessionOptions } from './session.js';

export interface GenRequest {
  /** Prompt token ids (at least one, e.g. `<bos>`). */
  prompt: number[];
  /** New tokens at most (capped by the context: prompt + tokens <= nCtx). */
  maxTokens: number;
  /** Generation ends after any of these ids is produced (it is included in `tokens`). */
  stop: number[];
  /** 0 = greedy. */
  temperature: number;
  /** Nucleus mass in (0, 1]. */
  topP: number;
  /** Seeds this request's sampling stream (independent of the batch it lands in). */
  seed: number;
}

export interface GenResult {
  tokens: number[];
  /**
   * log μ(token) under the distribution actually sampled from: softmax(logits / temperature) restricted to the
   * top-p nucleus and renormalised (0 for greedy). This is the behaviour log-prob for importance weights.
   */
  logprobs: number[];
  /** log p(token) under the plain model distribution softmax(logits) (what scoring computes). */
  rawLogprobs: number[];
  finish: 'stop' | 'length';
  policyVersion: number;
}

function genError(msg: string): never {
  throw new LamerError('RL_ERR_MODEL', msg);
}

/** Validates requests with messages that name the request and field. */
export function checkGenRequests(cfg: ModelConfig, reqs: unknown): asserts reqs is GenRequest[] {
  if (!Array.isArray(reqs)) genError('generate: requests must be an array');
  reqs.forEach((r: Partial<GenRequest>, i) => {
    const w = `request ${i}`;
    if (typeof r !== 'object' || r === null) genError(`${w} must be an object`);
    if (!Array.isArray(r.prompt) || r.prompt.length === 0)
      genError(`${w}: prompt must be a non-empty array of token ids`);
    if (r.prompt.length > cfg.nCtx)
      genError(`${w}: prompt of ${r.prompt.length} tokens is longer than the model context (${cfg.nCtx})`);
    r.prompt.forEach((t, k) => {
      if (!Number.isInteger(t) || t < 0 || t >= cfg.vocabSize)
        genError(`${w}: prompt token id ${t} at position ${k} is outside the vocabulary (0..${cfg.vocabSize - 1})`);
    });
    if (!Number.isInteger(r.maxTokens) || r.maxTokens! < 0)
      genError(`${w}: maxTokens must be an integer >= 0, got ${r.maxTokens}`);
    if (!Array.isArray(r.stop) || r.stop.some((t) => !Number.isInteger(t) || t < 0 || t >= cfg.vocabSize))
      genError(`${w}: stop must be an array of token ids in the vocabulary`);
    if (typeof r.temperature !== 'number' || !(r.temperature >= 0) || !Number.isFinite(r.temperature))
      genError(`${w}: temperature must be a finite number >= 0, got ${r.temperature}`);
    if (typeof r.topP !== 'number' || !(r.topP > 0 && r.topP <= 1))
      genError(`${w}: topP must be in (0, 1], got ${r.topP}`);
    if (typeof r.seed !== 'number' || !Number.isFinite(r.seed))
      genError(`${w}: seed must be a finite number, got ${r.seed}`);
  });
}

interface Row {
  req: GenRequest;
  rng: Xoshiro128Rng;
  stop: Set<number>;
  budget: number;
  out: GenResult;
  done: boolean;
}

/** One decode session (weights baked in) plus the template to rebuild it with new weights. */
export class DecodeEngine {
  readonly config: ModelConfig;
  readonly manifest: Manifest;
  private readonly proto: ModelProto;
  private readonly initIndex: Array<{ tensorIndex: number; offset: number; size: number }>;
  private session: Session;
  private sessionVersion: number;
  private readonly sessionOptions: SessionOptions;
  private readonly scratch: Float64Array;

  private constructor(
    cfg: ModelConfig,
    proto: ModelProto,
    session: Session,
    version: number,
    sessionOptions: SessionOptions,
  ) {
    this.config = cfg;
    this.manifest = buildManifest(cfg);
    this.proto = proto;
    const inits = proto.graph!.initializer!;
    // The decode graph has no value head (generation never reads it), so its tensors are not copied on updates.
    this.initIndex = this.manifest.entries
      .filter((e) => !isValueHeadEntry(e.name))
      .map((e) => {
        const tensorIndex = inits.findIndex((t) => t.name === e.name);
        if (tensorIndex < 0) throw new LamerError('RL_ERR_INTERNAL', `decode graph lacks initializer ${e.name}`);
        return { tensorIndex, offset: e.offset, size: e.size };
      });
    this.session = session;
    this.sessionVersion = version;
    this.sessionOptions = sessionOptions;
    this.scratch = new Float64Array(cfg.vocabSize);
  }

  /** `threads` may be a number of intra-op threads (default 1) or full session options. */
  static async create(
    config: ModelConfig,
    params: Float32Array,
    version = 0,
    threads: number | SessionOptions = 1,
  ): Promise<DecodeEngine> {
    const cfg = parseModelConfig(config);
    checkParams(buildManifest(cfg), params);
    const proto = toModelProto(buildDecodeGraph(cfg, params), 'lamer-decode');
    const so: SessionOptions = typeof threads === 'number' ? { threads } : threads;
    const session = await createSession(encodeModel(proto), so);
    return new DecodeEngine(cfg, proto, session, version, so);
  }

  get version(): number {
    return this.sessionVersion;
  }

  /** The decode graph's ONNX bytes with these weights (patches initializer bytes; no graph rebuild). */
  onnxBytes(params: Float32Array): Uint8Array {
    checkParams(this.manifest, params);
    const inits = this.proto.graph!.initializer!;
    for (const it of this.initIndex) {
      inits[it.tensorIndex]!.rawData = new Uint8Array(params.buffer, params.byteOffset + it.offset * 4, it.size * 4);
    }
    return encodeModel(this.proto);
  }

  /**
   * Swaps in new weights: builds the new session next to the old one, then switches. Generations already
   * running finish on the session (and version) they started with.
   */
  async setWeights(params: Float32Array, version: number): Promise<void> {
    const next = await createSession(this.onnxBytes(params), this.sessionOptions);
    const old = this.session;
    this.session = next;
    this.sessionVersion = version;
    // Release lazily: a generation holding `old` keeps using it until it returns (GC frees the native session).
    this.retired.push(old);
    this.releaseRetired();
  }

  private retired: Session[] = [];
  private running = 0;
  private releaseRetired(): void {
    if (this.running > 0) return;
    for (const s of this.retired.splice(0)) void releaseSession(s);
  }

  /**
   * Generates for all requests in one batched decode run. `cancel` (element 0 set to 1 by the owner): stop at the
   * next decode step with RL_ERR_TIMEOUT (a deadline that must not terminate the thread; shared/native-guard.ts).
   */
  async generate(reqs: GenRequest[], opts: { cancel?: Int32Array } = {}): Promise<GenResult[]> {
    if (this.closed) throw new LamerError('RL_ERR_INTERNAL', 'DecodeEngine is closed');
    checkGenRequests(this.config, reqs);
    if (reqs.length === 0) return [];
    const session = this.session;
    const version = this.sessionVersion;
    this.running++;
    try {
      return await this.decode(session, version, reqs, opts.cancel);
    } finally {
      this.running--;
      this.releaseRetired();
    }
  }

  private async decode(
    session: Session,
    version: number,
    reqs: GenRequest[],
    cancel?: Int32Array,
  ): Promise<GenResult[]> {
    const cfg = this.config;
    const V = cfg.vocabSize;
    const H = cfg.nHead;
    const dh = headDim(cfg);
    const rows: Row[] = reqs.map((req) => {
      const budget = Math.min(req.maxTokens, cfg.nCtx - req.prompt.length);
      return {
        req,
        rng: new Xoshiro128Rng(req.seed),
        stop: new Set(req.stop),
        budget,
        out: { tokens: [], logprobs: [], rawLogprobs: [], finish: 'length', policyVersion: version },
        done: budget <= 0,
      };
    });
    let live = rows.filter((r) => !r.done);
    if (live.length === 0) return rows.map((r) => r.out);

    // ---- prefill: left-padded prompts; pads are masked out and sit at position 0
    let B = live.length;
    const L = Math.max(...live.map((r) => r.req.prompt.length));
    const ids = new BigInt64Array(B * L);
    const pos = new BigInt64Array(B * L);
    let mask = new BigInt64Array(B * L);
    live.forEach((r, b) => {
      const pad = L - r.req.prompt.length;
      for (let t = pad; t < L; t++) {
        ids[b * L + t] = BigInt(r.req.prompt[t - pad]!);
        pos[b * L + t] = BigInt(t - pad);
        mask[b * L + t] = 1n;
      }
    });
    let maskLen = L;
    const feeds: Record<string, OrtTensor> = {
      input_ids: new OrtTensor('int64', ids, [B, L]),
      position_ids: new OrtTensor('int64', pos, [B, L]),
      attention_mask: new OrtTensor('int64', mask, [B, L]),
    };
    const empty = new Float32Array(0);
    for (let i = 0; i < cfg.nLayer; i++) {
      const n = cacheNames(i);
      feeds[n.pastK] = new OrtTensor('float32', empty, [B, H, 0, dh]);
      feeds[n.pastV] = new OrtTensor('float32', empty, [B, H, 0, dh]);
    }
    let out = await runSession(session, feeds, cancel);
    let logits = out.logits!.data as Float32Array;
    let stride = L; // positions per row in this step's logits
    for (;;) {
      // ---- sample the next token of every live row from its last position
      live.forEach((r, b) => {
        if (r.done) return;
        const s = sampleToken(logits, (b * stride + stride - 1) * V, V, r.req, r.rng, this.scratch);
        r.out.tokens.push(s.token);
        r.out.logprobs.push(s.logprob);
        r.out.rawLogprobs.push(s.rawLogprob);
        if (r.stop.has(s.token)) {
          r.out.finish = 'stop';
          r.done = true;
        } else if (r.out.tokens.length >= r.budget) r.done = true;
      });
      const alive = live.filter((r) => !r.done).length;
      if (alive === 0) break;
      // ---- compact the cache when a quarter of the rows are finished
      let past = (i: number, kind: 'k' | 'v') => out[kind === 'k' ? cacheNames(i).presentK : cacheNames(i).presentV]!;
      if (alive <= (B * 3) / 4) {
        const keep = live.map((r, b) => (r.done ? -1 : b)).filter((b) => b >= 0);
        const per = H * maskLen * dh;
        const compacted = new Map<string, OrtTensor>();
        for (let i = 0; i < cfg.nLayer; i++) {
          for (const kind of ['k', 'v'] as const) {
            const src = past(i, kind).data as Float32Array;
            const dst = new Float32Array(keep.length * per);
            keep.forEach((b, j) => dst.set(src.subarray(b * per, (b + 1) * per), j * per));
            compacted.set(`${i}${kind}`, new OrtTensor('float32', dst, [keep.length, H, maskLen, dh]));
          }
        }
        const m2 = new BigInt64Array(keep.length * maskLen);
        keep.forEach((b, j) => m2.set(mask.subarray(b * maskLen, (b + 1) * maskLen), j * maskLen));
        mask = m2;
        live = keep.map((b) => live[b]!);
        B = live.length;
        past = (i, kind) => compacted.get(`${i}${kind}`)!;
      }
      // ---- one decode step for the batch
      const stepIds = new BigInt64Array(B);
      const stepPos = new BigInt64Array(B);
      const m2 = new BigInt64Array(B * (maskLen + 1));
      live.forEach((r, b) => {
        const k = r.out.tokens.length;
        stepIds[b] = BigInt(r.out.tokens[k - 1]!);
        stepPos[b] = BigInt(r.req.prompt.length + k - 1);
        m2.set(mask.subarray(b * maskLen, (b + 1) * maskLen), b * (maskLen + 1));
        m2[b * (maskLen + 1) + maskLen] = 1n;
      });
      mask = m2;
      maskLen += 1;
      const f: Record<string, OrtTensor> = {
        input_ids: new OrtTensor('int64', stepIds, [B, 1]),
        position_ids: new OrtTensor('int64', stepPos, [B, 1]),
        attention_mask: new OrtTensor('int64', mask, [B, maskLen]),
      };
      for (let i = 0; i < cfg.nLayer; i++) {
        const n = cacheNames(i);
        f[n.pastK] = past(i, 'k');
        f[n.pastV] = past(i, 'v');
      }
      out = await runSession(session, f, cancel);
      logits = out.logits!.data as Float32Array;
      stride = 1;
    }
    return rows.map((r) => r.out);
  }

  private closed = false;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retired.push(this.session);
    this.releaseRetired();
  }
}
