import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { buildResNet50 } from '@food/core/model/resnet50';
import { DEFAULT_PREPROCESS, type PreprocessConfig } from '@food/core/preprocess/config';
import { loadCroppedRgb, normalizePixels } from '@food/core/preprocess/image';
import { SHARED_DATA } from '@food/core/testing/shared-data';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyWeights } from '../../src/weights/apply-weights.ts';
import { CAFFE_MEAN_BGR, foldCaffeInputIntoConv1 } from '../../src/weights/fold-conv1.ts';
import { loadBackboneWeights } from '../../src/weights/load-backbone.ts';
import { disposeWeights, type WeightMap } from '../../src/weights/weight-map.ts';
import { writeWeightsManifest } from '../../src/weights/write-manifest.ts';
import { relativeDifference } from '../helpers/relative-difference.ts';

const { resnet50Weights: weightsDir, food10Images: food10 } = SHARED_DATA;
const available = existsSync(path.join(weightsDir, 'weights_manifest.json')) && existsSync(food10);
if (!available) console.warn(`skipping: ${weightsDir} or ${food10} is absent`);

let weights: WeightMap;
let photo: Uint8Array;

beforeAll(async () => {
  if (!available) return;
  await initBackend('wasm', () => {});
  weights = await loadBackboneWeights(weightsDir);
  const classDir = path.join(food10, readdirSync(food10).sort()[0]!);
  const image = readdirSync(classDir).sort()[0]!;
  photo = await loadCroppedRgb(readFileSync(path.join(classDir, image)), DEFAULT_PREPROCESS);
});

afterAll(() => {
  if (weights) disposeWeights(weights);
});

/** Keras "caffe" input for 8-bit RGB HWC pixels: BGR, minus the BGR mean, 0..255. */
function caffeInput(rgb: Uint8Array): tf.Tensor4D {
  const data = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    for (let c = 0; c < 3; c++) data[i + c] = rgb[i + 2 - c]! - CAFFE_MEAN_BGR[c]!;
  }
  return tf.tensor4d(data, [1, 224, 224, 3]);
}

const ourInput = (rgb: Uint8Array, p: PreprocessConfig) =>
  tf.tensor4d(normalizePixels(rgb, p), [1, 224, 224, 3]);

function features(weightsToLoad: WeightMap, input: tf.Tensor4D, layer: string): Float32Array {
  const model = buildResNet50({ numClasses: 50 });
  applyWeights(model, weightsToLoad);
  const extractor = tf.model({ inputs: model.inputs, outputs: model.getLayer(layer).output });
  const out = tf.tidy(() => (extractor.predict(input) as tf.Tensor).dataSync() as Float32Array);
  model.dispose();
  return out;
}

describe.skipIf(!available)('ImageNet ResNet-50 weights (../shared)', () => {
  it('load 100% of the backbone strictly, and survive a manifest round trip bit for bit', async () => {
    const model = buildResNet50({ numClasses: 50 });
    const coverage = applyWeights(model, weights);
    expect(coverage.loaded).toHaveLength(318);
    expect(coverage.loadedParameters).toBe(23_587_712);
    expect(coverage.percent).toBe(100);
    model.dispose();

    const out = mkdtempSync(path.join(os.tmpdir(), 'imported-'));
    try {
      await writeWeightsManifest(out, weights);
      const again = await loadBackboneWeights(out);
      expect([...again.keys()]).toEqual([...weights.keys()]);
      for (const [name, tensor] of again) {
        // Byte comparison: deep-equality of 23.6 M floats through expect() takes minutes.
        const bytes = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).buffer);
        expect(bytes(tensor).equals(bytes(weights.get(name)!)), name).toBe(true);
      }
      disposeWeights(again);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('folded weights on normalised input = original weights on caffe input, through the whole backbone', () => {
    // With the data set mean equal to the ImageNet mean, a zero-padded border is the same pixel in both
    // input spaces, so the equality holds everywhere and avg_pool features can be compared.
    const preprocess: PreprocessConfig = {
      ...DEFAULT_PREPROCESS,
      mean: [123.68 / 255, 116.779 / 255, 103.939 / 255],
      std: [0.229, 0.224, 0.225],
    };
    const folded = foldCaffeInputIntoConv1(weights, preprocess);
    const caffe = caffeInput(photo);
    const ours = ourInput(photo, preprocess);
    const expected = features(weights, caffe, 'avg_pool');
    const actual = features(folded, ours, 'avg_pool');
    expect(expected).toHaveLength(2048);
    const error = relativeDifference(expected, actual);
    console.info(`avg_pool max |Δ| / max |feature| = ${error.toExponential(2)}`);
    expect(error).toBeLessThan(1e-3);
    // And the unfolded weights on normalised input are clearly different features.
    expect(relativeDifference(expected, features(weights, ours, 'avg_pool'))).toBeGreaterThan(0.05);
    for (const t of [caffe, ours, folded.get('conv1_conv/kernel')!, folded.get('conv1_conv/bias')!])
      t.dispose();
  });

  it('with a data set mean/std, conv1 agrees away from the zero-padded border', () => {
    const preprocess: PreprocessConfig = {
      ...DEFAULT_PREPROCESS,
      mean: [0.55, 0.44, 0.34],
      std: [0.27, 0.28, 0.29],
    };
    const folded = foldCaffeInputIntoConv1(weights, preprocess);
    const caffe = caffeInput(photo);
    const ours = ourInput(photo, preprocess);
    const interior = (values: Float32Array) =>
      tf.tidy(
        () =>
          tf
            .tensor4d(values, [1, 112, 112, 64])
            .slice([0, 2, 2, 0], [1, 108, 108, 64])
            .dataSync() as Float32Array,
      );
    const expected = interior(features(weights, caffe, 'conv1_conv'));
    const actual = interior(features(folded, ours, 'conv1_conv'));
    expect(relativeDifference(expected, actual)).toBeLessThan(1e-3);
    for (const t of [caffe, ours, folded.get('conv1_conv/kernel')!, folded.get('conv1_conv/bias')!])
      t.dispose();
  });
});
