/**
 * The folded forward on the tensorflow backend, where the engine uses it by default and runs
 * TensorFlow's Conv2D, BiasAdd and Relu directly (engine/convolution.ts): parity with model.predict,
 * the ops it executes, and tensor hygiene. Skipped, saying why, where the backend is not provisioned.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend.ts';
import { foldForInference } from '../../src/engine/folded-forward.ts';
import { createTfjsEngine } from '../../src/engine/tfjs-engine.ts';
import { countTensorflowOps, useFusedKernels } from '../../src/tensorflow-ops.ts';
import { tensorflowSkipReason, titleFor } from '../../src/testing/tensorflow-backend.ts';
import { expectTensorsStableThenFreed, images, narrowResNet, relativeError } from './narrow-resnet.ts';

const skip = tensorflowSkipReason();

describe.skipIf(skip)('folded forward on the tensorflow backend', () => {
  beforeAll(async () => {
    await initBackend('tensorflow', () => {});
  });
  afterAll(() => useFusedKernels(true));

  it(titleFor('matches model.predict within 1e-4 relative, through TensorFlow ops directly', skip), () => {
    const model = narrowResNet(21);
    const input = images(2, 22);
    const reference = tf.tidy(() => (model.predict(input) as tf.Tensor).dataSync() as Float32Array);
    for (const direct of [true, false]) {
      useFusedKernels(direct);
      const result = foldForInference(model);
      if (!('forward' in result)) throw new Error(result.unsupported);
      let folded: Float32Array | undefined;
      const ops = countTensorflowOps(() => {
        folded = tf.tidy(() => result.forward.run(input).dataSync() as Float32Array);
      });
      expect(relativeError(folded as Float32Array, reference)).toBeLessThan(1e-4);
      const calls = Object.fromEntries(ops.map((op) => [op.name, op.calls]));
      // 17 convolutions (stem, 4 shortcuts, 4 × 3 in the blocks), each with its folded bias; 9 ReLUs
      // after a convolution (stem, 4 × 2 in the blocks) and 4 after a residual add.
      expect(calls.Conv2D).toBe(17);
      expect(calls.Relu).toBe(13);
      // Directly: BiasAdd per convolution. Through tf.fused.conv2d, tfjs-node adds the bias with Add.
      expect(calls.BiasAdd).toBe(direct ? 17 : undefined);
      expect(calls.FusedBatchNorm).toBeUndefined();
      result.forward.dispose();
    }
    useFusedKernels(true);
    input.dispose();
    model.dispose();
  });

  it(
    titleFor('is the engine default there, stable in tensors across requests, freed on dispose', skip),
    async () => {
      const before = tf.memory().numTensors;
      const engine = createTfjsEngine(narrowResNet(23));
      expect(engine.description).toMatch(/^tfjs tensorflow \(BatchNorm folded\)/);
      await expectTensorsStableThenFreed(engine, before, 3, 24);
    },
  );
});
