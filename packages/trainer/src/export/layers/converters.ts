/**
 * One converter per Keras layer class: each reads the layer, appends its ONNX nodes to the conversion
 * and records which tensor holds the layer's output (Conversion.tensorOf).
 */
import type * as tf from '@tensorflow/tfjs';
import { intAttr, intsAttr } from '../onnx-graph.ts';
import { INPUT_NAME } from '../onnx-names.ts';
import { UnsupportedModelError } from '../unsupported-model-error.ts';
import { convertConv2D } from './conv2d.ts';
import type { Conversion } from './conversion.ts';
import { convertDense } from './dense.ts';
import { convertMaxPooling2D } from './max-pooling2d.ts';
import { inboundLayerNames, type LayerConfig } from './topology.ts';

export type LayerConverter = (layer: tf.layers.Layer, config: LayerConfig, conversion: Conversion) => void;

export const LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  // The image enters NHWC (as preprocessImage makes it); everything inside is NCHW.
  InputLayer: (layer, _config, conversion) => {
    conversion.tensorOf.set(
      layer.name,
      conversion.emit({
        name: `${layer.name}/to_nchw`,
        op: 'Transpose',
        inputs: [INPUT_NAME],
        outputs: [`${layer.name}/nchw`],
        attributes: { perm: intsAttr([0, 3, 1, 2]) },
      }),
    );
  },
  ZeroPadding2D: (layer, config, conversion) => {
    const [[top, bottom], [left, right]] = config.padding as [[number, number], [number, number]];
    conversion.deferPad(layer.name, { source: conversion.input(layer), pads: [top, left, bottom, right] });
  },
  Conv2D: convertConv2D,
  BatchNormalization: (layer, _config, conversion) => {
    if (!conversion.folded.has(layer.name)) {
      throw new UnsupportedModelError(
        `BatchNormalization ${layer.name} does not directly follow a Conv2D it can fold into`,
      );
    }
  },
  Activation: (layer, config, conversion) => {
    conversion.tensorOf.set(
      layer.name,
      conversion.activation(layer.name, conversion.input(layer), config.activation),
    );
  },
  MaxPooling2D: convertMaxPooling2D,
  Add: (layer, _config, conversion) => {
    const inputs = inboundLayerNames(layer).map((_, i) => conversion.input(layer, i));
    const op = inputs.length === 2 ? 'Add' : 'Sum';
    conversion.tensorOf.set(
      layer.name,
      conversion.emit({ name: layer.name, op, inputs, outputs: [layer.name] }),
    );
  },
  GlobalAveragePooling2D: (layer, _config, conversion) => {
    const pooled = conversion.emit({
      name: layer.name,
      op: 'GlobalAveragePool',
      inputs: [conversion.input(layer)],
      outputs: [`${layer.name}/nc11`],
    });
    conversion.tensorOf.set(
      layer.name,
      conversion.emit({
        name: `${layer.name}/flatten`,
        op: 'Flatten',
        inputs: [pooled],
        outputs: [layer.name],
        attributes: { axis: intAttr(1) },
      }),
    );
  },
  // Inference: dropout passes its input through.
  Dropout: (layer, _config, conversion) => {
    conversion.tensorOf.set(layer.name, conversion.input(layer));
  },
  Dense: convertDense,
};
