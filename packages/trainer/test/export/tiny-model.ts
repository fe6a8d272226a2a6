import type { EpochMetrics } from '@food/core/checkpoint/epoch-metrics';
import { type RunConfig, resolveRunConfig } from '@food/core/checkpoint/run-config';
import { buildResNet50 } from '@food/core/model/resnet50';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';

/**
 * A tiny ResNet-50 (same code, 1/16 width, one block per stage) whose BatchNorm layers hold random,
 * non-trivial statistics (gamma, beta, moving mean and variance far from 1/0/0/1), so an exporter that
 * skipped or botched the folding would disagree with tfjs.
 */
export function tinyResNet(
  options: { seed?: number; inputSize?: number; numClasses?: number } = {},
): tf.LayersModel {
  const seed = options.seed ?? 1;
  const model = buildResNet50({
    numClasses: options.numClasses ?? 5,
    inputSize: options.inputSize ?? 32,
    widthMultiplier: 1 / 16,
    blocksPerStage: [1, 1, 1, 1],
    seed,
  });
  const random = seedrandom(`tiny:${seed}`);
  const uniform = (n: number, low: number, high: number) =>
    Float32Array.from({ length: n }, () => low + (high - low) * random());
  for (const layer of model.layers) {
    // getWeights() hands out the variables themselves: read them, never dispose them.
    const weights = layer.getWeights();
    tf.tidy(() => {
      if (layer.getClassName() === 'BatchNormalization') {
        const n = weights[0]!.shape[0]!;
        // gamma, beta, moving mean, moving variance
        layer.setWeights([
          tf.tensor1d(uniform(n, 0.5, 1.5)),
          tf.tensor1d(uniform(n, -0.5, 0.5)),
          tf.tensor1d(uniform(n, -0.3, 0.3)),
          tf.tensor1d(uniform(n, 0.5, 2)),
        ]);
      } else if (layer.getClassName() === 'Conv2D' || layer.getClassName() === 'Dense') {
        // Non-zero biases, so the bias term of the folding is exercised too.
        const [kernel, bias] = weights;
        layer.setWeights([kernel!, tf.tensor1d(uniform(bias!.shape[0]!, -0.2, 0.2))]);
      }
    });
  }
  return model;
}

/** Synthetic HWC images with values like normalised pixels (about −2..2). */
export function syntheticImages(count: number, size: number, seed = 7): Float32Array[] {
  const random = seedrandom(`images:${seed}`);
  return Array.from({ length: count }, () =>
    Float32Array.from({ length: size * size * 3 }, () => 4 * random() - 2),
  );
}

/** A run config and epoch metrics of the shapes the trainer saves, for checkpoints of tiny models. */
export function tinyCheckpointParts(epoch = 1): { runConfig: RunConfig; metrics: EpochMetrics } {
  return {
    runConfig: resolveRunConfig({
      prepared: 'data/prepared/tiny',
      out: 'checkpoints/tiny',
      imageSize: 32,
      weights: 'none',
      backend: 'cpu',
      widthMultiplier: 1 / 16,
      blocksPerStage: [1, 1, 1, 1],
    }),
    metrics: {
      epoch,
      trainLoss: 1.2,
      trainAccuracy: 0.6,
      valLoss: 1.4,
      valTop1: 0.5,
      valTop5: 0.9,
      learningRate: 1e-5,
      seconds: 2,
      imagesPerSecond: 10,
      bestValTop1: 0.5,
      bestEpoch: epoch,
    },
  };
}
