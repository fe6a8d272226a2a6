/** A narrow ResNet for the folded-forward tests, with weights a wrong fold could not hide behind. */

import * as tf from '@tensorflow/tfjs';
import { buildResNet50 } from '../../src/model/resnet50.ts';

export const SIDE = 32;
export const CLASSES = 5;

/** ResNet-14 at 1/16 width, every weight seeded random (moving variances positive). */
export function narrowResNet(seed: number): tf.LayersModel {
  const model = buildResNet50({
    numClasses: CLASSES,
    inputSize: SIDE,
    widthMultiplier: 1 / 16,
    blocksPerStage: [1, 1, 1, 1],
    seed,
  });
  const weights = model.weights.map((weight, index) =>
    tf.tidy(() => {
      const shape = weight.shape as number[];
      const values = tf.randomNormal(shape, 0, 0.5, 'float32', seed * 1000 + index);
      if (weight.originalName.endsWith('moving_variance')) return values.abs().add(0.2);
      if (weight.originalName.endsWith('gamma')) return values.add(1);
      return values;
    }),
  );
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

export function images(count: number, seed: number): tf.Tensor4D {
  return tf.randomNormal([count, SIDE, SIDE, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
}

/** Largest |a − b| relative to the largest |b|. */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  let error = 0;
  let scale = 0;
  for (const [i, value] of expected.entries()) {
    error = Math.max(error, Math.abs((actual[i] as number) - value));
    scale = Math.max(scale, Math.abs(value));
  }
  return error / scale;
}
