/**
 * Encodes a GraphBuilder graph as an ONNX ModelProto (IR 8, opset 17) with `onnx-proto`; no Python, no
 * converter. Initializers are stored as raw little-endian bytes.
 */
import onnxProto from 'onnx-proto';
import {
  FloatAttr,
  TensorAttr,
  ONNX_DTYPE,
  type Attr,
  type ConstData,
  type DType,
  type GraphBuilder,
  type Tensor,
} from './graph.js';

const { onnx } = onnxProto;
export type ModelProto = InstanceType<typeof onnx.ModelProto>;

export const IR_VERSION = 8;
export const OPSET = 17;

function rawBytes(d: ConstData): Uint8Array {
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function typedFor(dtype: DType, values: number[]): ConstData {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int32':
      return Int32Array.from(values);
    case 'int64':
      return BigInt64Array.from(values.map((v) => BigInt(v)));
    case 'bool':
      return Uint8Array.from(values);
  }
}

export function tensorProto(name: string, dtype: DType, dims: number[], data: ConstData) {
  return onnx.TensorProto.create({ name, dataType: ONNX_DTYPE[dtype], dims, rawData: rawBytes(data) });
}

function attrProto(name: string, a: Attr) {
  const T = onnx.AttributeProto.AttributeType;
  if (a instanceof FloatAttr) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: a.value });
  if (a instanceof TensorAttr) {
    return onnx.AttributeProto.create({
      name,
      type: T.TENSOR,
      t: tensorProto('', a.dtype, [a.values.length], typedFor(a.dtype, a.values)),
    });
  }
  if (typeof a === 'string')
    return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(a) });
  if (Array.isArray(a)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: a });
  return onnx.AttributeProto.create({ name, type: T.INT, i: a });
}

function valueInfo(t: Tensor) {
  return onnx.ValueInfoProto.create({
    name: t.name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE[t.dtype],
        shape: { dim: t.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** Builds the ModelProto object (kept by callers that patch initializer bytes for weight swaps). Prunes dead nodes. */
export function toModelProto(g: GraphBuilder, graphName = 'lamer'): ModelProto {
  g.prune();
  const node = g.nodes.map((n, i) =>
    onnx.NodeProto.create({
      name: `n${i}_${n.op}`,
      opType: n.op,
      input: n.inputs.map((t) => (t ? t.name : '')),
      output: n.outputs.map((t) => t.name),
      attribute: Object.entries(n.attrs).map(([k, v]) => attrProto(k, v)),
    }),
  );
  return onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'lamer',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: graphName,
      node,
      initializer: g.initializers.map((i) =>
        tensorProto(i.tensor.name, i.tensor.dtype, i.tensor.shape as number[], i.data),
      ),
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
    },
  });
}

export function encodeModel(m: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(m).finish();
}

/** Graph → ONNX bytes. */
export function toOnnxBytes(g: GraphBuilder, graphName = 'lamer'): Uint8Array {
  return encodeModel(toModelProto(g, graphName));
}
