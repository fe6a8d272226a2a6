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

import type * as tf from '@tensorflow/tfjs';
import { Conversion } from './layers/conversion.ts';
import { LAYER_CONVERTERS } from './layers/converters.ts';
import type { LayerConfig } from './layers/topology.ts';
import { emptyGraph, intAttr, type OnnxGraph } from './onnx-graph.ts';
import { BATCH_DIM, INPUT_NAME, LOGITS_NAME, PROBABILITIES_NAME } from './onnx-names.ts';
import { UnsupportedModelError } from './unsupported-model-error.ts';

// The exporter's public names, from the one module callers import.
export { BATCH_DIM, INPUT_NAME, LOGITS_NAME, PROBABILITIES_NAME } from './onnx-names.ts';
export { UnsupportedModelError } from './unsupported-model-error.ts';

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
  const graph = emptyGraph(model.name);
  graph.inputs.push({ name: INPUT_NAME, shape: [BATCH_DIM, ...imageInputShape(model)] });
  const conversion = new Conversion(model, graph);
  for (const layer of model.layers) {
    const config = layer.getConfig() as LayerConfig;
    assertConvertible(layer, config);
    const convert = LAYER_CONVERTERS[layer.getClassName()];
    if (!convert) throw new UnsupportedModelError(`layer ${layer.name} is a ${layer.getClassName()}`);
    convert(layer, config, conversion);
  }
  return { graph, tensorOf: conversion.tensorOf };
}

/** [H, W, C] of the model's one fixed-size image input; throws unless it has one input and one output. */
function imageInputShape(model: tf.LayersModel): [number, number, number] {
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
  return [height!, width!, channels!];
}

/** What no converter handles: a layer applied more than once, or channels-first data. */
function assertConvertible(layer: tf.layers.Layer, config: LayerConfig): void {
  if (layer.inboundNodes.length > 1) {
    throw new UnsupportedModelError(
      `layer ${layer.name} is applied ${layer.inboundNodes.length} times (shared layers)`,
    );
  }
  if ('dataFormat' in config && config.dataFormat !== 'channelsLast') {
    throw new UnsupportedModelError(`layer ${layer.name} uses data format ${String(config.dataFormat)}`);
  }
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
