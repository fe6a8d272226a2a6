import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InferenceEngine } from '../../src/engine/inference-engine.ts';
import { createTfjsEngine } from '../../src/engine/tfjs-engine.ts';
import { predictLogits, randomInputs, TINY_SIDE, tinyModel } from '../checkpoint/tiny-model.ts';

const CLASSES = 5;
let engines: InferenceEngine[] = [];

function engineFor(model: tf.LayersModel, maxBatch?: number): InferenceEngine {
  const engine = createTfjsEngine(model, { maxBatch });
  engines.push(engine);
  return engine;
}

function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++)
    expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(tolerance);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterEach(() => {
  for (const engine of engines) engine.dispose();
  engines = [];
});

describe('createTfjsEngine', () => {
  it('returns the softmax of the logits, one row per input', async () => {
    const model = tinyModel(1, CLASSES);
    const inputs = randomInputs(4, 100);
    const logits = predictLogits(model, inputs);
    const probabilities = await engineFor(model).predict(inputs);

    expect(probabilities).toHaveLength(4);
    for (const [row, rowProbabilities] of probabilities.entries()) {
      expect(rowProbabilities).toBeInstanceOf(Float32Array);
      const max = Math.max(...logits[row]);
      const exps = logits[row].map((logit) => Math.exp(logit - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      expectAllClose(
        rowProbabilities,
        exps.map((e) => e / sum),
        1e-6,
      );
      expect(rowProbabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });

  it('gives a batch of N the same results as N single predictions', async () => {
    const inputs = randomInputs(7, 200);
    const engine = engineFor(tinyModel(2, CLASSES), 3); // 7 inputs: batches of 3, 3, 1
    const batched = await engine.predict(inputs);
    const unbatched = await engineFor(tinyModel(2, CLASSES), 32).predict(inputs);
    for (const [index, input] of inputs.entries()) {
      const [single] = await engine.predict([input]);
      expectAllClose(batched[index], single, 1e-6);
      expectAllClose(unbatched[index], single, 1e-6);
    }
  });

  it('runs BatchNorm in inference mode (moving statistics, not batch statistics)', async () => {
    const model = tinyModel(3, CLASSES);
    const input = randomInputs(1, 300);
    const [probabilities] = await engineFor(model).predict(input);
    const [inference, training] = tf.tidy(() => {
      const images = tf.tensor4d(input[0], [1, TINY_SIDE, TINY_SIDE, 3]);
      return [false, true].map((training) =>
        tf.softmax(model.apply(images, { training }) as tf.Tensor).dataSync(),
      );
    });
    expectAllClose(probabilities, inference, 1e-6);
    expect(Math.max(...probabilities.map((p, i) => Math.abs(p - training[i])))).toBeGreaterThan(1e-3);
  });

  it('does not apply softmax twice to a model with a softmax head', async () => {
    const input = tf.input({ shape: [2, 2, 3] });
    const flat = tf.layers.flatten().apply(input);
    const output = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(flat) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    const image = new Float32Array(12).map((_, i) => i / 12);
    const expected = tf.tidy(() => (model.predict(tf.tensor4d(image, [1, 2, 2, 3])) as tf.Tensor).dataSync());
    const [probabilities] = await engineFor(model).predict([image]);
    expectAllClose(probabilities, expected, 1e-7);
  });

  it('does not leak tensors across 50 calls', async () => {
    const engine = engineFor(tinyModel(4, CLASSES), 4);
    const inputs = randomInputs(6, 400);
    await engine.predict(inputs);
    const before = tf.memory().numTensors;
    for (let call = 0; call < 50; call++) await engine.predict(inputs.slice(0, 1 + (call % 6)));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('validates inputs with a message that says what the model needs', async () => {
    const engine = engineFor(tinyModel(5, CLASSES));
    const good = new Float32Array(TINY_SIDE * TINY_SIDE * 3);
    await expect(engine.predict([good, new Float32Array(10)])).rejects.toThrow(
      /Input 1 is 10 values; the model needs a 8x8x3 HWC Float32Array \(192 values\) from preprocessImage/,
    );
    await expect(engine.predict([Array.from(good) as unknown as Float32Array])).rejects.toThrow(
      /Input 0 is not a Float32Array/,
    );
    expect(await engine.predict([])).toEqual([]);
    const model = tinyModel(6, CLASSES);
    expect(() => createTfjsEngine(model, { maxBatch: 0 })).toThrow(/maxBatch/);
    model.dispose();
  });

  it('describes itself and disposes the model', async () => {
    const model = tinyModel(7, CLASSES);
    const before = tf.memory().numTensors;
    const engine = createTfjsEngine(model, { maxBatch: 8 });
    expect(engine.description).toBe('tfjs cpu, tiny_7, 8x8x3 -> 5 classes, batches of <= 8');
    engine.dispose();
    engine.dispose();
    expect(tf.memory().numTensors).toBe(before - model.weights.length);
    await expect(engine.predict(randomInputs(1, 0))).rejects.toThrow(/disposed/);
  });
});
