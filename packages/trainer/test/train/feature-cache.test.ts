import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { buildResNet50 } from '@food/core/model/resnet50';
import { parsePreprocessConfig } from '@food/core/preprocess/config';
import { preprocessImage } from '@food/core/preprocess/image';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/data/prepared-set.ts';
import { drawView } from '../../src/train/cached-feature-source.ts';
import { type FeatureCacheOptions, openFeatureCache } from '../../src/train/feature-cache.ts';
import { createOnnxTrunk, type OnnxTrunk } from '../../src/train/onnx-trunk.ts';
import { splitModelAt } from '../../src/train/split-model.ts';
import { createPreparedSynth, type PreparedSynth } from '../fixtures/prepared-synth.ts';

let synth: PreparedSynth;
let model: tf.LayersModel;
let trunkModel: tf.LayersModel;
let trunk: OnnxTrunk;
let options: FeatureCacheOptions;

beforeAll(async () => {
  await initBackend('wasm', () => {});
  synth = await createPreparedSynth({ classes: 3, imagesPerClass: 8 });
  model = buildResNet50({
    numClasses: 3,
    inputSize: 32,
    widthMultiplier: 1 / 16,
    blocksPerStage: [1, 1, 1, 1],
    seed: 3,
  });
  trunkModel = splitModelAt(model, 'conv4_block1_out').trunk;
  trunk = await createOnnxTrunk(trunkModel, { intraOpThreads: 1 });
  const manifest = await readManifest(synth.prepared);
  options = {
    featureCacheDir: path.join(synth.root, 'feature-cache'),
    dataRoot: manifest.dataRoot,
    trainSamples: manifest.splits.train,
    valSamples: manifest.splits.val,
    preprocess: parsePreprocessConfig(
      JSON.parse(await readFile(path.join(synth.prepared, 'preprocess.json'), 'utf8')),
      'preprocess.json',
    ),
    numClasses: 3,
    featureViews: 2,
    seed: 5,
    trunk,
  };
});

afterAll(async () => {
  await trunk?.dispose();
  model?.dispose();
  if (synth) await rm(synth.root, { recursive: true, force: true });
});

async function readAll(cache: Awaited<ReturnType<typeof openFeatureCache>>, view: number) {
  const per = cache.featureShape.reduce((n, d) => n * d, 1);
  const out = new Float32Array(options.trainSamples.length * per);
  for (let i = 0; i < options.trainSamples.length; i++) await cache.read('train', view, i, out, i * per);
  return out;
}

describe('openFeatureCache', () => {
  it("caches the trunk's centre-crop features, equal to tfjs's, and augmented views that differ", async () => {
    let ran = 0;
    const cache = await openFeatureCache({ ...options, onProgress: (n) => (ran += n) });
    expect(cache.reused).toBe(false);
    expect(ran).toBe(options.trainSamples.length * 3 + options.valSamples.length);
    const centre = await readAll(cache, 0);
    const first = options.trainSamples[0]!;
    const image = await preprocessImage(
      await readFile(path.join(options.dataRoot, first.image)),
      options.preprocess,
    );
    const side = options.preprocess.cropSize;
    const expected = tf.tidy(
      () =>
        (trunkModel.predict(tf.tensor4d(image, [1, side, side, 3])) as tf.Tensor).dataSync() as Float32Array,
    );
    for (let i = 0; i < expected.length; i++) expect(centre[i]).toBeCloseTo(expected[i]!, 4);
    const view1 = await readAll(cache, 1);
    expect(view1).not.toEqual(centre);
    await cache.close();
  });

  it('is reused by a second run; more views compute only the new ones; another seed other views', async () => {
    let ran = 0;
    const again = await openFeatureCache({ ...options, onProgress: (n) => (ran += n) });
    expect(again.reused).toBe(true);
    expect(ran).toBe(0);
    const fewer = await openFeatureCache({ ...options, featureViews: 1 });
    expect(fewer.reused).toBe(true);
    const more = await openFeatureCache({ ...options, featureViews: 3, onProgress: (n) => (ran += n) });
    expect(more.reused).toBe(false);
    expect(ran).toBe(options.trainSamples.length);
    expect(more.dir).toBe(again.dir);
    const otherSeed = await openFeatureCache({ ...options, seed: 6, onProgress: (n) => (ran += n) });
    expect(ran).toBe(options.trainSamples.length * 3);
    // The centre crop does not depend on the views or their seed; the views do.
    expect(await readAll(otherSeed, 0)).toEqual(await readAll(again, 0));
    expect(await readAll(otherSeed, 1)).not.toEqual(await readAll(again, 1));
    await Promise.all([again, fewer, more, otherSeed].map((cache) => cache.close()));
    // Nothing half-written is left beside the cache files.
    expect((await readdir(again.dir)).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('is shared by another prepared folder of the same photos (statsSource differs)', async () => {
    const elsewhere = await openFeatureCache({
      ...options,
      preprocess: { ...options.preprocess, statsSource: 'stats over the training split of another folder' },
    });
    expect(elsewhere.reused).toBe(true);
    await elsewhere.close();
  });

  it('builds a new cache when the trunk changes', async () => {
    const otherModel = buildResNet50({
      numClasses: 3,
      inputSize: 32,
      widthMultiplier: 1 / 16,
      blocksPerStage: [1, 1, 1, 1],
      seed: 4,
    });
    const otherTrunk = await createOnnxTrunk(splitModelAt(otherModel, 'conv4_block1_out').trunk);
    const cache = await openFeatureCache({ ...options, featureViews: 0, trunk: otherTrunk });
    expect(cache.reused).toBe(false);
    const original = await openFeatureCache(options);
    expect(cache.dir).not.toBe(original.dir);
    await Promise.all([cache.close(), original.close()]);
    await otherTrunk.dispose();
    otherModel.dispose();
  });
});

describe('drawView', () => {
  it('draws every one of the K + 1 views, the same for the same (seed, epoch, image)', () => {
    const draws = Array.from({ length: 200 }, (_, index) => drawView(1, 0, index, 3));
    expect(new Set(draws)).toEqual(new Set([0, 1, 2, 3]));
    expect(Array.from({ length: 200 }, (_, index) => drawView(1, 0, index, 3))).toEqual(draws);
    expect(Array.from({ length: 200 }, (_, index) => drawView(1, 1, index, 3))).not.toEqual(draws);
    expect(drawView(1, 0, 5, 0)).toBe(0);
  });
});
