/**
 * Every gradient rule, on random shapes, against (1) central finite differences of the same ONNX graph run by
 * onnxruntime (float64 where ORT has float64 kernels; Erf and LayerNormalization are float32-only there) and
 * (2) @jax-js/jax's grad of the same function.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, type DType, type Tensor } from '../../../../shared/model/onnx/graph.js';
import { DIFFERENTIABLE_OPS, gradients } from '../../../../shared/model/onnx/autodiff.js';
import { attention, gelu, scaledGelu, CUSTOM_GRADIENT_LAYERS } from '../../../../shared/model/onnx/layers.js';
import { toOnnxBytes } from '../../../../shared/model/onnx/encode.js';
import { createSession, OrtTensor } from '../../../../shared/model/session.js';
import { Xoshiro128Rng } from '../../../../shared/rng.js';
import { grad, jarr, jint, nn, np, scipySpecial, values, type JArray } from '../jax-helpers.js';

type Kind = 'any' | 'positive' | 'nonzero';
interface Case {
  label: string;
  /** Float inputs (all differentiated). */
  inputs: Array<{ shape: number[]; kind?: Kind }>;
  onnx: (b: GraphBuilder, xs: Tensor[], f: DType) => Tensor | Tensor[];
  jax: (xs: JArray[]) => JArray | JArray[];
  /** ORT has no float64 kernel for this op. */
  f32?: boolean;
  /** Reject sampled inputs too close to a kink (FD would straddle it). */
  ok?: (xs: Float64Array[]) => boolean;
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

function sample(rng: Xoshiro128Rng, shape: number[], kind: Kind = 'any'): Float64Array {
  return Float64Array.from({ length: prod(shape) }, () => {
    const u = rng.uniform() * 2 - 1;
    if (kind === 'positive') return 0.3 + 1.5 * rng.uniform();
    if (kind === 'nonzero') return (u < 0 ? -1 : 1) * (0.5 + rng.uniform());
    return u * 1.5;
  });
}

function randShape(rng: Xoshiro128Rng, minRank: number, maxRank: number, maxDim = 4): number[] {
  const r = minRank + Math.floor(rng.uniform() * (maxRank - minRank + 1));
  return Array.from({ length: r }, () => 1 + Math.floor(rng.uniform() * maxDim));
}

/** A shape that broadcasts against `s`: a random suffix with random dims set to 1. */
function broadcastPartner(rng: Xoshiro128Rng, s: number[]): number[] {
  const keep = Math.floor(rng.uniform() * (s.length + 1));
  return s.slice(s.length - keep).map((d) => (rng.uniform() < 0.35 ? 1 : d));
}

const int = (rng: Xoshiro128Rng, n: number) => Math.floor(rng.uniform() * n);

async function runCase(c: Case, rng: Xoshiro128Rng): Promise<void> {
  const f: DType = c.f32 ? 'float32' : 'float64';
  let xs: Float64Array[];
  let tries = 0;
  do xs = c.inputs.map((i) => sample(rng, i.shape, i.kind));
  while (c.ok && !c.ok(xs) && ++tries < 200);

  // ---- ONNX: L = Σ_k Σ out_k ⊙ R_k, and its gradient by our autodiff
  const b = new GraphBuilder(f);
  const ins = c.inputs.map((i, k) => b.input(`x${k}`, f, i.shape));
  const raw = c.onnx(b, ins, f);
  const outs = Array.isArray(raw) ? raw : [raw];
  const Rs = outs.map((o) => sample(rng, o.shape as number[]));
  const terms = outs.map((o, k) =>
    b.reduceSum(
      b.mul(o, b.constant(Rs[k]!, f, o.shape as number[])),
      o.shape.map((_, i) => i),
      false,
    ),
  );
  const L = b.sum(terms);
  b.output(L, 'L');
  const gs = gradients(b, L, ins);
  gs.forEach((g, k) => b.output(g, `g${k}`));
  const session = await createSession(toOnnxBytes(b));
  const feeds = (vals: Float64Array[]) =>
    Object.fromEntries(
      vals.map((v, k) => [`x${k}`, new OrtTensor(f, f === 'float64' ? v : Float32Array.from(v), c.inputs[k]!.shape)]),
    );
  const res = await session.run(feeds(xs));
  const ours = c.inputs.map((_, k) => Float64Array.from(res[`g${k}`]!.data as Float64Array));

  // ---- finite differences of the same graph
  const h = f === 'float64' ? 1e-6 : 1e-2;
  for (let k = 0; k < xs.length; k++) {
    for (let i = 0; i < xs[k]!.length; i++) {
      const plus = xs.map((v) => v.slice());
      const minus = xs.map((v) => v.slice());
      plus[k]![i]! += h;
      minus[k]![i]! -= h;
      const lp = Number((await session.run(feeds(plus))).L!.data[0]);
      const lm = Number((await session.run(feeds(minus))).L!.data[0]);
      const fd = (lp - lm) / (2 * h);
      const tol = f === 'float64' ? 1e-6 : 2e-2;
      expect(
        Math.abs(fd - ours[k]![i]!),
        `${c.label}: FD d/dx${k}[${i}] = ${fd}, ours ${ours[k]![i]}`,
      ).toBeLessThanOrEqual(tol * (1 + Math.abs(fd)));
    }
  }

  // ---- jax-js
  const jf = (...args: JArray[]) => {
    const r = c.jax(args);
    const list = Array.isArray(r) ? r : [r];
    return list.map((o, k) => o.mul(jarr(Rs[k]!, o.shape, f as 'float64')).sum()).reduce((a, t) => a.add(t));
  };
  const argnums = c.inputs.map((_, k) => k);
  const jg = grad(jf, { argnums }).apply(
    null,
    xs.map((v, k) => jarr(v, c.inputs[k]!.shape, f as 'float64')),
  ) as unknown as JArray[];
  jg.forEach((g, k) => {
    const jv = values(g);
    // float64: exp in ORT and jax-js differ at ~5e-8 relative (vectorised approximations), hence 1e-7.
    const tol = f === 'float64' ? 1e-7 : 1e-4;
    for (let i = 0; i < jv.length; i++) {
      expect(
        Math.abs(jv[i]! - ours[k]![i]!),
        `${c.label}: jax d/dx${k}[${i}] = ${jv[i]}, ours ${ours[k]![i]}`,
      ).toBeLessThanOrEqual(tol * (1 + Math.abs(jv[i]!)));
    }
  });
}

type Gen = (rng: Xoshiro128Rng) => Case;

const binaryGen =
  (op: 'Add' | 'Sub' | 'Mul' | 'Div' | 'Max' | 'Min'): Gen =>
  (rng) => {
    const a = randShape(rng, 1, 4);
    let bs = broadcastPartner(rng, a);
    let as = a;
    if (rng.uniform() < 0.5) [as, bs] = [bs, as];
    const jaxOp = { Add: np.add, Sub: np.subtract, Mul: np.multiply, Div: np.divide, Max: np.maximum, Min: np.minimum }[
      op
    ];
    return {
      label: `${op} [${as}] ⊕ [${bs}]`,
      inputs: [{ shape: as }, { shape: bs, kind: op === 'Div' ? 'nonzero' : 'any' }],
      onnx: (b, [x, y]) =>
        ({ Add: b.add, Sub: b.sub, Mul: b.mul, Div: b.div, Max: b.max, Min: b.min })[op].call(b, x!, y!),
      jax: ([x, y]) => jaxOp(x!, y!) as JArray,
      // Max/Min: no pair of broadcast-matched values within 1e-3 of each other (FD would straddle the kink).
      ok:
        op === 'Max' || op === 'Min'
          ? ([x, y]) => {
              const bx = np.broadcastTo(jarr(x!, as), np.broadcastShapes(as, bs)) as JArray;
              const by = np.broadcastTo(jarr(y!, bs), np.broadcastShapes(as, bs)) as JArray;
              const d = values(np.abs(bx.sub(by)) as JArray);
              return d.every((v) => v > 1e-3);
            }
          : undefined,
    };
  };

const unaryGen =
  (op: 'Neg' | 'Exp' | 'Log' | 'Sqrt' | 'Erf' | 'Identity'): Gen =>
  (rng) => {
    const s = randShape(rng, 1, 3);
    return {
      label: `${op} [${s}]`,
      inputs: [{ shape: s, kind: op === 'Log' || op === 'Sqrt' ? 'positive' : 'any' }],
      onnx: (b, [x]) =>
        ({ Neg: b.neg, Exp: b.exp, Log: b.log, Sqrt: b.sqrt, Erf: b.erf, Identity: b.identity })[op].call(b, x!),
      jax: ([x]) =>
        ({
          Neg: np.negative,
          Exp: np.exp,
          Log: np.log,
          Sqrt: np.sqrt,
          Erf: scipySpecial.erf,
          Identity: (v: JArray) => v,
        })[op](x!) as JArray,
      f32: op === 'Erf',
    };
  };

function permutation(rng: Xoshiro128Rng, n: number): number[] {
  const p = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = int(rng, i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

const GENS: Record<string, Gen[]> = {
  Add: [binaryGen('Add')],
  Sub: [binaryGen('Sub')],
  Mul: [binaryGen('Mul')],
  Div: [binaryGen('Div')],
  Max: [binaryGen('Max')],
  Min: [binaryGen('Min')],
  Neg: [unaryGen('Neg')],
  Exp: [unaryGen('Exp')],
  Log: [unaryGen('Log')],
  Sqrt: [unaryGen('Sqrt')],
  Erf: [unaryGen('Erf')],
  Identity: [unaryGen('Identity')],
  Sum: [
    (rng) => {
      const s = randShape(rng, 1, 3);
      const t = broadcastPartner(rng, s);
      return {
        label: `Sum [${s}] [${t}] [${s}]`,
        inputs: [{ shape: s }, { shape: t }, { shape: s }],
        onnx: (b, xs) => b.sum(xs),
        jax: ([x, y, z]) => x!.add(y!).add(z!),
      };
    },
  ],
  Where: [
    (rng) => {
      const s = randShape(rng, 1, 3);
      const t = broadcastPartner(rng, s);
      const cs = broadcastPartner(rng, s);
      const cond = Array.from({ length: prod(cs) }, () => (rng.uniform() < 0.5 ? 1 : 0));
      return {
        label: `Where cond [${cs}] x [${s}] y [${t}]`,
        inputs: [{ shape: s }, { shape: t }],
        onnx: (b, [x, y]) => b.where(b.cast(b.constant(cond, 'int32', cs), 'bool'), x!, y!),
        jax: ([x, y]) => np.where(jint(cond, cs).greater(0), x!, y!) as JArray,
      };
    },
  ],
  Clip: [
    (rng) => {
      const s = randShape(rng, 1, 3);
      return {
        label: `Clip [${s}] to [-0.7, 0.9]`,
        inputs: [{ shape: s }],
        onnx: (b, [x], f) => b.clip(x!, b.scalar(-0.7, f), b.scalar(0.9, f)),
        jax: ([x]) => np.clip(x!, -0.7, 0.9) as JArray,
        ok: ([x]) => x!.every((v) => Math.abs(v + 0.7) > 1e-3 && Math.abs(v - 0.9) > 1e-3),
      };
    },
  ],
  MatMul: [
    (rng) => {
      // batched with broadcast batch dims: [B1, 1, M, K] x [B2, K, N]
      const [B1, B2, M, K, N] = [1 + int(rng, 3), 1 + int(rng, 3), 1 + int(rng, 4), 1 + int(rng, 4), 1 + int(rng, 4)];
      const as = [B1!, 1, M!, K!];
      const bs = [B2!, K!, N!];
      return {
        label: `MatMul [${as}] x [${bs}]`,
        inputs: [{ shape: as }, { shape: bs }],
        onnx: (b, [x, y]) => b.matmul(x!, y!),
        // jax-js 0.1.25 mis-broadcasts batch dims in matmul; broadcast explicitly (same gradient).
        jax: ([x, y]) =>
          np.matmul(np.broadcastTo(x!, [B1!, B2!, M!, K!]), np.broadcastTo(y!, [B1!, B2!, K!, N!])) as JArray,
      };
    },
    (rng) => {
      // [B, T, K] x [K, N]: the Gemm path of the rule
      const s = [1 + int(rng, 3), 1 + int(rng, 4), 1 + int(rng, 5)];
      const N = 1 + int(rng, 4);
      return {
        label: `MatMul [${s}] x [${s[2]},${N}]`,
        inputs: [{ shape: s }, { shape: [s[2]!, N] }],
        onnx: (b, [x, y]) => b.matmul(x!, y!),
        jax: ([x, y]) => np.matmul(x!, y!) as JArray,
      };
    },
    (rng) => {
      const [M, K, N] = [1 + int(rng, 4), 1 + int(rng, 4), 1 + int(rng, 4)];
      return {
        label: `MatMul [${M},${K}] x [${K},${N}]`,
        inputs: [{ shape: [M, K] }, { shape: [K, N] }],
        onnx: (b, [x, y]) => b.matmul(x!, y!),
        jax: ([x, y]) => np.matmul(x!, y!) as JArray,
      };
    },
  ],
  Transpose: [
    (rng) => {
      const s = randShape(rng, 2, 4);
      const perm = permutation(rng, s.length);
      return {
        label: `Transpose [${s}] perm [${perm}]`,
        inputs: [{ shape: s }],
        onnx: (b, [x]) => b.transpose(x!, perm),
        jax: ([x]) => np.transpose(x!, perm) as JArray,
      };
    },
  ],
  Reshape: [
    (rng) => {
      const s = randShape(rng, 2, 4);
      const n = prod(s);
      const target = rng.uniform() < 0.5 ? [n] : [s[0]!, -1];
      const concrete = target.length === 1 ? [n] : [s[0]!, n / s[0]!];
      return {
        label: `Reshape [${s}] → [${target}]`,
        inputs: [{ shape: s }],
        onnx: (b, [x]) => b.reshape(x!, target),
        jax: ([x]) => np.reshape(x!, concrete) as JArray,
      };
    },
  ],
  Unsqueeze: [
    (rng) => {
      const s = randShape(rng, 1, 3);
      const ax = int(rng, s.length + 1);
      const out = [...s.slice(0, ax), 1, ...s.slice(ax)];
      return {
        label: `Unsqueeze [${s}] at ${ax}`,
        inputs: [{ shape: s }],
        onnx: (b, [x]) => b.unsqueeze(x!, [ax]),
        jax: ([x]) => np.reshape(x!, out) as JArray,
      };
    },
  ],
  Expand: [
    (rng) => {
      const s = randShape(rng, 2, 3);
      const small = s.map((d) => (rng.uniform() < 0.5 ? 1 : d));
      return {
        label: `Expand [${small}] → [${s}]`,
        inputs: [{ shape: small }],
        onnx: (b, [x]) => b.expand(x!, s),
        jax: ([x]) => np.broadcastTo(x!, s) as JArray,
      };
    },
  ],
  Split: [
    (rng) => {
      const s = randShape(rng, 1, 3);
      const ax = int(rng, s.length);
      s[ax] = 3 + int(rng, 3);
      const first = 1 + int(rng, s[ax]! - 2);
      const sizes = [first, 1, s[ax]! - first - 1];
      return {
        // the middle part is unused: its gradient must be zeros
        label: `Split [${s}] axis ${ax} sizes [${sizes}]`,
        inputs: [{ shape: s }],
        onnx: (b, [x]) => {
          const p = b.split(x!, ax, sizes);
          return [p[0]!, p[2]!];
        },
        jax: ([x]) => {
          const p = np.split(x!, [first, first + 1], ax) as JArray[];
          p[1]!.dispose();
          return [p[0]!, p[2]!];
        },
      };
    },
  ],
  Concat: [
    (rng) => {
      const s = randShape(rng, 1, 3);
      const ax = int(rng, s.length);
      const t = [...s];
      t[ax] = 1 + int(rng, 3);
      return {
        label: `Concat [${s}] [${t}] axis ${ax}`,
        inputs: [{ shape: s }, { shape: t }],
        onnx: (b, xs) => b.concat(xs, ax),
        jax: (xs) => np.concatenate(xs, ax) as JArray,
      };
    },
  ],
  Slice: [
    (rng) => {
      const s = randShape(rng, 1, 3, 5).map((d) => d + 1);
      const ax = int(rng, s.length);
      const d = s[ax]!;
      const start = int(rng, d - 1);
      const end = start + 1 + int(rng, d - start);
      const negEnd = rng.uniform() < 0.5 && end < d ? end - d : end;
      const idx: Array<[] | [number, number]> = s.map(() => [] as []);
      idx[ax] = [start, end];
      return {
        label: `Slice [${s}] axis ${ax} [${start}:${negEnd}]`,
        inputs: [{ shape: s }],
        onnx: (b, [x]) => b.slice(x!, [start], [negEnd], [ax]),
        jax: ([x]) => x!.slice(...idx),
      };
    },
  ],
  Pad: [
    (rng) => {
      const s = randShape(rng, 1, 3);
      const pads = [...s.map(() => int(rng, 3)), ...s.map(() => int(rng, 3))];
      return {
        label: `Pad [${s}] pads [${pads}]`,
        inputs: [{ shape: s }],
        onnx: (b, [x]) => b.pad(x!, pads),
        jax: ([x]) =>
          np.pad(
            x!,
            s.map((_, i) => [pads[i]!, pads[i + s.length]!] as [number, number]),
          ) as JArray,
      };
    },
  ],
  Gather: [
    (rng) => {
      const V = 2 + int(rng, 4);
      const rest = randShape(rng, 1, 2);
      const is = randShape(rng, 1, 2, 5);
      const idx = Array.from({ length: prod(is) }, () => int(rng, V)); // repeats are likely: they must accumulate
      return {
        label: `Gather [${V},${rest}] idx [${is}]`,
        inputs: [{ shape: [V, ...rest] }],
        onnx: (b, [x]) => b.gather(x!, b.constant(idx, 'int32', is), 0),
        jax: ([x]) => np.take(x!, jint(idx, is), 0) as JArray,
      };
    },
  ],
  GatherElements: [
    (rng) => {
      const s = randShape(rng, 2, 3).map((d) => d + 1);
      const ax = int(rng, s.length);
      const is = [...s];
      is[ax] = 1 + int(rng, 4);
      const idx = Array.from({ length: prod(is) }, () => int(rng, s[ax]!));
      return {
        label: `GatherElements [${s}] axis ${ax} idx [${is}]`,
        inputs: [{ shape: s }],
        onnx: (b, [x]) => b.gatherElements(x!, b.constant(idx, 'int32', is), ax),
        jax: ([x]) => np.takeAlongAxis(x!, jint(idx, is), ax) as JArray,
      };
    },
  ],
  Softmax: [
    (rng) => {
      const s = randShape(rng, 1, 3).map((d) => d + 1);
      const ax = int(rng, s.length);
      return {
        label: `Softmax [${s}] axis ${ax}`,
        inputs: [{ shape: s }],
        onnx: (b, [x]) => b.softmax(x!, ax),
        jax: ([x]) => nn.softmax(x!, ax) as JArray,
      };
    },
  ],
  LogSoftmax: [
    (rng) => {
      const s = randShape(rng, 1, 3).map((d) => d + 1);
      const ax = int(rng, s.length);
      return {
        label: `LogSoftmax [${s}] axis ${ax}`,
        inputs: [{ shape: s }],
        onnx: (b, [x]) => b.logSoftmax(x!, ax),
        jax: ([x]) => nn.logSoftmax(x!, ax) as JArray,
      };
    },
  ],
  ReduceSum: [
    (rng) => {
      const s = randShape(rng, 1, 3);
      const axes = s.map((_, i) => i).filter(() => rng.uniform() < 0.6);
      if (axes.length === 0) axes.push(0);
      const keep = rng.uniform() < 0.5;
      return {
        label: `ReduceSum [${s}] axes [${axes}] keepdims ${keep}`,
        inputs: [{ shape: s }],
        onnx: (b, [x]) => b.reduceSum(x!, axes, keep),
        jax: ([x]) => np.sum(x!, axes, { keepdims: keep }) as JArray,
      };
    },
  ],
  ReduceMean: [
    (rng) => {
      const s = randShape(rng, 1, 3);
      const axes = s.map((_, i) => i).filter(() => rng.uniform() < 0.6);
      if (axes.length === 0) axes.push(s.length - 1);
      const keep = rng.uniform() < 0.5;
      return {
        label: `ReduceMean [${s}] axes [${axes}] keepdims ${keep}`,
        inputs: [{ shape: s }],
        onnx: (b, [x]) => b.reduceMean(x!, axes, keep),
        jax: ([x]) => np.mean(x!, axes, { keepdims: keep }) as JArray,
      };
    },
  ],
  LayerNormalization: [
    (rng) => {
      const s = randShape(rng, 1, 2);
      const d = 2 + int(rng, 5);
      const shape = [...s, d];
      return {
        label: `LayerNormalization [${shape}]`,
        inputs: [{ shape }, { shape: [d] }, { shape: [d] }],
        f32: true,
        onnx: (b, [x, g, be]) => b.layerNorm(x!, g!, be!, 1e-5, true).y,
        jax: ([x, g, be]) => {
          const mu = np.mean(x!.ref, -1, { keepdims: true });
          const xc = x!.sub(mu);
          const v = np.mean(xc.ref.mul(xc.ref), -1, { keepdims: true });
          return xc
            .div(np.sqrt(v.add(1e-5)))
            .mul(g!)
            .add(be!);
        },
      };
    },
  ],
};

// Custom-gradient layers, differentiated as a unit.
GENS.attention = [
  (rng) => {
    const [B, H, Tq, dh] = [1 + int(rng, 2), 1 + int(rng, 3), 1 + int(rng, 4), 1 + int(rng, 4)];
    const Tk = Tq + int(rng, 3); // a KV cache longer than the queries
    const bias = Array.from({ length: Tq * Tk }, (_, k) => (Math.floor(k / Tk) + (Tk - Tq) >= k % Tk ? 0 : -1e9));
    const qs = [B, H, Tq, dh];
    const ks = [B, H, Tk, dh];
    return {
      label: `attention q [${qs}] k/v [${ks}] (causal)`,
      inputs: [{ shape: qs }, { shape: ks }, { shape: ks }],
      onnx: (b, [q, k, v], f) => attention(b, q!, k!, v!, b.constant(bias, f, [Tq, Tk])),
      jax: ([q, k, v]) =>
        np.matmul(nn.softmax(np.matmul(q!, k!.transpose([0, 1, 3, 2])).add(jarr(bias, [Tq, Tk])), -1), v!) as JArray,
    };
  },
];
GENS.gelu = [
  (rng) => {
    const s = randShape(rng, 1, 3);
    return {
      label: `gelu [${s}]`,
      inputs: [{ shape: s }],
      f32: true,
      onnx: (b, [x]) => gelu(b, x!),
      jax: ([x]) => x!.ref.mul(0.5).mul((scipySpecial.erf(x!.mul(Math.SQRT1_2)) as JArray).add(1)),
    };
  },
];

GENS.scaledGelu = [
  (rng) => {
    const s = randShape(rng, 1, 3);
    return {
      label: `scaledGelu [${s}]`,
      inputs: [{ shape: s }],
      f32: true,
      onnx: (b, [u]) => scaledGelu(b, u!),
      jax: ([u]) => u!.ref.mul((scipySpecial.erf(u!) as JArray).add(1)),
    };
  },
];

describe('gradient rules', () => {
  it('has a test generator for every rule and custom-gradient layer', () => {
    expect(Object.keys(GENS).sort()).toEqual([...DIFFERENTIABLE_OPS, ...CUSTOM_GRADIENT_LAYERS].sort());
  });

  const CASES_PER_GEN = 3;
  for (const [op, gens] of Object.entries(GENS)) {
    it(`${op}: matches finite differences and jax-js on random shapes`, async () => {
      const rng = new Xoshiro128Rng(op.split('').reduce((a, ch) => a * 31 + ch.charCodeAt(0), 7));
      for (const gen of gens) for (let i = 0; i < CASES_PER_GEN; i++) await runCase(gen(rng), rng);
    });
  }
});
