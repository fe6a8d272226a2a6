/**
 * The folded forward (BatchNorm folded into the convolutions, conv + bias + ReLU as one fused op)
 * against model.predict, on a narrow ResNet with every layer kind of ResNet-50 and random, seeded
 * BatchNorm statistics (fresh ones, γ = 1 and β = μ = 0, σ² = 1, would hide a wrong fold).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { foldForInference } from '../../src/engine/folded-forward.ts';
import type { InferenceEngine } from '../../src/engine/inference-engine.ts';
import { createTfjsEngine } from '../../src/engine/tfjs-engine.ts';
import {
  CLASSES,
  expectTensorsStableThenFreed,
  images,
  narrowResNet,
  relativeError,
} from './narrow-resnet.ts';

let engines: InferenceEngine[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterEach(() => {
  for (const engine of engines) engine.dispose();
  engines = [];
});

describe('foldForInference', () => {
  it('gives model.predict logits within 1e-4 relative, in one step per conv + BN + ReLU', () => {
    const model = narrowResNet(3);
    const result = foldForInference(model);
    if (!('forward' in result)) throw new Error(result.unsupported);
    const { forward } = result;
    // Stem (pad + conv + BN + ReLU), pool pad, max pool; per block a shortcut conv, three convs and
    // add + ReLU; average pool; dense. 57 layers run in 25 steps.
    expect(model.layers.length).toBe(57);
    expect(forward.steps).toBe(3 + 4 * 5 + 2);
    const input = images(3, 5);
    const [folded, reference] = tf.tidy(() => [
      forward.run(input).dataSync() as Float32Array,
      (model.predict(input) as tf.Tensor).dataSync() as Float32Array,
    ]);
    expect(folded.length).toBe(3 * CLASSES);
    expect(relativeError(folded, reference)).toBeLessThan(1e-4);
    forward.dispose();
    input.dispose();
    model.dispose();
  });

  it('leaves no tensor behind per call, and frees its folded weights on dispose', () => {
    const model = narrowResNet(4);
    const input = images(2, 6);
    const before = tf.memory().numTensors;
    const result = foldForInference(model);
    if (!('forward' in result)) throw new Error(result.unsupported);
    const afterBuild = tf.memory().numTensors;
    expect(afterBuild).toBeGreaterThan(before);
    for (let call = 0; call < 3; call++) {
      result.forward.run(input).dispose();
      expect(tf.memory().numTensors).toBe(afterBuild);
    }
    result.forward.dispose();
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
    model.dispose();
  });

  it('names the layer it cannot run, and holds no tensor then', () => {
    const input = tf.input({ shape: [4, 4, 3] });
    // The convolution's weights are copied before the Flatten is reached: they must be freed.
    const features = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu' }).apply(input);
    const flat = tf.layers.flatten({ name: 'flatten_here' }).apply(features);
    const output = tf.layers.dense({ units: 2 }).apply(flat) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    const before = tf.memory().numTensors;
    expect(foldForInference(model)).toEqual({ unsupported: 'layer flatten_here is a Flatten' });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('createTfjsEngine with foldBatchNorm', () => {
  const engineFor = (model: tf.LayersModel, foldBatchNorm?: boolean) => {
    const engine = createTfjsEngine(model, { foldBatchNorm });
    engines.push(engine);
    return engine;
  };

  it('gives the probabilities of model.predict within 1e-5', async () => {
    const inputs = tf.tidy(() => tf.unstack(images(4, 9)).map((image) => image.dataSync() as Float32Array));
    const folded = engineFor(narrowResNet(5), true);
    const layered = engineFor(narrowResNet(5), false);
    expect(folded.description).toContain('BatchNorm folded');
    expect(layered.description).not.toContain('BatchNorm folded');
    const [a, b] = [await folded.predict(inputs), await layered.predict(inputs)];
    // Unsaturated, so that a wrong fold shows in the probabilities too.
    expect(Math.max(...a.flatMap((row) => [...row]))).toBeLessThan(0.99);
    for (const [row, probabilities] of a.entries()) {
      const expected = b[row] as Float32Array;
      for (const [j, p] of probabilities.entries())
        expect(Math.abs(p - (expected[j] as number))).toBeLessThan(1e-5);
    }
  });

  it('keeps tensors stable across requests and frees everything on dispose', async () => {
    const before = tf.memory().numTensors;
    const engine = createTfjsEngine(narrowResNet(6), { foldBatchNorm: true });
    await expectTensorsStableThenFreed(engine, before, 2, 10);
  });

  it('uses model.predict by default off the tensorflow backend', () => {
    expect(engineFor(narrowResNet(7)).description).not.toContain('BatchNorm folded');
  });

  it('refuses foldBatchNorm: true for a model it cannot fold, saying which layer', () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const flat = tf.layers.flatten({ name: 'flatten_here' }).apply(input);
    const output = tf.layers.dense({ units: 2 }).apply(flat) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output, name: 'flat_model' });
    expect(() => createTfjsEngine(model, { foldBatchNorm: true })).toThrow(
      /Cannot fold BatchNorm into the convolutions of flat_model: layer flatten_here is a Flatten/,
    );
    model.dispose();
  });
});
