import { initBackend } from '@food/core/backend';
import type { InferenceEngine } from '@food/core/engine/inference-engine';
import { createOnnxEngine } from '@food/core/engine/onnx-engine';
import { createTfjsEngine } from '@food/core/engine/tfjs-engine';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mirrorImage, withTestTimeAugmentation } from '../../src/evaluate/test-time-augmentation.ts';
import { layersModelToOnnx } from '../../src/export/layers-to-onnx.ts';
import { encodeModel } from '../../src/export/onnx-graph.ts';
import { syntheticImages, tinyResNet } from '../export/tiny-model.ts';

const SIZE = 32;

/** The mirror made by TensorFlow (reverse along the width axis), independently of mirrorImage. */
function tfMirror(image: Float32Array): Float32Array {
  return tf.tidy(() => tf.reverse(tf.tensor3d(image, [SIZE, SIZE, 3]), 1).dataSync() as Float32Array);
}

function maxAbsDifference(a: Float32Array[], b: Float32Array[]): number {
  expect(a.map((row) => row.length)).toEqual(b.map((row) => row.length));
  return Math.max(...a.flatMap((row, i) => Array.from(row, (value, c) => Math.abs(value - b[i]![c]!))));
}

describe('flip test-time augmentation', () => {
  let model: tf.LayersModel;
  const engines: Record<string, InferenceEngine> = {};
  // Five images in engines that batch at most 3: the doubled batch is split over several model calls.
  const images = syntheticImages(5, SIZE);

  beforeAll(async () => {
    await initBackend('wasm', () => {});
    model = tinyResNet();
    engines.tfjs = createTfjsEngine(model, { maxBatch: 3 });
    engines.onnx = await createOnnxEngine(encodeModel(layersModelToOnnx(model), { metadata: {} }), {
      maxBatch: 3,
      intraOpThreads: 1,
    });
  });

  afterAll(() => {
    engines.onnx?.dispose();
    model?.dispose();
  });

  it('mirrors an HWC image column by column, as tf.reverse along the width does', () => {
    for (const image of images) expect(mirrorImage(image, SIZE, 3)).toEqual(tfMirror(image));
    const tiny = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8); // 2 rows, 2 columns, 2 channels
    expect(Array.from(mirrorImage(tiny, 2, 2))).toEqual([3, 4, 1, 2, 7, 8, 5, 6]);
  });

  for (const name of ['tfjs', 'onnx']) {
    it(`${name}: the probabilities are the mean of the engine's on each image and on its mirror`, async () => {
      const engine = engines[name]!;
      const plain = await engine.predict(images);
      const mirrored = await engine.predict(images.map(tfMirror));
      const expected = plain.map((row, i) => row.map((p, c) => (p + mirrored[i]![c]!) / 2));
      const augmented = await withTestTimeAugmentation(engine, 'flip', SIZE).predict(images);
      expect(maxAbsDifference(augmented, expected)).toBeLessThan(1e-6);
      // Not vacuous: the mirror changes the model's answer, so the mean differs from the plain pass.
      expect(maxAbsDifference(plain, mirrored)).toBeGreaterThan(1e-3);
      expect(maxAbsDifference(augmented, plain)).toBeGreaterThan(1e-4);
      for (const row of augmented) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    });
  }

  it('none is the engine itself, so its predictions are unchanged', async () => {
    const engine = engines.tfjs!;
    expect(withTestTimeAugmentation(engine, 'none', SIZE)).toBe(engine);
    expect(withTestTimeAugmentation(engine, 'flip', SIZE).description).toBe(
      `${engine.description}, flip TTA (2 passes per image)`,
    );
  });

  it('leaks no tensors on the tfjs engine', async () => {
    const augmented = withTestTimeAugmentation(engines.tfjs!, 'flip', SIZE);
    await augmented.predict(images); // warm-up
    const before = tf.memory().numTensors;
    for (let round = 0; round < 3; round++) await augmented.predict(images);
    expect(tf.memory().numTensors).toBe(before);
  });
});
