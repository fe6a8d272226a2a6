/**
 * Static int8 quantisation of an exported graph in ONNX's QDQ format: activations go through
 * QuantizeLinear → DequantizeLinear pairs with scales calibrated on real images, Conv weights are
 * stored as int8 per output channel and the bias as int32, each behind a DequantizeLinear. ONNX
 * Runtime fuses DQ → Conv → Q into QLinearConv (and Add into QLinearAdd, MaxPool runs on uint8) and
 * drops a Relu followed by a Q whose zero point is 0: the layout `onnxruntime.quantization.quantize_static`
 * writes with QuantFormat.QDQ, activation_type QUInt8, weight_type QInt8, per_channel=True.
 */
import { addInitializer, type GraphNode, intAttr, type OnnxGraph } from './onnx-graph.ts';

export interface TensorRange {
  min: number;
  max: number;
}

interface ActivationParams {
  scale: number;
  zeroPoint: number;
}

const QUANTIZED_INPUTS = new Set(['Conv', 'Add', 'MaxPool']);

/**
 * The first convolution stays float32: its input is the normalised photo, whose uint8 step over the
 * calibrated range (~4.7 / 255) is coarser than the photo's own 8-bit step (1 / 255 / std), so
 * quantising it would blur every image before the network sees it, to save ~3% of the compute.
 */
function keepsFloat(graph: OnnxGraph): (node: GraphNode) => boolean {
  const first = graph.nodes.find((node) => node.op === 'Conv');
  return (node) => node === first;
}

/**
 * The activations to quantise, in graph order: every input of a Conv (but the first), Add or MaxPool.
 * MaxPool outputs reuse their input's scale, so they need no calibration of their own.
 */
export function activationsToCalibrate(graph: OnnxGraph): string[] {
  const float = keepsFloat(graph);
  const names = new Set<string>();
  for (const node of graph.nodes) {
    if (!QUANTIZED_INPUTS.has(node.op) || float(node)) continue;
    for (const input of node.op === 'Conv' ? node.inputs.slice(0, 1) : node.inputs) names.add(input);
  }
  return [...names];
}

/** uint8 asymmetric: the range is widened to hold 0 exactly (zero padding, Relu's floor). */
export function activationParams(range: TensorRange): ActivationParams {
  const min = Math.min(0, range.min);
  const max = Math.max(0, range.max);
  const scale = max > min ? (max - min) / 255 : 1;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-min / scale)));
  return { scale, zeroPoint };
}

/** Symmetric int8 per output channel (axis 0 of an OIHW weight), zero point 0, values in [−127, 127]. */
export function quantizeWeightPerChannel(weight: Float32Array, channels: number) {
  const perChannel = weight.length / channels;
  const scales = new Float32Array(channels);
  const values = new Int8Array(weight.length);
  for (let c = 0; c < channels; c++) {
    let maxAbs = 0;
    for (let k = c * perChannel; k < (c + 1) * perChannel; k++)
      maxAbs = Math.max(maxAbs, Math.abs(weight[k]!));
    const scale = maxAbs > 0 ? maxAbs / 127 : 1;
    scales[c] = scale;
    for (let k = c * perChannel; k < (c + 1) * perChannel; k++) {
      values[k] = Math.max(-127, Math.min(127, Math.round(weight[k]! / Math.fround(scale))));
    }
  }
  return { scales, values };
}

/**
 * Returns a QDQ copy of `graph`. `ranges` holds each name from `activationsToCalibrate`; a missing
 * one is a bug in the caller.
 */
export function quantizeGraph(graph: OnnxGraph, ranges: Map<string, TensorRange>): OnnxGraph {
  const quantized: OnnxGraph = {
    ...graph,
    nodes: [],
    initializers: new Map(graph.initializers),
    outputs: [...graph.outputs],
  };
  const params = new Map<string, ActivationParams>();
  for (const name of activationsToCalibrate(graph)) {
    const range = ranges.get(name);
    if (!range) throw new Error(`no calibration range for ${name}`);
    params.set(name, activationParams(range));
  }
  for (const node of graph.nodes) {
    if (node.op === 'MaxPool' && params.has(node.inputs[0]!))
      params.set(node.outputs[0]!, params.get(node.inputs[0]!)!);
  }

  /** Tensor → its dequantised copy, made right after the tensor's producer (or at the start for graph inputs). */
  const dequantized = new Map<string, string>();
  const emitQdq = (tensor: string, p: ActivationParams): GraphNode[] => {
    const scale = addInitializer(quantized, `${tensor}/scale`, [], Float32Array.of(p.scale));
    const zeroPoint = addInitializer(quantized, `${tensor}/zero_point`, [], Uint8Array.of(p.zeroPoint));
    dequantized.set(tensor, `${tensor}/dq`);
    return [
      {
        name: `${tensor}/quantize`,
        op: 'QuantizeLinear',
        inputs: [tensor, scale, zeroPoint],
        outputs: [`${tensor}/q`],
      },
      {
        name: `${tensor}/dequantize`,
        op: 'DequantizeLinear',
        inputs: [`${tensor}/q`, scale, zeroPoint],
        outputs: [`${tensor}/dq`],
      },
    ];
  };
  for (const input of graph.inputs) {
    const p = params.get(input.name);
    if (p) quantized.nodes.push(...emitQdq(input.name, p));
  }

  const float = keepsFloat(graph);
  for (const node of graph.nodes) {
    const rewritten: GraphNode = {
      ...node,
      inputs: node.inputs.map((name) => dequantized.get(name) ?? name),
    };
    if (node.op === 'Conv' && !float(node))
      quantized.nodes.push(...quantizeConvWeights(quantized, node, params.get(node.inputs[0]!)!));
    quantized.nodes.push(rewritten);
    for (const output of node.outputs) {
      const p = params.get(output);
      if (p) quantized.nodes.push(...emitQdq(output, p));
    }
  }
  return quantized;
}

/**
 * Replaces the Conv's float weight and bias initialisers by int8/int32 ones behind DequantizeLinear
 * nodes that output the original names, so the Conv node itself is unchanged. The bias scale is
 * input scale × weight scale, as QLinearConv requires.
 */
function quantizeConvWeights(graph: OnnxGraph, conv: GraphNode, input: ActivationParams): GraphNode[] {
  const [, weightName, biasName] = conv.inputs as [string, string, string];
  const weight = graph.initializers.get(weightName)!;
  const bias = graph.initializers.get(biasName)!;
  const channels = weight.dims[0]!;
  const { scales, values } = quantizeWeightPerChannel(weight.data as Float32Array, channels);
  const biasScales = scales.map((s) => s * input.scale);
  const biasValues = Int32Array.from(bias.data as Float32Array, (b, c) => Math.round(b / biasScales[c]!));
  graph.initializers.delete(weightName);
  graph.initializers.delete(biasName);
  const nodes: GraphNode[] = [];
  for (const [name, dims, data, scale, zeroPoint] of [
    [weightName, weight.dims, values, scales, new Int8Array(channels)],
    [biasName, bias.dims, biasValues, biasScales, new Int32Array(channels)],
  ] as const) {
    nodes.push({
      name: `${name}/dequantize`,
      op: 'DequantizeLinear',
      inputs: [
        addInitializer(graph, `${name}/quantized`, dims, data),
        addInitializer(graph, `${name}/scale`, [channels], scale),
        addInitializer(graph, `${name}/zero_point`, [channels], zeroPoint),
      ],
      outputs: [name],
      attributes: { axis: intAttr(0) },
    });
  }
  return nodes;
}
