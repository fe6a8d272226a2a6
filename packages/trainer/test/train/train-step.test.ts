import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AdamL2 } from '../../src/train/adam.ts';
import { trainableParameters } from '../../src/train/parameters.ts';
import { clipByGlobalNorm, trainStep } from '../../src/train/train-step.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function globalNorm(gradients: tf.NamedTensorMap): number {
  return Math.hypot(...Object.values(gradients).flatMap((gradient) => [...gradient.dataSync()]));
}

describe('clipByGlobalNorm (--grad-clip-norm)', () => {
  it('scales every tensor by one factor down to the norm, as PyTorch clip_grad_norm_', () => {
    // Global norm of (3, 4) and (12): 13.
    const gradients = { a: tf.tensor1d([3, 4]), b: tf.tensor1d([12]) };
    const before = tf.memory().numTensors;
    const clipped = clipByGlobalNorm(gradients, 1);
    expect(tf.memory().numTensors).toBe(before);
    expect(gradients.a.isDisposed).toBe(true);
    expect(globalNorm(clipped)).toBeCloseTo(1, 5);
    expect([...clipped.a.dataSync()].map((v) => v * 13)).toEqual([
      expect.closeTo(3, 4),
      expect.closeTo(4, 4),
    ]);
    tf.dispose(Object.values(clipped));
  });

  it('leaves gradients within the norm as they are', () => {
    const gradients = { a: tf.tensor1d([0.3, 0.4]) };
    expect(clipByGlobalNorm(gradients, 1)).toBe(gradients);
    tf.dispose(gradients.a);
  });
});

describe('trainStep with gradClipNorm', () => {
  /** The global norm of the gradient trainStep hands the optimizer. */
  function appliedNorm(gradClipNorm: number | undefined): number {
    const input = tf.input({ shape: [4] });
    const output = tf.layers
      .dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) })
      .apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    let norm = Number.NaN;
    const optimizer = {
      applyGradients: (_: unknown, gradients: tf.NamedTensorMap) => {
        norm = globalNorm(gradients);
      },
    } as unknown as AdamL2;
    const inputs = tf.randomNormal([8, 4], 0, 10, 'float32', 5);
    const labels = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32');
    trainStep(model, optimizer, trainableParameters(model), [{ inputs, labels }], 3, { gradClipNorm });
    tf.dispose([inputs, labels]);
    model.dispose();
    return norm;
  }

  it('hands the optimizer the clipped gradient', () => {
    const unclipped = appliedNorm(undefined);
    expect(unclipped).toBeGreaterThan(0.5);
    expect(appliedNorm(0.5)).toBeCloseTo(0.5, 5);
    expect(appliedNorm(unclipped * 2)).toBeCloseTo(unclipped, 5);
  });
});
