/**
 * The folded forward on wasm, where the engine uses it by default: `tf.fused.conv2d` (one XNNPACK
 * operator per convolution, bias and ReLU) against model.predict, and tensor hygiene.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend.ts';
import { foldForInference } from '../../src/engine/folded-forward.ts';
import { createTfjsEngine } from '../../src/engine/tfjs-engine.ts';
import { images, narrowResNet, relativeError } from './narrow-resnet.ts';

describe('folded forward on wasm', () => {
  beforeAll(async () => {
    await initBackend('wasm', () => {});
  });

  it('matches model.predict within 1e-4 relative', () => {
    const model = narrowResNet(31);
    const input = images(2, 32);
    const result = foldForInference(model);
    if (!('forward' in result)) throw new Error(result.unsupported);
    const [folded, reference] = tf.tidy(() => [
      result.forward.run(input).dataSync() as Float32Array,
      (model.predict(input) as tf.Tensor).dataSync() as Float32Array,
    ]);
    expect(relativeError(folded, reference)).toBeLessThan(1e-4);
    result.forward.dispose();
    input.dispose();
    model.dispose();
  });

  it('is the engine default there, stable in tensors across requests, freed on dispose', async () => {
    const before = tf.memory().numTensors;
    const engine = createTfjsEngine(narrowResNet(33));
    expect(engine.description).toMatch(/^tfjs wasm \(BatchNorm folded\)/);
    const inputs = tf.tidy(() => tf.unstack(images(3, 34)).map((image) => image.dataSync() as Float32Array));
    await engine.predict(inputs);
    const afterFirst = tf.memory().numTensors;
    await engine.predict(inputs);
    expect(tf.memory().numTensors).toBe(afterFirst);
    engine.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
