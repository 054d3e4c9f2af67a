/**
 * A small ONNX graph builder (opset 17, standard ops only). Every op method emits one node and infers the
 * output dtype and shape, so the autodiff (autodiff.ts) can reason about broadcasting. Shapes may hold
 * symbolic dims (strings) for graphs with dynamic batch/sequence sizes; the training graph is fully static.
 */
import { LamerError } from '../../errors.js';

export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'bool';
export type Dim = number | string;

/** A value in the graph. */
export interface Tensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

/** A float attribute (plain numbers are int attributes, number[] are ints). */
export class FloatAttr {
  constructor(readonly value: number) {}
}
/** A tensor-valued attribute (e.g. ConstantOfShape's value). */
export class TensorAttr {
  constructor(
    readonly dtype: DType,
    readonly values: number[],
  ) {}
}
export type Attr = number | number[] | string | FloatAttr | TensorAttr;

export interface GraphNode {
  op: string;
  /** `null` marks an omitted optional input. */
  inputs: Array<Tensor | null>;
  outputs: Tensor[];
  attrs: Record<string, Attr>;
}

/** Backward rule of a custom-gradient region: output gradient → one gradient (or null) per region input. */
export type GroupRule = (b: GraphBuilder, g: Tensor, need: boolean[]) => Array<Tensor | null>;

/** A region of nodes [start, end) differentiated as one op (see GraphBuilder.group). */
export interface GradGroup {
  start: number;
  end: number;
  inputs: Tensor[];
  output: Tensor;
  rule: GroupRule;
}

export type ConstData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface Initializer {
  tensor: Tensor;
  data: ConstData;
}

export const isFloat = (t: DType): boolean => t === 'float32' || t === 'float64';

function internal(msg: string): never {
  throw new LamerError('RL_ERR_INTERNAL', `graph builder: ${msg}`);
}

export function numel(shape: readonly Dim[]): number | null {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}

/** Static shape or a clear internal error (the autodiff needs static shapes). */
export function staticShape(t: Tensor): number[] {
  if (!t.shape.every((d) => typeof d === 'number')) internal(`tensor '${t.name}' has a dynamic shape [${t.shape}]`);
  return t.shape as number[];
}

export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly inputs: Tensor[] = [];
  readonly outputs: Tensor[] = [];
  readonly initializers: Initializer[] = [];
  readonly groups: GradGroup[] = [];
  /** Values of constants (initializers), so gradient rules can read e.g. Slice bounds. */
  readonly constants = new Map<string, ConstData>();
  private readonly producers = new Map<string, GraphNode>();
  /** Tensors built by `centerColumns` (every column sums to zero); gradient rules may rely on it. */
  readonly columnCentered = new Set<string>();
  private readonly names = new Set<string>();
  private counter = 0;
  private symCounter = 0;

  /** @param float the float dtype used for constants created by the model code. */
  constructor(readonly float: 'float32' | 'float64' = 'float32') {}

  private fresh(hint: string): string {
    let name: string;
    do name = `${hint}_${this.counter++}`;
    while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) internal(`duplicate tensor name '${name}'`);
    this.names.add(name);
    return name;
  }

  /** A new symbolic dim for sizes the builder cannot infer. */
  sym(): string {
    return `?${this.symCounter++}`;
  }

  input(name: string, dtype: DType, shape: Dim[]): Tensor {
    const t = { name: this.claim(name), dtype, shape };
    this.inputs.push(t);
    return t;
  }

  /** Marks a tensor as a graph output under `name` (adds an Identity when the name differs). */
  output(t: Tensor, name?: string): Tensor {
    let out = t;
    if (name && name !== t.name) {
      out = { name: this.claim(name), dtype: t.dtype, shape: t.shape };
      this.nodes.push({ op: 'Identity', inputs: [t], outputs: [out], attrs: {} });
    }
    this.outputs.push(out);
    return out;
  }

  /** A named initializer (e.g. a weight baked into an inference graph). */
  initializer(name: string, dtype: DType, shape: number[], data: ConstData): Tensor {
    if (numel(shape) !== data.length)
      internal(`initializer '${name}' shape [${shape}] does not match ${data.length} values`);
    const t = { name: this.claim(name), dtype, shape };
    this.initializers.push({ tensor: t, data });
    this.constants.set(t.name, data);
    return t;
  }

  /** An anonymous constant. */
  constant(values: ArrayLike<number> | ConstData, dtype: DType, shape: number[]): Tensor {
    let data: ConstData;
    if (dtype === 'float32') data = Float32Array.from(values as ArrayLike<number>);
    else if (dtype === 'float64') data = Float64Array.from(values as ArrayLike<number>);
    else if (dtype === 'int32') data = Int32Array.from(values as ArrayLike<number>);
    else if (dtype === 'int64')
      data =
        values instanceof BigInt64Array
          ? values
          : BigInt64Array.from(Array.from(values as ArrayLike<number>, (v) => BigInt(v)));
    else data = Uint8Array.from(values as ArrayLike<number>);
    const name = this.fresh('const');
    this.names.delete(name);
    return this.initializer(name, dtype, shape, data);
  }

  scalar(v: number, dtype: DType = this.float): Tensor {
    return this.constant([v], dtype, []);
  }

  ints(values: number[]): Tensor {
    return this.constant(values, 'int64', [values.length]);
  }

  /**
   * W − mean(W, axis 0): every column sums to zero, so for any G the rows of G·Wᵀ have zero mean. Recorded so
   * the LayerNorm gradient rule can drop its mean-subtraction when its incoming gradient has that form.
   */
  centerColumns(w: Tensor): Tensor {
    const c = this.sub(w, this.reduceMean(w, [0], true));
    this.columnCentered.add(c.name);
    return c;
  }

  /** The node that computed `t` (undefined for inputs and constants). */
  producer(t: Tensor): GraphNode | undefined {
    return this.producers.get(t.name);
  }

  /** Reads a constant's values (for rules that need static attributes passed as inputs). */
  constValue(t: Tensor): number[] | null {
    const d = this.constants.get(t.name);
    if (!d) return null;
    return Array.from(d as ArrayLike<number | bigint>, (v) => Number(v));
  }

  /** Emits a node; `shapes`/`dtypes` describe the outputs. */
  node(
    op: string,
    inputs: Array<Tensor | null>,
    attrs: Record<string, Attr>,
    outs: Array<{ dtype: DType; shape: Dim[] }>,
    hint = op.toLowerCase(),
  ): Tensor[] {
    const outputs = outs.map((o) => ({ name: this.fresh(hint), dtype: o.dtype, shape: o.shape }));
    const n = { op, inputs, outputs, attrs };
    this.nodes.push(n);
    for (const o of outputs) this.producers.set(o.name, n);
    return outputs;
  }

  private one(
    op: string,
    inputs: Array<Tensor | null>,
    attrs: Record<string, Attr>,
    dtype: DType,
    shape: Dim[],
  ): Tensor {
    return this.node(op, inputs, attrs, [{ dtype, shape }])[0]!;
  }

  /**
   * Emits `body` as a custom-gradient region: the forward nodes stay ordinary ONNX ops, but the autodiff uses
   * `rule` (built from the region's saved tensors) instead of differentiating node by node. Tensors created
   * inside must not be used outside except the output.
   */
  group<S extends { output: Tensor }>(inputs: Tensor[], body: () => S, rule: (saved: S) => GroupRule): Tensor {
    const start = this.nodes.length;
    const saved = body();
    this.groups.push({ start, end: this.nodes.length, inputs, output: saved.output, rule: rule(saved) });
    return saved.output;
  }

  /** Drops nodes whose outputs reach no graph output (e.g. unused optional outputs of the backward pass). */
  prune(): void {
    const live = new Set(this.outputs.map((t) => t.name));
    const keep: boolean[] = new Array(this.nodes.length).fill(false);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i]!;
      if (n.outputs.some((o) => live.has(o.name))) {
        keep[i] = true;
        for (const x of n.inputs) if (x) live.add(x.name);
      }
    }
    const kept = this.nodes.filter((_, i) => keep[i]);
    this.nodes.length = 0;
    this.nodes.push(...kept);
    this.groups.length = 0; // node indices changed; regions matter only before differentiation
    const used = this.initializers.filter((i) => live.has(i.tensor.name));
    this.initializers.length = 0;
    this.initializers.push(...used);
  }

  // ---- shape helpers -------------------------------------------------------------------------------------

  broadcastShape(a: readonly Dim[], b: readonly Dim[]): Dim[] {
    const n = Math.max(a.length, b.length);
    const out: Dim[] = [];
    for (let i = 0; i < n; i++) {
      const x = a[a.length - n + i] ?? 1;
      const y = b[b.length - n + i] ?? 1;
      if (x === y) out.push(x);
      else if (x === 1) out.push(y);
      else if (y === 1) out.push(x);
      else if (typeof x === 'number' && typeof y === 'number') internal(`cannot broadcast [${a}] with [${b}]`);
      else out.push(typeof x === 'number' ? x : typeof y === 'number' ? y : this.sym());
    }
    return out;
  }

  private same(a: Tensor, b: Tensor, op: string): void {
    if (a.dtype !== b.dtype) internal(`${op}: dtype mismatch ${a.dtype} vs ${b.dtype} ('${a.name}', '${b.name}')`);
  }

  // ---- elementwise ---------------------------------------------------------------------------------------

  private binary(op: string, a: Tensor, b: Tensor): Tensor {
    this.same(a, b, op);
    return this.one(op, [a, b], {}, a.dtype, this.broadcastShape(a.shape, b.shape));
  }
  add(a: Tensor, b: Tensor): Tensor {
    return this.binary('Add', a, b);
  }
  sub(a: Tensor, b: Tensor): Tensor {
    return this.binary('Sub', a, b);
  }
  mul(a: Tensor, b: Tensor): Tensor {
    return this.binary('Mul', a, b);
  }
  div(a: Tensor, b: Tensor): Tensor {
    return this.binary('Div', a, b);
  }
  max(a: Tensor, b: Tensor): Tensor {
    return this.binary('Max', a, b);
  }
  min(a: Tensor, b: Tensor): Tensor {
    return this.binary('Min', a, b);
  }
  /** Variadic sum of same-dtype tensors (broadcasting). */
  sum(xs: Tensor[]): Tensor {
    if (xs.length === 1) return xs[0]!;
    let shape = xs[0]!.shape as Dim[];
    for (const x of xs.slice(1)) {
      this.same(xs[0]!, x, 'Sum');
      shape = this.broadcastShape(shape, x.shape);
    }
    return this.one('Sum', xs, {}, xs[0]!.dtype, shape);
  }

  private compare(op: string, a: Tensor, b: Tensor): Tensor {
    this.same(a, b, op);
    return this.one(op, [a, b], {}, 'bool', this.broadcastShape(a.shape, b.shape));
  }
  greaterOrEqual(a: Tensor, b: Tensor): Tensor {
    return this.compare('GreaterOrEqual', a, b);
  }
  lessOrEqual(a: Tensor, b: Tensor): Tensor {
    return this.compare('LessOrEqual', a, b);
  }
  greater(a: Tensor, b: Tensor): Tensor {
    return this.compare('Greater', a, b);
  }
  less(a: Tensor, b: Tensor): Tensor {
    return this.compare('Less', a, b);
  }
  and(a: Tensor, b: Tensor): Tensor {
    return this.compare('And', a, b);
  }

  private unary(op: string, x: Tensor): Tensor {
    return this.one(op, [x], {}, x.dtype, [...x.shape]);
  }
  neg(x: Tensor): Tensor {
    return this.unary('Neg', x);
  }
  abs(x: Tensor): Tensor {
    return this.unary('Abs', x);
  }
  exp(x: Tensor): Tensor {
    return this.unary('Exp', x);
  }
  log(x: Tensor): Tensor {
    return this.unary('Log', x);
  }
  erf(x: Tensor): Tensor {
    return this.unary('Erf', x);
  }
  sqrt(x: Tensor): Tensor {
    return this.unary('Sqrt', x);
  }
  identity(x: Tensor): Tensor {
    return this.unary('Identity', x);
  }

  where(cond: Tensor, x: Tensor, y: Tensor): Tensor {
    this.same(x, y, 'Where');
    return this.one(
      'Where',
      [cond, x, y],
      {},
      x.dtype,
      this.broadcastShape(cond.shape, this.broadcastShape(x.shape, y.shape)),
    );
  }

  /** Clip with scalar tensor bounds (either may be null). */
  clip(x: Tensor, lo: Tensor | null, hi: Tensor | null): Tensor {
    return this.one('Clip', [x, lo, hi], {}, x.dtype, [...x.shape]);
  }

  cast(x: Tensor, to: DType): Tensor {
    if (x.dtype === to) return x;
    return this.one('Cast', [x], { to: ONNX_DTYPE[to] }, to, [...x.shape]);
  }

  // ---- linear algebra ------------------------------------------------------------------------------------

  matmul(a: Tensor, b: Tensor): Tensor {
    this.same(a, b, 'MatMul');
    if (a.shape.length < 2 || b.shape.length < 2) internal('MatMul operands must have rank >= 2');
    const m = a.shape[a.shape.length - 2]!;
    const k1 = a.shape[a.shape.length - 1]!;
    const k2 = b.shape[b.shape.length - 2]!;
    const n = b.shape[b.shape.length - 1]!;
    if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2)
      internal(`MatMul inner dims differ: [${a.shape}] x [${b.shape}]`);
    const batch = this.broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    return this.one('MatMul', [a, b], {}, a.dtype, [...batch, m, n]);
  }

  /** 2-D Gemm: op(a) @ op(b) (no bias); used by the backward pass to avoid materialised transposes. */
  gemm(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
    this.same(a, b, 'Gemm');
    if (a.shape.length !== 2 || b.shape.length !== 2) internal('Gemm operands must be 2-D');
    const m = transA ? a.shape[1]! : a.shape[0]!;
    const n = transB ? b.shape[0]! : b.shape[1]!;
    return this.one('Gemm', [a, b], { transA: transA ? 1 : 0, transB: transB ? 1 : 0 }, a.dtype, [m, n]);
  }

  // ---- shape ops -----------------------------------------------------------------------------------------

  transpose(x: Tensor, perm: number[]): Tensor {
    if (perm.length !== x.shape.length) internal(`Transpose perm [${perm}] does not fit rank ${x.shape.length}`);
    return this.one(
      'Transpose',
      [x],
      { perm },
      x.dtype,
      perm.map((p) => x.shape[p]!),
    );
  }

  /** Swaps the last two axes. */
  transposeLast(x: Tensor): Tensor {
    const r = x.shape.length;
    const perm = [...Array(r).keys()];
    perm[r - 2] = r - 1;
    perm[r - 1] = r - 2;
    return this.transpose(x, perm);
  }

  /** Reshape to a constant shape (ONNX semantics: 0 copies the input dim, -1 is inferred). */
  reshape(x: Tensor, shape: number[]): Tensor {
    const out: Dim[] = shape.map((d, i) => (d === 0 ? x.shape[i]! : d));
    const neg = out.indexOf(-1);
    if (neg >= 0) {
      const total = numel(x.shape);
      const rest = numel(out.filter((_, i) => i !== neg));
      out[neg] = total !== null && rest !== null ? total / rest : this.sym();
    }
    const a = numel(x.shape);
    const b = numel(out);
    if (a !== null && b !== null && a !== b) internal(`cannot reshape [${x.shape}] to [${shape}]`);
    return this.one('Reshape', [x, this.ints(shape)], {}, x.dtype, out);
  }

  /** Reshape to a runtime shape tensor (int64 [rank]); `shape` gives the inferred result for bookkeeping. */
  reshapeDyn(x: Tensor, shapeT: Tensor, shape: Dim[]): Tensor {
    return this.one('Reshape', [x, shapeT], {}, x.dtype, shape);
  }

  unsqueeze(x: Tensor, axes: number[]): Tensor {
    const rank = x.shape.length + axes.length;
    const norm = axes.map((a) => (a < 0 ? a + rank : a));
    const out: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) out.push(norm.includes(i) ? 1 : x.shape[j++]!);
    return this.one('Unsqueeze', [x, this.ints(axes)], {}, x.dtype, out);
  }

  split(x: Tensor, axis: number, sizes: number[]): Tensor[] {
    const ax = axis < 0 ? axis + x.shape.length : axis;
    return this.node(
      'Split',
      [x, this.ints(sizes)],
      { axis: ax },
      sizes.map((s) => {
        const shape = [...x.shape];
        shape[ax] = s;
        return { dtype: x.dtype, shape };
      }),
    );
  }

  concat(xs: Tensor[], axis: number): Tensor {
    const ax = axis < 0 ? axis + xs[0]!.shape.length : axis;
    const shape = [...xs[0]!.shape];
    let total: Dim = 0;
    for (const x of xs) {
      const d = x.shape[ax]!;
      total = typeof total === 'number' && typeof d === 'number' ? total + d : this.sym();
    }
    shape[ax] = total;
    return this.one('Concat', xs, { axis: ax }, xs[0]!.dtype, shape);
  }

  /** Slice with constant bounds (ONNX clamping semantics; steps of 1). */
  slice(x: Tensor, starts: number[], ends: number[], axes: number[]): Tensor {
    const shape = [...x.shape];
    axes.forEach((a, i) => {
      const ax = a < 0 ? a + x.shape.length : a;
      const d = x.shape[ax]!;
      if (typeof d !== 'number') {
        shape[ax] = this.sym();
        return;
      }
      const clamp = (v: number) => Math.max(0, Math.min(d, v < 0 ? v + d : v));
      shape[ax] = Math.max(0, clamp(ends[i]!) - clamp(starts[i]!));
    });
    return this.one('Slice', [x, this.ints(starts), this.ints(ends), this.ints(axes)], {}, x.dtype, shape);
  }

  /** Slice with runtime bounds (int64 tensors); `shape` is the caller's description of the result. */
  sliceDyn(x: Tensor, starts: Tensor, ends: Tensor, axes: number[], shape: Dim[]): Tensor {
    return this.one('Slice', [x, starts, ends, this.ints(axes)], {}, x.dtype, shape);
  }

  /** Constant-mode pad with zeros; `pads` is ONNX order [begin_0..begin_n, end_0..end_n]. */
  pad(x: Tensor, pads: number[]): Tensor {
    const r = x.shape.length;
    const shape = x.shape.map((d, i) => (typeof d === 'number' ? d + pads[i]! + pads[i + r]! : this.sym()));
    return this.one('Pad', [x, this.ints(pads)], { mode: 'constant' }, x.dtype, shape);
  }

  /** Range(start, limit, delta) of scalar tensors → 1-D; `length` describes the result. */
  range(start: Tensor, limit: Tensor, delta: Tensor, length: Dim): Tensor {
    return this.one('Range', [start, limit, delta], {}, start.dtype, [length]);
  }

  shapeOf(x: Tensor): Tensor {
    return this.one('Shape', [x], {}, 'int64', [x.shape.length]);
  }

  expand(x: Tensor, shape: number[]): Tensor {
    return this.one('Expand', [x, this.ints(shape)], {}, x.dtype, this.broadcastShape(x.shape, shape));
  }

  constantOfShape(shape: number[], dtype: DType, value = 0): Tensor {
    return this.one('ConstantOfShape', [this.ints(shape)], { value: new TensorAttr(dtype, [value]) }, dtype, shape);
  }

  // ---- indexing ------------------------------------------------------------------------------------------

  gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
    const ax = axis < 0 ? axis + data.shape.length : axis;
    const shape = [...data.shape.slice(0, ax), ...indices.shape, ...data.shape.slice(ax + 1)];
    return this.one('Gather', [data, indices], { axis: ax }, data.dtype, shape);
  }

  gatherElements(data: Tensor, indices: Tensor, axis: number): Tensor {
    const ax = axis < 0 ? axis + data.shape.length : axis;
    return this.one('GatherElements', [data, indices], { axis: ax }, data.dtype, [...indices.shape]);
  }

  scatterND(data: Tensor, indices: Tensor, updates: Tensor, reduction: 'none' | 'add' = 'none'): Tensor {
    return this.one('ScatterND', [data, indices, updates], reduction === 'none' ? {} : { reduction }, data.dtype, [
      ...data.shape,
    ]);
  }

  scatterElements(
    data: Tensor,
    indices: Tensor,
    updates: Tensor,
    axis: number,
    reduction: 'none' | 'add' = 'none',
  ): Tensor {
    const ax = axis < 0 ? axis + data.shape.length : axis;
    const attrs: Record<string, Attr> = { axis: ax };
    if (reduction !== 'none') attrs.reduction = reduction;
    return this.one('ScatterElements', [data, indices, updates], attrs, data.dtype, [...data.shape]);
  }

  // ---- reductions and normalisation ----------------------------------------------------------------------

  private reduceShape(x: Tensor, axes: number[], keepdims: boolean): Dim[] {
    const norm = axes.map((a) => (a < 0 ? a + x.shape.length : a));
    const out: Dim[] = [];
    x.shape.forEach((d, i) => {
      if (!norm.includes(i)) out.push(d);
      else if (keepdims) out.push(1);
    });
    return out;
  }

  /** ReduceSum over `axes` (opset 13+: axes as an input). */
  reduceSum(x: Tensor, axes: number[], keepdims = true): Tensor {
    return this.one(
      'ReduceSum',
      [x, this.ints(axes)],
      { keepdims: keepdims ? 1 : 0 },
      x.dtype,
      this.reduceShape(x, axes, keepdims),
    );
  }

  /** ReduceMean (opset 17: axes as an attribute). */
  reduceMean(x: Tensor, axes: number[], keepdims = true): Tensor {
    return this.one(
      'ReduceMean',
      [x],
      { axes, keepdims: keepdims ? 1 : 0 },
      x.dtype,
      this.reduceShape(x, axes, keepdims),
    );
  }

  softmax(x: Tensor, axis = -1): Tensor {
    return this.one('Softmax', [x], { axis }, x.dtype, [...x.shape]);
  }

  logSoftmax(x: Tensor, axis = -1): Tensor {
    return this.one('LogSoftmax', [x], { axis }, x.dtype, [...x.shape]);
  }

  /**
   * LayerNormalization over the last axis (`bias` may be omitted); `mean`/`invStd` ([..., 1]) are returned for
   * the backward pass.
   * (onnxruntime's CPU kernel has no float64 variant, nor Erf: float64 graphs serve the finite-difference tests
   * of the other ops.)
   */
  layerNorm(
    x: Tensor,
    scale: Tensor,
    bias: Tensor | null,
    eps: number,
    withStats = false,
  ): { y: Tensor; mean?: Tensor; invStd?: Tensor } {
    const stat = [...x.shape.slice(0, -1), 1];
    const outs = [{ dtype: x.dtype, shape: [...x.shape] }];
    if (withStats) outs.push({ dtype: x.dtype, shape: stat }, { dtype: x.dtype, shape: stat });
    const [y, mean, invStd] = this.node(
      'LayerNormalization',
      bias ? [x, scale, bias] : [x, scale],
      { axis: -1, epsilon: new FloatAttr(eps) },
      outs,
      'ln',
    );
    return { y: y!, mean, invStd };
  }
}

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };
