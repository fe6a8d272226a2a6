import * as tf from '@tensorflow/tfjs';
import type { EpochMetrics } from '../../src/checkpoint/epoch-metrics.ts';
import { type ResolvedRunConfig, runDefaults } from '../../src/checkpoint/run-config.ts';
import { DEFAULT_PREPROCESS, type PreprocessConfig } from '../../src/preprocess/config.ts';

/** Input side of the tiny test models; their preprocess config crops to it. */
export const TINY_SIDE = 8;

export const TINY_PREPROCESS: PreprocessConfig = {
  ...DEFAULT_PREPROCESS,
  resizeShorterSide: TINY_SIDE,
  cropSize: TINY_SIDE,
};

/**
 * conv + BatchNorm + dense head with linear outputs (logits), like ResNet-50's layers in miniature.
 * Every weight, BatchNorm moving statistics included, is seeded random so that a round trip that
 * drops or reorders any of them changes the predictions.
 */
export function tinyModel(seed: number, classes = 5): tf.LayersModel {
  const input = tf.input({ shape: [TINY_SIDE, TINY_SIDE, 3], name: 'input' });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv1_conv' }).apply(input);
  x = tf.layers.batchNormalization({ name: 'conv1_bn' }).apply(x);
  x = tf.layers.activation({ activation: 'relu', name: 'conv1_relu' }).apply(x);
  x = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x);
  const logits = tf.layers.dense({ units: classes, name: 'predictions' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: logits, name: `tiny_${seed}` });
  const weights = model.weights.map((weight, index) =>
    tf.tidy(() => {
      const values = tf.randomNormal(weight.shape as number[], 0, 1, 'float32', seed * 1000 + index);
      // Moving variance must stay positive.
      return weight.name.includes('moving_variance') ? values.abs().add(0.5) : values;
    }),
  );
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

export function randomInputs(count: number, seed: number): Float32Array[] {
  return Array.from({ length: count }, (_, index) =>
    tf.tidy(() => tf.randomNormal([TINY_SIDE * TINY_SIDE * 3], 0, 1, 'float32', seed + index).dataSync()),
  ) as Float32Array[];
}

/** Logits of `model` for `inputs`, as plain arrays (no tensors escape). */
export function predictLogits(model: tf.LayersModel, inputs: Float32Array[]): number[][] {
  return tf.tidy(() => {
    const batch = tf.stack(inputs.map((input) => tf.tensor3d(input, [TINY_SIDE, TINY_SIDE, 3])));
    return (model.predict(batch) as tf.Tensor).arraySync() as number[][];
  });
}

/**
 * A run config as the trainer saves it (every setting, defaults filled), for checkpoints of the tiny
 * models. Not through resolveRunConfig: their 8 px input is below what a ResNet-50 run may take.
 */
export function tinyRunConfig(seed = 1): ResolvedRunConfig {
  return {
    ...(runDefaults() as ResolvedRunConfig),
    prepared: 'data/prepared/tiny',
    out: 'checkpoints/tiny',
    learningRate: 1e-3,
    weightDecay: 0,
    epochs: 10,
    batchSize: 4,
    accumulate: 1,
    imageSize: TINY_SIDE,
    seed,
    weights: 'none',
    backend: 'cpu',
    trainable: 'all',
    cacheFeatures: false,
    augment: false,
    widthMultiplier: 1,
    blocksPerStage: [1, 1, 1, 1],
  };
}

/** metrics.json as the trainer writes it at the end of `epoch`. */
export function tinyEpochMetrics(epoch: number, valTop1 = 0.5): EpochMetrics {
  return {
    epoch,
    trainLoss: 1.2,
    trainAccuracy: 0.6,
    valLoss: 1.4,
    valTop1,
    valTop5: 0.9,
    learningRate: 1e-3,
    seconds: 2,
    imagesPerSecond: 10,
    bestValTop1: valTop1,
    bestEpoch: epoch,
  };
}
