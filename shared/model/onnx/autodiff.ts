/**
 * Reverse-mode autodiff over the nodes a GraphBuilder emitted: one gradient rule per op, emitting the backward
 * nodes into the same graph. Needs static shapes on the differentiated path (the training graph has them).
 *
 * Conventions at non-differentiable points (measure-zero in practice): Max/Min send the whole gradient to the
 * first operand on ties; Clip passes the gradient where lo <= x <= hi (inclusive, like torch.clamp).
 */
import { LamerError } from '../../errors.js';
import { isFloat, staticShape, type Dim, type GraphBuilder, type GraphNode, type Tensor } from './graph.js';

type Grads = Array<Tensor | null>;
type Rule = (b: GraphBuilder, n: GraphNode, gy: Grads, need: boolean[]) => Grads;

function unsupported(msg: string): never {
  throw new LamerError('RL_ERR_INTERNAL', `autodiff: ${msg}`);
}

const sameShape = (a: readonly Dim[], b: readonly Dim[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Sums over the leading `k` axes as ones[1, R]·G[R, C] (R = the leading sizes' product). onnxruntime's ReduceSum
 * over leading axes ran ~3x slower with 2 intra-op threads than with 1 (e.g. [32, 128, 64] → [128, 64]: 0.28 vs
 * 0.08 ms); the MatMul form is as fast single-threaded and scales. Returns shape [C] (flattened trailing dims).
 */
export function sumLeading(b: GraphBuilder, g: Tensor, k: number): Tensor {
  const gs = staticShape(g);
  const R = gs.slice(0, k).reduce((a, c) => a * c, 1);
  const C = gs.slice(k).reduce((a, c) => a * c, 1);
  const ones = b.constant(new Array<number>(R).fill(1), g.dtype, [1, R]);
  return b.reshape(b.matmul(ones, b.reshape(g, [R, C])), [C]);
}

/** Sums a broadcast gradient back to an operand's (static) shape. */
export function unbroadcast(b: GraphBuilder, grad: Tensor, target: readonly Dim[]): Tensor {
  const gs = staticShape(grad);
  const ts = staticShape({ name: '(operand)', dtype: grad.dtype, shape: target });
  if (sameShape(gs, ts)) return grad;
  const lead = gs.length - ts.length;
  if (lead < 0) unsupported(`gradient [${gs}] has lower rank than its operand [${ts}]`);
  const axes: number[] = [];
  for (let i = 0; i < gs.length; i++) {
    if (i < lead) axes.push(i);
    else if (ts[i - lead] === 1 && gs[i] !== 1) axes.push(i);
  }
  // Only leading axes reduced (e.g. a bias over [B, T, N]): the MatMul form.
  const leadingOnly =
    axes.length > 0 &&
    axes.every((a, i) => a === i) &&
    gs.slice(axes.length).every((d, i) => d === ts[ts.length - (gs.length - axes.length) + i]);
  let r = !axes.length ? grad : leadingOnly ? sumLeading(b, grad, axes.length) : b.reduceSum(grad, axes, true);
  if (!sameShape(r.shape, ts)) r = b.reshape(r, ts);
  return r;
}

function zerosLike(b: GraphBuilder, t: Tensor): Tensor {
  return b.constantOfShape(staticShape(t), t.dtype, 0);
}

function zero(b: GraphBuilder, like: Tensor): Tensor {
  return b.scalar(0, like.dtype);
}

function constInts(b: GraphBuilder, t: Tensor | null | undefined, what: string): number[] {
  const v = t ? b.constValue(t) : null;
  if (!v) unsupported(`${what} must be a constant`);
  return v;
}

const lastTwoSwapped = (r: number) => {
  const p = [...Array(r).keys()];
  [p[r - 2], p[r - 1]] = [p[r - 1]!, p[r - 2]!];
  return p;
};

const RULES: Record<string, Rule> = {
  Identity: (_b, _n, [g]) => [g!],
  Add: (b, n, [g], need) => n.inputs.map((x, i) => (need[i] ? unbroadcast(b, g!, x!.shape) : null)),
  Sub: (b, n, [g], need) => [
    need[0] ? unbroadcast(b, g!, n.inputs[0]!.shape) : null,
    need[1] ? b.neg(unbroadcast(b, g!, n.inputs[1]!.shape)) : null,
  ],
  Sum: (b, n, [g], need) => n.inputs.map((x, i) => (need[i] ? unbroadcast(b, g!, x!.shape) : null)),
  Mul: (b, n, [g], need) => {
    const [x, y] = n.inputs as Tensor[];
    return [
      need[0] ? unbroadcast(b, b.mul(g!, y!), x!.shape) : null,
      need[1] ? unbroadcast(b, b.mul(g!, x!), y!.shape) : null,
    ];
  },
  Div: (b, n, [g], need) => {
    const [x, y] = n.inputs as Tensor[];
    const out = n.outputs[0]!;
    return [
      need[0] ? unbroadcast(b, b.div(g!, y!), x!.shape) : null,
      need[1] ? b.neg(unbroadcast(b, b.div(b.mul(g!, out), y!), y!.shape)) : null,
    ];
  },
  Neg: (b, _n, [g]) => [b.neg(g!)],
  Exp: (b, n, [g]) => [b.mul(g!, n.outputs[0]!)],
  Log: (b, n, [g]) => [b.div(g!, n.inputs[0]!)],
  Sqrt: (b, n, [g]) => [b.div(b.mul(g!, b.scalar(0.5, g!.dtype)), n.outputs[0]!)],
  Erf: (b, n, [g]) => {
    const x = n.inputs[0]!;
    const d = b.mul(b.scalar(2 / Math.sqrt(Math.PI), x.dtype), b.exp(b.neg(b.mul(x, x))));
    return [b.mul(g!, d)];
  },
  Max: (b, n, [g], need) => minMax(b, n, g!, need, b.greaterOrEqual(n.inputs[0]!, n.inputs[1]!)),
  Min: (b, n, [g], need) => minMax(b, n, g!, need, b.lessOrEqual(n.inputs[0]!, n.inputs[1]!)),
  Where: (b, n, [g], need) => {
    const [c, x, y] = n.inputs as Tensor[];
    const z = zero(b, g!);
    return [
      null,
      need[1] ? unbroadcast(b, b.where(c!, g!, z), x!.shape) : null,
      need[2] ? unbroadcast(b, b.where(c!, z, g!), y!.shape) : null,
    ];
  },
  Clip: (b, n, [g], need) => {
    const [x, lo, hi] = n.inputs;
    if (need[1] || need[2]) unsupported('Clip bounds must not require gradients');
    let mask: Tensor | null = null;
    if (lo) mask = b.greaterOrEqual(x!, lo);
    if (hi) mask = mask ? b.and(mask, b.lessOrEqual(x!, hi)) : b.lessOrEqual(x!, hi);
    return [mask ? b.where(mask, g!, zero(b, g!)) : g!, null, null];
  },
  MatMul: (b, n, [g], need) => {
    const [x, w] = n.inputs as Tensor[];
    const xs = staticShape(x!);
    const ws = staticShape(w!);
    if (xs.length < 2 || ws.length < 2) unsupported('MatMul gradient needs rank >= 2 operands');
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    if (ws.length === 2 && xs.length > 2) {
      // [.., M, K] x [K, N]: fold the batch into rows; dW = X^T G as one Gemm (no materialised transpose).
      const K = ws[0]!;
      const N = ws[1]!;
      if (need[0]) gx = b.matmul(g!, b.transpose(w!, [1, 0]));
      if (need[1]) gw = b.gemm(b.reshape(x!, [-1, K]), b.reshape(g!, [-1, N]), true, false);
    } else {
      if (need[0]) gx = unbroadcast(b, b.matmul(g!, b.transpose(w!, lastTwoSwapped(ws.length))), xs);
      if (need[1]) gw = unbroadcast(b, b.matmul(b.transpose(x!, lastTwoSwapped(xs.length)), g!), ws);
    }
    return [gx, gw];
  },
  Transpose: (b, n, [g]) => {
    const perm = n.attrs.perm as number[];
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    // A gradient that is itself a fresh transpose (e.g. attention's dKᵀ → dK) is re-emitted as one composed
    // transpose of its source: one pass over the tensor instead of two (the inner node is then dead).
    const src = b.producer(g!);
    if (src?.op === 'Transpose') {
      const p0 = src.attrs.perm as number[];
      const composed = inv.map((i) => p0[i]!);
      return [composed.every((c, i) => c === i) ? src.inputs[0]! : b.transpose(src.inputs[0]!, composed)];
    }
    return [b.transpose(g!, inv)];
  },
  Reshape: (b, n, [g]) => [b.reshape(g!, staticShape(n.inputs[0]!)), null],
  Unsqueeze: (b, n, [g]) => [b.reshape(g!, staticShape(n.inputs[0]!)), null],
  Expand: (b, n, [g]) => [unbroadcast(b, g!, n.inputs[0]!.shape), null],
  Split: (b, n, gs) => {
    const parts = n.outputs.map((o, i) => gs[i] ?? zerosLike(b, o));
    return [b.concat(parts, n.attrs.axis as number), null];
  },
  Concat: (b, n, [g], need) => {
    const axis = n.attrs.axis as number;
    const sizes = n.inputs.map((x) => staticShape(x!)[axis]!);
    const parts = b.split(g!, axis, sizes);
    return parts.map((p, i) => (need[i] ? p : null));
  },
  Slice: (b, n, [g]) => {
    const x = n.inputs[0]!;
    const xs = staticShape(x);
    const starts = constInts(b, n.inputs[1], 'Slice starts');
    const ends = constInts(b, n.inputs[2], 'Slice ends');
    const axes = n.inputs[3] ? constInts(b, n.inputs[3], 'Slice axes') : starts.map((_, i) => i);
    if (n.inputs[4]) {
      const steps = constInts(b, n.inputs[4], 'Slice steps');
      if (steps.some((s) => s !== 1)) unsupported('Slice gradient supports step 1 only');
    }
    const pads = new Array<number>(2 * xs.length).fill(0);
    axes.forEach((a, i) => {
      const ax = a < 0 ? a + xs.length : a;
      const d = xs[ax]!;
      const clamp = (v: number) => Math.max(0, Math.min(d, v < 0 ? v + d : v));
      const s = clamp(starts[i]!);
      const e = Math.max(s, clamp(ends[i]!));
      pads[ax] = s;
      pads[ax + xs.length] = d - e;
    });
    return [b.pad(g!, pads), null, null, null, null];
  },
  Pad: (b, n, [g]) => {
    if ((n.attrs.mode ?? 'constant') !== 'constant') unsupported('Pad gradient supports constant mode only');
    if (n.inputs[3]) unsupported('Pad gradient does not support the axes input');
    const xs = staticShape(n.inputs[0]!);
    const pads = constInts(b, n.inputs[1], 'Pad pads');
    if (pads.some((p) => p < 0)) unsupported('Pad gradient needs non-negative pads');
    const r = xs.length;
    return [
      b.slice(
        g!,
        pads.slice(0, r),
        xs.map((d, i) => pads[i]! + d),
        [...Array(r).keys()],
      ),
      null,
      null,
    ];
  },
  Gather: (b, n, [g], need) => {
    const [data, idx] = n.inputs as Tensor[];
    if (!need[0]) return [null, null];
    if ((n.attrs.axis ?? 0) !== 0) unsupported('Gather gradient supports axis 0 only');
    const ds = staticShape(data!);
    const count = staticShape(idx!).reduce((a, c) => a * c, 1);
    const indices = b.reshape(b.cast(idx!, 'int64'), [count, 1]);
    const updates = b.reshape(g!, [count, ...ds.slice(1)]);
    // Repeated ids must accumulate: ScatterND with reduction=add into zeros.
    return [b.scatterND(zerosLike(b, data!), indices, updates, 'add'), null];
  },
  GatherElements: (b, n, [g], need) => {
    const [data, idx] = n.inputs as Tensor[];
    if (!need[0]) return [null, null];
    return [b.scatterElements(zerosLike(b, data!), idx!, g!, n.attrs.axis as number, 'add'), null];
  },
  Softmax: (b, n, [g]) => {
    const y = n.outputs[0]!;
    const axis = (n.attrs.axis as number | undefined) ?? -1;
    return [b.mul(y, b.sub(g!, b.reduceSum(b.mul(g!, y), [axis], true)))];
  },
  LogSoftmax: (b, n, [g]) => {
    const y = n.outputs[0]!;
    const axis = (n.attrs.axis as number | undefined) ?? -1;
    return [b.sub(g!, b.mul(b.exp(y), b.reduceSum(g!, [axis], true)))];
  },
  ReduceSum: (b, n, [g]) => {
    const x = n.inputs[0]!;
    const xs = staticShape(x);
    return [
      b.expand(
        keepDimsGrad(
          b,
          g!,
          xs,
          n.inputs[1] ? constInts(b, n.inputs[1], 'ReduceSum axes') : xs.map((_, i) => i),
          n.attrs.keepdims !== 0,
        ),
        xs,
      ),
      null,
    ];
  },
  ReduceMean: (b, n, [g]) => {
    const x = n.inputs[0]!;
    const xs = staticShape(x);
    const axes = ((n.attrs.axes as number[] | undefined) ?? xs.map((_, i) => i)).map((a) =>
      a < 0 ? a + xs.length : a,
    );
    const count = axes.reduce((a, ax) => a * xs[ax]!, 1);
    const gk = keepDimsGrad(b, g!, xs, axes, n.attrs.keepdims !== 0);
    return [b.expand(b.mul(gk, b.scalar(1 / count, g!.dtype)), xs)];
  },
  LayerNormalization: (b, n, gs, need) => {
    const [x, scale, bias] = n.inputs as Tensor[];
    const [, mean, invStd] = n.outputs;
    if (!mean || !invStd)
      unsupported('LayerNormalization must be emitted with its Mean/InvStdDev outputs to be differentiated');
    const axis = (n.attrs.axis as number | undefined) ?? -1;
    const xs = staticShape(x!);
    if (axis !== -1 && axis !== xs.length - 1) unsupported('LayerNormalization gradient supports the last axis only');
    const g = gs[0];
    if (!g) return [null, null, null];
    // Without an affine part (scale a constant of ones, no bias) the output is x̂ itself: no recomputation, and
    // dx̂ = dy (the training graph folds the LayerNorm affine into the following linear layer for this).
    const plain = !bias && !need[1] && (b.constValue(scale!)?.every((v) => v === 1) ?? false);
    const xhat = plain ? n.outputs[0]! : b.mul(b.sub(x!, mean), invStd);
    const outer = xs.slice(0, -1).map((_, i) => i);
    const gScale = need[1] ? sumLeading(b, b.mul(g, xhat), outer.length) : null;
    const gBias = need[2] && bias ? sumLeading(b, g, outer.length) : null;
    let gx: Tensor | null = null;
    if (need[0]) {
      const gxhat = plain ? g : b.mul(g, scale!);
      const m2 = b.reduceMean(b.mul(gxhat, xhat), [-1], true);
      // dx = σ⁻¹·(dx̂ − mean(dx̂) − x̂·mean(dx̂ ⊙ x̂)); the mean(dx̂) pass is skipped when dx̂ = G·Wᵀ with W
      // column-centred (GraphBuilder.centerColumns), whose rows have zero mean by construction.
      const centred = gxhat === g && rowsHaveZeroMean(b, g);
      const d = centred ? gxhat : b.sub(gxhat, b.reduceMean(gxhat, [-1], true));
      gx = b.mul(invStd, b.sub(d, b.mul(xhat, m2)));
    }
    return [gx, gScale, gBias];
  },
};

/** True when g = G·Wᵀ (MatMul with a [1, 0]-transposed right operand) and W was built by centerColumns. */
function rowsHaveZeroMean(b: GraphBuilder, g: Tensor): boolean {
  const mm = b.producer(g);
  if (mm?.op !== 'MatMul' || !mm.inputs[1]) return false;
  const t = b.producer(mm.inputs[1]);
  const perm = t?.attrs.perm as number[] | undefined;
  return (
    t?.op === 'Transpose' &&
    perm?.length === 2 &&
    perm[0] === 1 &&
    perm[1] === 0 &&
    b.columnCentered.has(t.inputs[0]!.name)
  );
}

function minMax(b: GraphBuilder, n: GraphNode, g: Tensor, need: boolean[], firstWins: Tensor): Grads {
  const [x, y] = n.inputs as Tensor[];
  const z = zero(b, g);
  return [
    need[0] ? unbroadcast(b, b.where(firstWins, g, z), x!.shape) : null,
    need[1] ? unbroadcast(b, b.where(firstWins, z, g), y!.shape) : null,
  ];
}

function keepDimsGrad(b: GraphBuilder, g: Tensor, xs: number[], axes: number[], keepdims: boolean): Tensor {
  if (keepdims) return g;
  const norm = axes.map((a) => (a < 0 ? a + xs.length : a));
  return b.reshape(
    g,
    xs.map((d, i) => (norm.includes(i) ? 1 : d)),
  );
}

/** Ops with a gradient rule. */
export const DIFFERENTIABLE_OPS: readonly string[] = Object.keys(RULES);

/**
 * Custom-gradient regions (see GraphBuilder.group): the backward pass treats the nodes a region emitted as one
 * op with its own rule, e.g. attention's backward without the [B, H, T, T] row-sum FlashAttention avoids.
 */
export type { GroupRule } from './graph.js';

/**
 * Emits the backward pass of `loss` with respect to `wrt` into `b` and returns one gradient per `wrt` tensor
 * (a zeros tensor where the loss does not depend on it). `seed` is dL/dloss (default 1; must match loss's shape).
 */
export function gradients(b: GraphBuilder, loss: Tensor, wrt: Tensor[], seed?: Tensor): Tensor[] {
  if (!isFloat(loss.dtype)) unsupported('loss must be a float tensor');
  const forward = b.nodes.slice();
  const groups = b.groups.slice();
  const groupAt = new Map<number, (typeof groups)[number]>();
  const inGroup = new Set<number>();
  for (const gr of groups) {
    groupAt.set(gr.end - 1, gr);
    for (let i = gr.start; i < gr.end; i++) inGroup.add(i);
  }
  const requires = new Set(wrt.map((t) => t.name));
  for (const n of forward) {
    if (n.inputs.some((x) => x && requires.has(x.name) && isFloat(x.dtype))) {
      for (const o of n.outputs) if (isFloat(o.dtype)) requires.add(o.name);
    }
  }
  if (!requires.has(loss.name)) unsupported('loss does not depend on any of the tensors to differentiate');
  const acc = new Map<string, Tensor[]>();
  const push = (t: Tensor, gt: Tensor) => {
    if (!sameShape(gt.shape, t.shape))
      unsupported(`gradient [${gt.shape}] does not match its tensor '${t.name}' [${t.shape}]`);
    const list = acc.get(t.name);
    if (list) list.push(gt);
    else acc.set(t.name, [gt]);
  };
  const take = (t: Tensor): Tensor | null => {
    const list = acc.get(t.name);
    if (!list || list.length === 0) return null;
    const s = b.sum(list);
    acc.set(t.name, [s]);
    return s;
  };
  push(loss, seed ?? b.constant([1], loss.dtype, staticShape(loss).length ? staticShape(loss) : []));
  for (let i = forward.length - 1; i >= 0; i--) {
    const gr = groupAt.get(i);
    if (gr) {
      for (let k = gr.start; k < gr.end; k++) {
        for (const o of forward[k]!.outputs) {
          if (o !== gr.output && acc.has(o.name))
            unsupported(`tensor '${o.name}' inside a custom-gradient region is used outside it`);
        }
      }
      const gOut = take(gr.output);
      if (!gOut) continue;
      const need = gr.inputs.map((x) => requires.has(x.name) && isFloat(x.dtype));
      const gx = gr.rule(b, gOut, need);
      gr.inputs.forEach((x, k) => {
        if (need[k] && gx[k]) push(x, gx[k]!);
      });
      continue;
    }
    if (inGroup.has(i)) continue;
    const n = forward[i]!;
    if (!n.outputs.some((o) => requires.has(o.name) && acc.has(o.name))) continue;
    const need = n.inputs.map((x) => !!x && requires.has(x.name) && isFloat(x.dtype));
    if (!need.some(Boolean)) continue;
    const rule = RULES[n.op];
    if (!rule) unsupported(`no gradient rule for op ${n.op}`);
    const gy = n.outputs.map((o) => take(o));
    const gx = rule(b, n, gy, need);
    n.inputs.forEach((x, k) => {
      const gk = gx[k];
      if (x && need[k] && gk) push(x, gk);
    });
  }
  return wrt.map((t) => take(t) ?? zerosLike(b, t));
}
