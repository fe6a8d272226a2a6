/**
 * A small in-memory ONNX graph (nodes, initialisers, typed inputs and outputs) that the converter and
 * the quantiser edit, and its serialisation through `onnx-proto` (protobufjs types generated from the
 * official onnx.proto), so no protobuf bytes are written by hand.
 */
import { endianness } from 'node:os';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX opset the exporter targets: 13 brings per-axis QuantizeLinear/DequantizeLinear and Pad with inputs. */
export const OPSET_VERSION = 13;
/** IR version 7 is what opset 13 was released with; every ONNX Runtime ≥ 1.6 reads it. */
const IR_VERSION = 7;

export type Attribute =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'float'; value: number };

export const intAttr = (value: number): Attribute => ({ kind: 'int', value });
export const intsAttr = (value: number[]): Attribute => ({ kind: 'ints', value });
export const floatAttr = (value: number): Attribute => ({ kind: 'float', value });

export interface GraphNode {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, Attribute>;
}

export type TensorData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

export interface Initializer {
  dims: number[];
  data: TensorData;
}

/** A float32 graph input or output; string dimensions are symbolic (`batch`), no shape means unknown rank. */
export interface GraphValue {
  name: string;
  shape?: Array<number | string>;
}

export interface OnnxGraph {
  name: string;
  nodes: GraphNode[];
  initializers: Map<string, Initializer>;
  inputs: GraphValue[];
  outputs: GraphValue[];
}

export interface ModelInfo {
  /** ModelProto.metadata_props: free-form key → value (JSON strings for structured values). */
  metadata: Record<string, string>;
  docString?: string;
}

const DATA_TYPES = new Map<string, number>([
  ['Float32Array', onnx.TensorProto.DataType.FLOAT],
  ['Int8Array', onnx.TensorProto.DataType.INT8],
  ['Uint8Array', onnx.TensorProto.DataType.UINT8],
  ['Int32Array', onnx.TensorProto.DataType.INT32],
  ['BigInt64Array', onnx.TensorProto.DataType.INT64],
]);

export function emptyGraph(name: string): OnnxGraph {
  return { name, nodes: [], initializers: new Map(), inputs: [], outputs: [] };
}

/** Adds an initialiser under a name no other value uses, and returns that name. */
export function addInitializer(graph: OnnxGraph, name: string, dims: number[], data: TensorData): string {
  if (graph.initializers.has(name)) throw new Error(`duplicate initializer ${name}`);
  const count = dims.reduce((n, d) => n * d, 1);
  if (count !== data.length) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims}]`);
  graph.initializers.set(name, { dims, data });
  return name;
}

/** Serialises the graph as an ONNX ModelProto. */
export function encodeModel(graph: OnnxGraph, info: ModelInfo): Uint8Array {
  // raw_data is little-endian by the ONNX spec; typed arrays use the host's byte order.
  if (endianness() !== 'LE') throw new Error('ONNX export needs a little-endian host');
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'food-trainer',
    producerVersion: '0.1.0',
    docString: info.docString ?? '',
    metadataProps: Object.entries(info.metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      node: graph.nodes.map(encodeNode),
      initializer: [...graph.initializers].map(([name, tensor]) => ({
        name,
        dims: tensor.dims,
        dataType: DATA_TYPES.get(tensor.data.constructor.name),
        rawData: new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength),
      })),
      input: graph.inputs.map(encodeValue),
      output: graph.outputs.map(encodeValue),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function encodeNode(node: GraphNode): onnxProto.onnx.INodeProto {
  return {
    name: node.name,
    opType: node.op,
    input: node.inputs,
    output: node.outputs,
    attribute: Object.entries(node.attributes ?? {}).map(([name, attribute]) =>
      encodeAttribute(name, attribute),
    ),
  };
}

function encodeAttribute(name: string, attribute: Attribute): onnxProto.onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (attribute.kind === 'int') return { name, type: AttributeType.INT, i: attribute.value };
  if (attribute.kind === 'ints') return { name, type: AttributeType.INTS, ints: attribute.value };
  return { name, type: AttributeType.FLOAT, f: attribute.value };
}

function encodeValue(value: GraphValue): onnxProto.onnx.IValueInfoProto {
  return {
    name: value.name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: value.shape && {
          dim: value.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

/** Decodes an ONNX file's bytes (tests and `export` read back what they wrote). */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
