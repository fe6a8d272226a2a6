/** A narrow ResNet for the folded-forward tests, with weights a wrong fold could not hide behind. */

import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import type { InferenceEngine } from '../../src/engine/inference-engine.ts';
import { buildResNet50 } from '../../src/model/resnet50.ts';

export const SIDE = 32;
export const CLASSES = 5;

/**
 * ResNet-14 at 1/16 width: the builder's seeded Glorot kernels, and seeded random BatchNorm parameters,
 * moving statistics and biases of the size training gives them (logits of order 1, softmax unsaturated).
 */
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
      const name = weight.originalName;
      if (name.endsWith('kernel')) return weight.read().clone();
      const noise = tf.randomNormal(weight.shape as number[], 0, 0.3, 'float32', seed * 1000 + index);
      if (name.endsWith('moving_variance')) return noise.abs().add(0.5);
      if (name.endsWith('gamma')) return noise.add(1);
      return noise;
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

/**
 * Predicts three times (a batch of `count`, again, then one image): the tensor count after the first
 * stays, and disposing the engine returns to `before`, the count taken before the engine was built.
 */
export async function expectTensorsStableThenFreed(
  engine: InferenceEngine,
  before: number,
  count: number,
  seed: number,
): Promise<void> {
  const inputs = tf.tidy(() =>
    tf.unstack(images(count, seed)).map((image) => image.dataSync() as Float32Array),
  );
  await engine.predict(inputs);
  const afterFirst = tf.memory().numTensors;
  await engine.predict(inputs);
  await engine.predict(inputs.slice(0, 1));
  expect(tf.memory().numTensors).toBe(afterFirst);
  engine.dispose();
  expect(tf.memory().numTensors).toBe(before);
}
