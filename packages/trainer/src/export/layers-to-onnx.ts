/**
 * Converts a tf.layers functional model (the Keras-named ResNet-50 of @food/core/model/resnet50, or
 * any model made of the same layer classes) into an ONNX graph, layer by layer by class name:
 *
 *   input [batch, H, W, C] (NHWC, as preprocessImage makes it) → Transpose → NCHW everywhere inside
 *   ZeroPadding2D → the next Conv's `pads` (or MaxPool's, see below; else an explicit Pad)
 *   Conv2D (+ the BatchNormalization that follows it, folded) → Conv; activation relu → Relu
 *   MaxPooling2D → MaxPool, Add → Add, GlobalAveragePooling2D → GlobalAveragePool + Flatten
 *   Dense → Gemm; Dropout and linear activations → nothing (inference)
 *
 * The graph ends in two outputs: `logits` (the last Dense before any softmax) and `probabilities`
 * (Softmax of the logits), which is what the tfjs engine returns.
 */

import { UserError } from '@food/core/errors';
import type * as tf from '@tensorflow/tfjs';
import { type BatchNormWeights, foldBatchNorm, kerasToOnnxConv } from './fold-batch-norm.ts';
import {
  addInitializer,
  emptyGraph,
  type GraphNode,
  intAttr,
  intsAttr,
  type OnnxGraph,
} from './onnx-graph.ts';

export const INPUT_NAME = 'input';
export const LOGITS_NAME = 'logits';
export const PROBABILITIES_NAME = 'probabilities';
/** Symbolic first dimension: any batch size runs through the same file. */
export const BATCH_DIM = 'batch';

export class UnsupportedModelError extends UserError {
  override name = 'UnsupportedModelError';
  constructor(message: string) {
    super(
      `${message}. The ONNX exporter handles the layers of the ResNet-50 this project trains ` +
        '(ZeroPadding2D, Conv2D, BatchNormalization after a Conv2D, Activation, MaxPooling2D, Add, ' +
        'GlobalAveragePooling2D, Dropout, Dense).',
      'ONNX_UNSUPPORTED_MODEL',
    );
  }
}

type Shape = Array<number | null>;
type Pads = [number, number, number, number]; // ONNX order: top, left, bottom, right

/** A ZeroPadding2D output, emitted lazily so the next Conv or MaxPool can absorb it. */
interface PendingPad {
  source: string;
  pads: Pads;
}

interface LayerConfig {
  [key: string]: unknown;
  activation?: string;
}

export function layersModelToOnnx(model: tf.LayersModel): OnnxGraph {
  const { graph, tensorOf } = convertLayers(model);
  const [, classes] = model.outputs[0]!.shape;
  if (model.outputs[0]!.shape.length !== 2 || typeof classes !== 'number') {
    throw new UnsupportedModelError(`output shape [${model.outputs[0]!.shape}] is not [batch, classes]`);
  }
  nameOutputs(graph, tensorOf.get(model.outputs[0]!.sourceLayer.name)!);
  graph.outputs.push(
    { name: PROBABILITIES_NAME, shape: [BATCH_DIM, classes] },
    { name: LOGITS_NAME, shape: [BATCH_DIM, classes] },
  );
  return graph;
}

/**
 * The layers as ONNX nodes, without graph outputs; `tensorOf` maps a layer's name to the ONNX tensor of
 * its output (NCHW for images). A frozen trunk (trunk-to-onnx.ts) ends at any layer this way.
 */
export function convertLayers(model: tf.LayersModel): {
  graph: OnnxGraph;
  tensorOf: Map<string, string>;
} {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new UnsupportedModelError(
      `model ${model.name} has ${model.inputs.length} inputs and ${model.outputs.length} outputs, not 1 and 1`,
    );
  }
  const [, height, width, channels] = model.inputs[0]!.shape;
  if (model.inputs[0]!.shape.length !== 4 || ![height, width, channels].every((d) => typeof d === 'number')) {
    throw new UnsupportedModelError(
      `input shape [${model.inputs[0]!.shape}] is not a fixed-size image [batch, H, W, C]`,
    );
  }
  const graph = emptyGraph(model.name);
  graph.inputs.push({ name: INPUT_NAME, shape: [BATCH_DIM, height!, width!, channels!] });

  /** Layer name → the ONNX tensor holding its output. */
  const tensorOf = new Map<string, string>();
  const pendingPads = new Map<string, PendingPad>();
  /** Tensors known to be ≥ 0 (Relu outputs): max-pooling them may pad with zeros or with −∞ alike. */
  const nonNegative = new Set<string>();
  const consumers = countConsumers(model);
  const folded = new Set<string>();
  const emit = (node: GraphNode): string => {
    graph.nodes.push(node);
    return node.outputs[0]!;
  };

  const inputOf = (layer: tf.layers.Layer, index = 0): string => {
    const source = inboundLayerNames(layer)[index]!;
    const pending = pendingPads.get(source);
    if (pending) return emitPad(source, pending);
    const tensor = tensorOf.get(source);
    if (tensor === undefined) throw new Error(`layer ${source} has no ONNX output yet`);
    return tensor;
  };
  const emitPad = (layerName: string, pending: PendingPad): string => {
    const pads = addInitializer(
      graph,
      `${layerName}/pads`,
      [8],
      BigInt64Array.from(
        [0, 0, pending.pads[0], pending.pads[1], 0, 0, pending.pads[2], pending.pads[3]],
        BigInt,
      ),
    );
    const output = emit({ name: layerName, op: 'Pad', inputs: [pending.source, pads], outputs: [layerName] });
    pendingPads.delete(layerName);
    tensorOf.set(layerName, output);
    return output;
  };
  const activation = (name: string, input: string, kind: string | undefined): string => {
    switch (kind ?? 'linear') {
      case 'linear':
        return input;
      case 'relu': {
        const output = emit({ name, op: 'Relu', inputs: [input], outputs: [name] });
        nonNegative.add(output);
        return output;
      }
      case 'softmax':
        return emit({
          name,
          op: 'Softmax',
          inputs: [input],
          outputs: [name],
          attributes: { axis: intAttr(-1) },
        });
      default:
        throw new UnsupportedModelError(`activation "${kind}" of ${name} has no ONNX mapping here`);
    }
  };

  for (const layer of model.layers) {
    const name = layer.name;
    const config = layer.getConfig() as LayerConfig;
    if (layer.inboundNodes.length > 1) {
      throw new UnsupportedModelError(
        `layer ${name} is applied ${layer.inboundNodes.length} times (shared layers)`,
      );
    }
    if ('dataFormat' in config && config.dataFormat !== 'channelsLast') {
      throw new UnsupportedModelError(`layer ${name} uses data format ${String(config.dataFormat)}`);
    }
    switch (layer.getClassName()) {
      case 'InputLayer':
        tensorOf.set(
          name,
          emit({
            name: `${name}/to_nchw`,
            op: 'Transpose',
            inputs: [INPUT_NAME],
            outputs: [`${name}/nchw`],
            attributes: { perm: intsAttr([0, 3, 1, 2]) },
          }),
        );
        break;
      case 'ZeroPadding2D': {
        const [[top, bottom], [left, right]] = config.padding as [[number, number], [number, number]];
        const source = inputOf(layer);
        pendingPads.set(name, { source, pads: [top, left, bottom, right] });
        break;
      }
      case 'Conv2D': {
        const conv = convWeights(layer, config);
        let pads = samePadding(layer, config);
        let input: string;
        const source = inboundLayerNames(layer)[0]!;
        const pending = pendingPads.get(source);
        if (pending && consumers.get(source) === 1) {
          // Zero padding followed by a convolution is exactly the Conv's own zero `pads`.
          input = pending.source;
          pads = pads.map((p, i) => p + pending.pads[i]!) as Pads;
          pendingPads.delete(source);
        } else {
          input = inputOf(layer);
        }
        // Fold the BatchNormalization that is this conv's only consumer (every BN in ResNet-50).
        const next = onlyConsumer(model, layer);
        let onnxConv = kerasToOnnxConv(conv);
        let outputLayer = layer;
        if (next?.getClassName() === 'BatchNormalization' && consumers.get(name) === 1) {
          onnxConv = foldBatchNorm(onnxConv, batchNormWeights(next));
          folded.add(next.name);
          outputLayer = next;
        }
        const weight = addInitializer(graph, `${name}/weight`, onnxConv.weightShape, onnxConv.weight);
        const bias = addInitializer(graph, `${name}/bias`, [onnxConv.weightShape[0]], onnxConv.bias);
        const [kh, kw] = config.kernelSize as [number, number];
        let output = emit({
          name,
          op: 'Conv',
          inputs: [input, weight, bias],
          outputs: [outputLayer === layer ? name : `${name}+${outputLayer.name}`],
          attributes: {
            kernel_shape: intsAttr([kh, kw]),
            strides: intsAttr(config.strides as number[]),
            dilations: intsAttr(config.dilationRate as number[]),
            pads: intsAttr(pads),
            group: intAttr(1),
          },
        });
        output = activation(`${name}_activation`, output, config.activation);
        tensorOf.set(outputLayer.name, output);
        if (outputLayer !== layer) tensorOf.set(name, output);
        break;
      }
      case 'BatchNormalization':
        if (!folded.has(name)) {
          throw new UnsupportedModelError(
            `BatchNormalization ${name} does not directly follow a Conv2D it can fold into`,
          );
        }
        break;
      case 'Activation':
        tensorOf.set(name, activation(name, inputOf(layer), config.activation));
        break;
      case 'MaxPooling2D': {
        const [kh, kw] = config.poolSize as [number, number];
        let pads = samePadding(layer, config);
        let input: string;
        const source = inboundLayerNames(layer)[0]!;
        const pending = pendingPads.get(source);
        // MaxPool pads with −∞; over a Relu output that equals zero padding as long as every window
        // still holds one real (≥ 0) value, i.e. each pad is smaller than the window.
        const absorbs =
          pending &&
          consumers.get(source) === 1 &&
          nonNegative.has(pending.source) &&
          pending.pads.every((p, i) => p < (i % 2 === 0 ? kh : kw));
        if (pending && absorbs) {
          input = pending.source;
          pads = pads.map((p, i) => p + pending.pads[i]!) as Pads;
          pendingPads.delete(source);
        } else {
          input = inputOf(layer);
          if (pending) {
            // ONNX Runtime's Pad fusion (microsoft/onnxruntime#18136) folds a zero Pad into the next
            // MaxPool's pads, which pad with −∞: wrong for windows of negative values. A no-op Max
            // between them keeps the zero padding.
            const lowest = addInitializer(
              graph,
              `${name}/lowest`,
              [],
              Float32Array.of(-3.4028234663852886e38),
            );
            input = emit({
              name: `${name}/keep_pad`,
              op: 'Max',
              inputs: [input, lowest],
              outputs: [`${name}/padded`],
            });
          }
        }
        const output = emit({
          name,
          op: 'MaxPool',
          inputs: [input],
          outputs: [name],
          attributes: {
            kernel_shape: intsAttr([kh, kw]),
            strides: intsAttr(config.strides as number[]),
            pads: intsAttr(pads),
          },
        });
        if (nonNegative.has(input)) nonNegative.add(output);
        tensorOf.set(name, output);
        break;
      }
      case 'Add': {
        const inputs = inboundLayerNames(layer).map((_, i) => inputOf(layer, i));
        tensorOf.set(name, emit({ name, op: inputs.length === 2 ? 'Add' : 'Sum', inputs, outputs: [name] }));
        break;
      }
      case 'GlobalAveragePooling2D': {
        const pooled = emit({
          name,
          op: 'GlobalAveragePool',
          inputs: [inputOf(layer)],
          outputs: [`${name}/nc11`],
        });
        tensorOf.set(
          name,
          emit({
            name: `${name}/flatten`,
            op: 'Flatten',
            inputs: [pooled],
            outputs: [name],
            attributes: { axis: intAttr(1) },
          }),
        );
        break;
      }
      case 'Dropout':
        tensorOf.set(name, inputOf(layer));
        break;
      case 'Dense': {
        if (inputShape(layer).length !== 2) {
          throw new UnsupportedModelError(`Dense ${name} takes a ${inputShape(layer).length}-D input`);
        }
        const [kernel, bias] = layer.getWeights();
        const [units, inputs] = [config.units as number, kernel!.shape[0]!];
        const weight = addInitializer(
          graph,
          `${name}/weight`,
          [inputs, units],
          kernel!.dataSync() as Float32Array,
        );
        const biasValues = bias ? (bias.dataSync() as Float32Array) : new Float32Array(units);
        const gemmBias = addInitializer(graph, `${name}/bias`, [units], Float32Array.from(biasValues));
        const output = emit({
          name,
          op: 'Gemm',
          inputs: [inputOf(layer), weight, gemmBias],
          outputs: [name],
        });
        tensorOf.set(name, activation(`${name}_activation`, output, config.activation));
        break;
      }
      default:
        throw new UnsupportedModelError(`layer ${name} is a ${layer.getClassName()}`);
    }
  }

  return { graph, tensorOf };
}

/** Renames the last tensor to `logits` (or the softmax's input when the model ends in one) and adds `probabilities`. */
function nameOutputs(graph: OnnxGraph, last: string): void {
  const producer = graph.nodes.find((node) => node.outputs.includes(last))!;
  const logits = producer.op === 'Softmax' ? producer.inputs[0]! : last;
  if (producer.op === 'Softmax') graph.nodes.splice(graph.nodes.indexOf(producer), 1);
  for (const node of graph.nodes) {
    node.inputs = node.inputs.map((name) => (name === logits ? LOGITS_NAME : name));
    node.outputs = node.outputs.map((name) => (name === logits ? LOGITS_NAME : name));
  }
  graph.nodes.push({
    name: 'softmax',
    op: 'Softmax',
    inputs: [LOGITS_NAME],
    outputs: [PROBABILITIES_NAME],
    attributes: { axis: intAttr(1) },
  });
}

function inboundLayerNames(layer: tf.layers.Layer): string[] {
  return layer.inboundNodes[0]?.inboundLayers.map((inbound) => inbound.name) ?? [];
}

function inputShape(layer: tf.layers.Layer): Shape {
  return layer.inboundNodes[0]!.inputTensors[0]!.shape;
}

function countConsumers(model: tf.LayersModel): Map<string, number> {
  const counts = new Map<string, number>();
  for (const layer of model.layers) {
    for (const source of inboundLayerNames(layer)) counts.set(source, (counts.get(source) ?? 0) + 1);
  }
  return counts;
}

function onlyConsumer(model: tf.LayersModel, layer: tf.layers.Layer): tf.layers.Layer | undefined {
  const users = model.layers.filter((other) => inboundLayerNames(other).includes(layer.name));
  return users.length === 1 ? users[0] : undefined;
}

function convWeights(layer: tf.layers.Layer, config: LayerConfig) {
  const dilation = config.dilationRate as number[];
  if (dilation.some((d) => d !== 1)) throw new UnsupportedModelError(`Conv2D ${layer.name} is dilated`);
  const [kernel, bias] = layer.getWeights();
  const kernelShape = kernel!.shape as [number, number, number, number];
  return {
    kernel: kernel!.dataSync() as Float32Array,
    kernelShape,
    bias: config.useBias ? (bias!.dataSync() as Float32Array) : new Float32Array(kernelShape[3]),
  };
}

function batchNormWeights(layer: tf.layers.Layer): BatchNormWeights {
  const config = layer.getConfig() as LayerConfig;
  if (config.axis !== -1 && config.axis !== 3) {
    throw new UnsupportedModelError(
      `BatchNormalization ${layer.name} normalises axis ${String(config.axis)}, not channels`,
    );
  }
  const values = layer.getWeights().map((w) => w.dataSync() as Float32Array);
  const gamma = config.scale ? values.shift() : undefined;
  const beta = config.center ? values.shift() : undefined;
  const [movingMean, movingVariance] = values;
  return {
    gamma,
    beta,
    movingMean: movingMean!,
    movingVariance: movingVariance!,
    epsilon: config.epsilon as number,
  };
}

/**
 * TensorFlow's `same` padding for a known input size: out = ceil(in / stride), the total padding split
 * with the extra pixel at the end (bottom/right), unlike ONNX's symmetric `auto_pad` defaults.
 */
function samePadding(layer: tf.layers.Layer, config: LayerConfig): Pads {
  if (config.padding === 'valid') return [0, 0, 0, 0];
  if (config.padding !== 'same')
    throw new UnsupportedModelError(`${layer.name} has padding ${String(config.padding)}`);
  const [, height, width] = inputShape(layer);
  const kernel = (config.kernelSize ?? config.poolSize) as [number, number];
  const strides = config.strides as [number, number];
  const [top, bottom] = splitPadding(height!, kernel[0], strides[0]);
  const [left, right] = splitPadding(width!, kernel[1], strides[1]);
  return [top, left, bottom, right];
}

function splitPadding(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}
