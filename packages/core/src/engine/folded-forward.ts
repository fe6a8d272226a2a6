/**
 * Inference over a tf.LayersModel's graph with every BatchNormalization that directly follows a
 * convolution folded into that convolution, once, when the forward is built:
 *   w' = w·γ/√(σ²+ε),  b' = (b − μ)·γ/√(σ²+ε) + β   (per output channel)
 * Convolution, bias and the ReLU after it then run as one step (./convolution.ts), and a ZeroPadding2D in
 * front of a 'valid' convolution becomes the convolution's explicit padding. This is what every
 * inference runtime does (PyTorch's `fuse_conv_bn_eval`, TensorFlow's grappler, ONNX Runtime); in
 * inference mode BatchNorm is an affine map, so the network computes the same function.
 *
 * model.predict runs the same graph layer by layer through tfjs-layers (a symbolic-graph lookup and a
 * tidy per layer, a separate bias add, batch norm and ReLU per convolution). The model itself is not
 * changed: its weights are read once, and later changes to them are not seen here.
 *
 * Only the layer types a ResNet-style classifier uses are understood; for any other model
 * `foldForInference` says why, and the caller keeps model.predict.
 */
import * as tf from '@tensorflow/tfjs';
import { convolutionFor, type ExplicitPadding } from './convolution.ts';

export interface FoldedForward {
  /** Steps per forward (each one tfjs op, or a fused conv/matmul), for logs and benchmarks. */
  readonly steps: number;
  /** The model's output for `images` [batch, H, W, C]; the caller owns it. */
  run(images: tf.Tensor4D): tf.Tensor;
  /** Frees the folded weights (not the model's). */
  dispose(): void;
}

export type FoldResult = { forward: FoldedForward } | { unsupported: string };

type Layer = tf.layers.Layer;
type Config = Record<string, unknown>;

interface GraphLayer {
  layer: Layer;
  className: string;
  config: Config;
  inputs: number[];
  output: number;
}

interface Step {
  inputs: number[];
  output: number;
  run: (inputs: tf.Tensor[]) => tf.Tensor;
}

/** What building a step needs: the graph, who reads each tensor, and where weights are kept. */
interface Builder {
  consumers: Map<number, GraphLayer[]>;
  modelOutput: number;
  absorbed: Set<GraphLayer>;
  /** Tensors this forward owns (folded or cloned weights), disposed with it. */
  weights: tf.Tensor[];
}

class Unsupported extends Error {}

/** Builds the folded forward of `model`, or says which layer it cannot run. */
export function foldForInference(model: tf.LayersModel): FoldResult {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    return { unsupported: 'the model has more than one input or output' };
  }
  const builder: Builder = {
    consumers: new Map(),
    modelOutput: model.outputs[0].id,
    absorbed: new Set(),
    weights: [],
  };
  try {
    const graph = graphOf(model);
    for (const node of graph) {
      for (const input of node.inputs) {
        builder.consumers.set(input, [...(builder.consumers.get(input) ?? []), node]);
      }
    }
    const steps: Step[] = [];
    for (const node of graph) {
      if (builder.absorbed.has(node) || node.className === 'InputLayer') continue;
      steps.push(stepFor(builder, node));
    }
    return { forward: forwardOf(steps, model.inputs[0].id, builder) };
  } catch (error) {
    tf.dispose(builder.weights);
    if (error instanceof Unsupported) return { unsupported: error.message };
    throw error;
  }
}

function graphOf(model: tf.LayersModel): GraphLayer[] {
  return model.layers.map((layer) => {
    if (layer.inboundNodes.length !== 1) {
      throw new Unsupported(`layer ${layer.name} is called ${layer.inboundNodes.length} times`);
    }
    const [node] = layer.inboundNodes;
    if (node.outputTensors.length !== 1) {
      throw new Unsupported(`layer ${layer.name} has ${node.outputTensors.length} outputs`);
    }
    return {
      layer,
      className: layer.getClassName(),
      config: layer.getConfig() as Config,
      inputs: node.inputTensors.map((tensor) => tensor.id),
      output: node.outputTensors[0].id,
    };
  });
}

/** Runs the steps in order, freeing each intermediate once its last reader has run. */
function forwardOf(steps: Step[], input: number, builder: Builder): FoldedForward {
  const reads = new Map<number, number>([[builder.modelOutput, 1]]);
  for (const step of steps) for (const id of step.inputs) reads.set(id, (reads.get(id) ?? 0) + 1);
  return {
    steps: steps.length,
    run: (images) =>
      tf.tidy(() => {
        const values = new Map<number, tf.Tensor>([[input, images]]);
        const left = new Map(reads);
        for (const step of steps) {
          values.set(step.output, step.run(step.inputs.map((id) => values.get(id) as tf.Tensor)));
          for (const id of step.inputs) {
            const count = (left.get(id) ?? 0) - 1;
            left.set(id, count);
            if (count === 0 && id !== input) values.get(id)?.dispose();
          }
        }
        return values.get(builder.modelOutput) as tf.Tensor;
      }),
    dispose: () => tf.dispose(builder.weights),
  };
}

/** The one layer that reads `node`'s output, if it is of `className` and nothing else reads it. */
function soleReader(builder: Builder, node: GraphLayer, className: string): GraphLayer | undefined {
  const readers = builder.consumers.get(node.output) ?? [];
  if (readers.length !== 1 || node.output === builder.modelOutput) return undefined;
  return readers[0].className === className ? readers[0] : undefined;
}

/** A ReLU Activation layer that alone reads `node`'s output: absorbed, and the step ends there. */
function absorbRelu(builder: Builder, node: GraphLayer): GraphLayer | undefined {
  const reader = soleReader(builder, node, 'Activation');
  if (reader?.config.activation !== 'relu') return undefined;
  builder.absorbed.add(reader);
  return reader;
}

function keep(builder: Builder, tensor: tf.Tensor): tf.Tensor {
  const kept = tf.keep(tensor);
  builder.weights.push(kept);
  return kept;
}

/** A copy of one of the layer's weights (by Keras name, e.g. `kernel`), owned by this forward. */
function weight(builder: Builder, layer: Layer, name: string): tf.Tensor | undefined {
  const value = read(layer, name);
  return value === undefined ? undefined : keep(builder, tf.clone(value));
}

/** The current value of the layer's weight `name`; the layer owns it. */
function read(layer: Layer, name: string): tf.Tensor | undefined {
  const matches = (original: string) => original === name || original.endsWith(`/${name}`);
  return layer.weights.find((w) => matches(w.originalName))?.read();
}

function requireChannelsLast(node: GraphLayer): void {
  const format = node.config.dataFormat;
  if (format !== undefined && format !== 'channelsLast') {
    throw new Unsupported(`layer ${node.layer.name} is ${String(format)}`);
  }
}

function stepFor(builder: Builder, node: GraphLayer): Step {
  requireChannelsLast(node);
  const { config } = node;
  switch (node.className) {
    case 'ZeroPadding2D':
      return paddingStep(builder, node);
    case 'Conv2D':
      return convStep(builder, node, node.inputs[0], config.padding as 'valid' | 'same');
    case 'BatchNormalization':
      return batchNormStep(builder, node);
    case 'Activation':
      return unaryStep(node, activationOf(node));
    case 'Add': {
      const relu = absorbRelu(builder, node);
      const add = (inputs: tf.Tensor[]) =>
        inputs.length === 2 ? tf.add(inputs[0], inputs[1]) : tf.addN(inputs);
      return {
        inputs: node.inputs,
        output: (relu ?? node).output,
        run: relu ? (inputs) => tf.relu(add(inputs)) : add,
      };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const pool = node.className === 'MaxPooling2D' ? tf.maxPool : tf.avgPool;
      const size = config.poolSize as [number, number];
      const strides = config.strides as [number, number];
      const padding = config.padding as 'valid' | 'same';
      return unaryStep(node, (x) => pool(x as tf.Tensor4D, size, strides, padding));
    }
    case 'GlobalAveragePooling2D':
      if (config.keepDims === true) throw new Unsupported(`layer ${node.layer.name} keeps dimensions`);
      return unaryStep(node, (x) => tf.mean(x, [1, 2]));
    case 'Dropout':
      return unaryStep(node, (x) => tf.clone(x));
    case 'Dense':
      return denseStep(builder, node);
    default:
      throw new Unsupported(`layer ${node.layer.name} is a ${node.className}`);
  }
}

function unaryStep(node: GraphLayer, run: (x: tf.Tensor) => tf.Tensor): Step {
  return { inputs: node.inputs, output: node.output, run: ([x]) => run(x as tf.Tensor) };
}

function activationOf(node: GraphLayer): (x: tf.Tensor) => tf.Tensor {
  switch (node.config.activation) {
    case 'relu':
      return (x) => tf.relu(x);
    case 'linear':
      return (x) => tf.clone(x);
    case 'softmax':
      return (x) => tf.softmax(x);
    default:
      throw new Unsupported(`layer ${node.layer.name} has activation ${String(node.config.activation)}`);
  }
}

/** Zero padding before a 'valid' convolution is the convolution's own padding; elsewhere a tf.pad. */
function paddingStep(builder: Builder, node: GraphLayer): Step {
  const [[top, bottom], [left, right]] = node.config.padding as [[number, number], [number, number]];
  const conv = soleReader(builder, node, 'Conv2D');
  if (conv !== undefined && conv.config.padding === 'valid') {
    builder.absorbed.add(conv);
    return convStep(builder, conv, node.inputs[0], [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ]);
  }
  return unaryStep(node, (x) =>
    tf.pad(x, [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ]),
  );
}

/** Conv2D [+ BatchNormalization folded in] [+ ReLU]: one convolution step (./convolution.ts) over folded weights. */
function convStep(
  builder: Builder,
  node: GraphLayer,
  input: number,
  pad: 'valid' | 'same' | ExplicitPadding,
): Step {
  const { config, layer } = node;
  const ownActivation = config.activation as string;
  if (ownActivation !== 'linear' && ownActivation !== 'relu') {
    throw new Unsupported(`layer ${layer.name} has activation ${ownActivation}`);
  }
  const bn = ownActivation === 'linear' ? soleReader(builder, node, 'BatchNormalization') : undefined;
  const foldable = bn !== undefined && [-1, 3].includes(bn.config.axis as number);
  let last = node;
  let filter: tf.Tensor4D;
  let bias: tf.Tensor | undefined;
  if (foldable) {
    builder.absorbed.add(bn);
    [filter, bias] = foldBatchNorm(builder, layer, bn);
    last = bn;
  } else {
    filter = weight(builder, layer, 'kernel') as tf.Tensor4D;
    bias = weight(builder, layer, 'bias');
  }
  const relu = ownActivation === 'relu' ? undefined : absorbRelu(builder, last);
  const convolve = convolutionFor({
    strides: config.strides as [number, number],
    dilations: config.dilationRate as [number, number],
    pad,
    relu: ownActivation === 'relu' || relu !== undefined,
  });
  return {
    inputs: [input],
    output: (relu ?? last).output,
    run: ([x]) => convolve(x as tf.Tensor4D, filter, bias),
  };
}

/** The convolution's kernel and bias with the BatchNorm's affine map folded in, owned by this forward. */
function foldBatchNorm(builder: Builder, conv: Layer, bn: GraphLayer): [tf.Tensor4D, tf.Tensor1D] {
  const epsilon = bn.config.epsilon as number;
  const [filter, bias] = tf.tidy(() => {
    const kernel = read(conv, 'kernel') as tf.Tensor4D;
    const gamma = read(bn.layer, 'gamma') ?? tf.scalar(1);
    const beta = read(bn.layer, 'beta') ?? tf.scalar(0);
    const mean = read(bn.layer, 'moving_mean') as tf.Tensor1D;
    const variance = read(bn.layer, 'moving_variance') as tf.Tensor1D;
    // Per output channel: the last axis of an HWIO kernel, broadcast.
    const scale = tf.div(gamma, tf.sqrt(tf.add(variance, epsilon)));
    const convBias = read(conv, 'bias') ?? tf.scalar(0);
    return [
      tf.mul(kernel, scale) as tf.Tensor4D,
      tf.add(tf.mul(tf.sub(convBias, mean), scale), beta) as tf.Tensor1D,
    ];
  });
  return [keep(builder, filter) as tf.Tensor4D, keep(builder, bias) as tf.Tensor1D];
}

/** A BatchNormalization that no convolution precedes: tf.batchNorm with its moving statistics. */
function batchNormStep(builder: Builder, node: GraphLayer): Step {
  const { layer, config } = node;
  if (![-1, 3].includes(config.axis as number)) {
    throw new Unsupported(`layer ${layer.name} normalises axis ${String(config.axis)}`);
  }
  const mean = weight(builder, layer, 'moving_mean') as tf.Tensor1D;
  const variance = weight(builder, layer, 'moving_variance') as tf.Tensor1D;
  const gamma = weight(builder, layer, 'gamma') as tf.Tensor1D | undefined;
  const beta = weight(builder, layer, 'beta') as tf.Tensor1D | undefined;
  const epsilon = config.epsilon as number;
  return unaryStep(node, (x) => tf.batchNorm(x, mean, variance, beta, gamma, epsilon));
}

/** Dense as one tf.fused.matMul (bias and a linear/ReLU activation inside), softmax after it. */
function denseStep(builder: Builder, node: GraphLayer): Step {
  const { layer, config } = node;
  const activation = config.activation as string;
  if (!['linear', 'relu', 'softmax'].includes(activation)) {
    throw new Unsupported(`layer ${layer.name} has activation ${activation}`);
  }
  const shape = (layer.inboundNodes[0].inputTensors[0] as tf.SymbolicTensor).shape;
  if (shape.length !== 2) throw new Unsupported(`layer ${layer.name} takes a rank-${shape.length} input`);
  const kernel = weight(builder, layer, 'kernel') as tf.Tensor2D;
  const bias = weight(builder, layer, 'bias');
  return unaryStep(node, (x) => {
    const fusedActivation = activation === 'relu' ? 'relu' : 'linear';
    const y = tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel, bias, activation: fusedActivation });
    return activation === 'softmax' ? tf.softmax(y) : y;
  });
}
