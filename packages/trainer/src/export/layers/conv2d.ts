/** Conv2D → Conv, with its zero padding absorbed and the BatchNormalization after it folded in. */
import type * as tf from '@tensorflow/tfjs';
import { type BatchNormWeights, foldBatchNorm, kerasToOnnxConv } from '../fold-batch-norm.ts';
import { addInitializer, intAttr, intsAttr } from '../onnx-graph.ts';
import { UnsupportedModelError } from '../unsupported-model-error.ts';
import type { Conversion } from './conversion.ts';
import { samePadding } from './same-padding.ts';
import { type LayerConfig, onlyConsumer } from './topology.ts';

export function convertConv2D(layer: tf.layers.Layer, config: LayerConfig, conversion: Conversion): void {
  const { graph, tensorOf } = conversion;
  const name = layer.name;
  const conv = convWeights(layer, config);
  // Zero padding followed by a convolution is exactly the Conv's own zero `pads`.
  const { input, pads } = conversion.exclusivePadInto(layer)
    ? conversion.absorbPad(layer, samePadding(layer, config))
    : { pads: samePadding(layer, config), input: conversion.input(layer) };
  // Fold the BatchNormalization that is this conv's only consumer (every BN in ResNet-50).
  const next = onlyConsumer(conversion.model, layer);
  let onnxConv = kerasToOnnxConv(conv);
  let outputLayer = layer;
  if (next?.getClassName() === 'BatchNormalization' && conversion.consumerCount(name) === 1) {
    onnxConv = foldBatchNorm(onnxConv, batchNormWeights(next));
    conversion.folded.add(next.name);
    outputLayer = next;
  }
  const weight = addInitializer(graph, `${name}/weight`, onnxConv.weightShape, onnxConv.weight);
  const bias = addInitializer(graph, `${name}/bias`, [onnxConv.weightShape[0]], onnxConv.bias);
  const [kh, kw] = config.kernelSize as [number, number];
  const convolved = conversion.emit({
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
  const output = conversion.activation(`${name}_activation`, convolved, config.activation);
  tensorOf.set(outputLayer.name, output);
  if (outputLayer !== layer) tensorOf.set(name, output);
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
