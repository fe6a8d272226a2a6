import type * as tf from '@tensorflow/tfjs';
import { UnsupportedModelError } from '../unsupported-model-error.ts';
import { inputShape, type LayerConfig } from './topology.ts';

/** ONNX order: top, left, bottom, right. */
export type Pads = [number, number, number, number];

/**
 * TensorFlow's `same` padding for a known input size: out = ceil(in / stride), the total padding split
 * with the extra pixel at the end (bottom/right), unlike ONNX's symmetric `auto_pad` defaults.
 */
export function samePadding(layer: tf.layers.Layer, config: LayerConfig): Pads {
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
