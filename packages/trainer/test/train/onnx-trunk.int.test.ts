import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { buildResNet50 } from '@food/core/model/resnet50';
import { DEFAULT_PREPROCESS } from '@food/core/preprocess/config';
import { preprocessImage } from '@food/core/preprocess/image';
import { SHARED_DATA } from '@food/core/testing/shared-data';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPretrainedBackbone } from '../../src/train/load-pretrained.ts';
import { createOnnxTrunk } from '../../src/train/onnx-trunk.ts';
import { splitModelAt } from '../../src/train/split-model.ts';

// `--cache-features` runs the frozen trunk on ONNX Runtime instead of tfjs: on real photos through the
// real ImageNet ResNet-50, its features must be the tfjs trunk's to 1e-4 (relative L2 per image).
const { food10Images: FOOD10, resnet50Weights: WEIGHTS } = SHARED_DATA;
const present = existsSync(FOOD10) && existsSync(WEIGHTS);
const PHOTOS = 6;

let images: Float32Array;

/** The ImageNet ResNet-50: a fresh one per split (splitting re-applies the tail's layers). */
async function imagenetResNet(): Promise<tf.LayersModel> {
  const model = buildResNet50({ numClasses: 10, inputSize: 224, seed: 1 });
  await loadPretrainedBackbone(model, WEIGHTS, DEFAULT_PREPROCESS);
  return model;
}

/** ‖a − b‖₂ / ‖b‖₂ for each image's slice of the packed features. */
function relativeErrors(a: Float32Array, b: Float32Array, count: number): number[] {
  const per = a.length / count;
  return Array.from({ length: count }, (_, image) => {
    let diff = 0;
    let norm = 0;
    for (let i = image * per; i < (image + 1) * per; i++) {
      diff += (a[i]! - b[i]!) ** 2;
      norm += b[i]! ** 2;
    }
    return Math.sqrt(diff / norm);
  });
}

describe.skipIf(!present)('ONNX Runtime trunk on real food10 photos (skipped without ../shared)', () => {
  beforeAll(async () => {
    await initBackend('wasm', () => {});
    // One photo from each of the first classes, in a fixed order.
    const classes = readdirSync(FOOD10).sort().slice(0, PHOTOS);
    const photos = classes.map((name) =>
      path.join(FOOD10, name, readdirSync(path.join(FOOD10, name)).sort()[0]!),
    );
    const side = 224 * 224 * 3;
    images = new Float32Array(PHOTOS * side);
    for (const [i, file] of photos.entries()) {
      images.set(await preprocessImage(await readFile(file), DEFAULT_PREPROCESS), i * side);
    }
  });

  for (const boundary of ['conv4_block6_out', 'avg_pool']) {
    it(`gives the tfjs trunk's features up to ${boundary}, within 1e-4 relative`, async () => {
      const model = await imagenetResNet();
      const { trunk, tail } = splitModelAt(model, boundary);
      const onnx = await createOnnxTrunk(trunk, { intraOpThreads: 2 });
      try {
        const expected = tf.tidy(() =>
          (trunk.predict(tf.tensor4d(images, [PHOTOS, 224, 224, 3])) as tf.Tensor).dataSync(),
        ) as Float32Array;
        const actual = await onnx.run(images, PHOTOS);
        expect(onnx.featureShape).toEqual(trunk.outputs[0]!.shape.slice(1));
        expect(actual.length).toBe(expected.length);
        for (const error of relativeErrors(actual, expected, PHOTOS)) expect(error).toBeLessThan(1e-4);
        // Real features, not zeros: ReLU outputs of a real photo are mostly non-zero somewhere.
        expect(expected.some((value) => value > 0.1)).toBe(true);
      } finally {
        await onnx.dispose();
        tail.dispose();
        model.dispose();
      }
    });
  }
});
