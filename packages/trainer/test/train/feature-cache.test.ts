import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { buildResNet50 } from '@food/core/model/resnet50';
import { parsePreprocessConfig } from '@food/core/preprocess/config';
import { preprocessImage } from '@food/core/preprocess/image';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/data/prepared-set.ts';
import { redrawSplit, type SplitEntry } from '../../src/data/split.ts';
import { createCachedFeatureSource, drawView } from '../../src/train/cached-feature-source.ts';
import { type FeatureCacheOptions, openFeatureCache } from '../../src/train/feature-cache.ts';
import { createOnnxTrunk, type OnnxTrunk } from '../../src/train/onnx-trunk.ts';
import { splitModelAt } from '../../src/train/split-model.ts';
import { createPreparedSynth, type PreparedSynth } from '../fixtures/prepared-synth.ts';

let synth: PreparedSynth;
let model: tf.LayersModel;
let trunkModel: tf.LayersModel;
let trunk: OnnxTrunk;
let options: FeatureCacheOptions;
let classes: string[];

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
  classes = manifest.classes;
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
    featureCachePrecision: 'float16',
    seed: 5,
    trunk,
  };
});

afterAll(async () => {
  await trunk?.dispose();
  model?.dispose();
  if (synth) await rm(synth.root, { recursive: true, force: true });
});

/** Photos the cache holds: the training and validation images together. */
const photos = () => options.trainSamples.length + options.valSamples.length;

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
    expect(ran).toBe(photos() * 3);
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
    // float16 keeps 11 significant bits: a relative error of at most 2^-11 (plus ONNX Runtime's own).
    for (let i = 0; i < expected.length; i++) {
      expect(Math.abs(centre[i]! - expected[i]!)).toBeLessThanOrEqual(
        Math.abs(expected[i]!) * 2 ** -11 + 1e-4,
      );
    }
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
    expect(ran).toBe(photos());
    expect(more.dir).toBe(again.dir);
    const otherSeed = await openFeatureCache({ ...options, seed: 6, onProgress: (n) => (ran += n) });
    expect(ran).toBe(photos() * 3);
    // The centre crop does not depend on the views or their seed; the views do.
    expect(await readAll(otherSeed, 0)).toEqual(await readAll(again, 0));
    expect(await readAll(otherSeed, 1)).not.toEqual(await readAll(again, 1));
    await Promise.all([again, fewer, more, otherSeed].map((cache) => cache.close()));
    // Nothing half-written is left beside the cache files.
    expect((await readdir(again.dir)).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('is reused, every file, by another train/val split of the same photos (--val-fraction, another seed)', async () => {
    const all = [...options.trainSamples, ...options.valSamples];
    const { train, val } = redrawSplit({
      classes,
      train: options.trainSamples,
      val: options.valSamples,
      seed: 8,
      valFraction: 0.5,
    });
    expect(new Set(val)).not.toEqual(new Set(options.valSamples));
    let ran = 0;
    const original = await openFeatureCache(options);
    const redrawn = await openFeatureCache({
      ...options,
      trainSamples: train,
      valSamples: val,
      onProgress: (n) => (ran += n),
    });
    expect(redrawn.reused).toBe(true);
    expect(ran).toBe(0);
    expect(redrawn.dir).toBe(original.dir);
    // Each photo's features (centre crop and views) are the same whichever split holds it.
    const per = original.featureShape.reduce((n, d) => n * d, 1);
    const featuresOf = async (
      cache: Awaited<ReturnType<typeof openFeatureCache>>,
      splits: { train: readonly SplitEntry[]; val: readonly SplitEntry[] },
      image: string,
      view: number,
    ) => {
      const out = new Float32Array(per);
      const index = splits.train.findIndex((sample) => sample.image === image);
      if (index >= 0) await cache.read('train', view, index, out, 0);
      else
        await cache.read(
          'val',
          view,
          splits.val.findIndex((sample) => sample.image === image),
          out,
          0,
        );
      return out;
    };
    const moved = all.find((sample) => val.includes(sample) && options.trainSamples.includes(sample))!;
    const before = { train: options.trainSamples, val: options.valSamples };
    for (const view of [0, 1]) {
      expect(await featuresOf(redrawn, { train, val }, moved.image, view)).toEqual(
        await featuresOf(original, before, moved.image, view),
      );
    }
    await Promise.all([original.close(), redrawn.close()]);
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

describe('openFeatureCache: precision and size', () => {
  it('keeps float32 in its own cache, exact to ONNX Runtime, twice the bytes of float16', async () => {
    const half = await openFeatureCache(options);
    const full = await openFeatureCache({ ...options, featureCachePrecision: 'float32' });
    expect(full.dir).not.toBe(half.dir);
    expect(full.reused).toBe(false);
    const per = half.featureShape.reduce((n, d) => n * d, 1);
    const sizeOf = async (dir: string, file: string) => (await stat(path.join(dir, file))).size;
    expect(await sizeOf(half.dir, 'centre.f16')).toBe(photos() * per * 2);
    expect(await sizeOf(full.dir, 'centre.f32')).toBe(photos() * per * 4);
    const halfValues = await readAll(half, 1);
    const fullValues = await readAll(full, 1);
    // The float16 file holds the float32 features rounded: decoding gives exactly the rounded values.
    expect(halfValues).toEqual(new Float32Array(fullValues.map((value) => roundToHalf(value))));
    await Promise.all([half.close(), full.close()]);
  });

  it('caches only the views within --feature-cache-max-gb and says so', async () => {
    const per = trunk.featureShape.reduce((n, d) => n * d, 1);
    const entries = photos() * 2; // centre crops + 1 view
    const messages: string[] = [];
    const cache = await openFeatureCache({
      ...options,
      featureViews: 3,
      featureCacheMaxGb: (entries * per * 2 + 1) / 1e9,
      onPlan: (message) => messages.push(message),
    });
    expect(cache.views).toBe(1);
    expect(messages).toEqual([expect.stringMatching(/^3 views need .* GB at float16 .*caching 1 view /)]);
    await cache.close();
  });

  it('refuses to start, before the trunk runs, when the disk cannot hold the cache', async () => {
    let started = false;
    const opening = openFeatureCache({
      ...options,
      seed: 99, // views not cached yet
      freeBytes: async () => 1000,
      onBuildStart: () => (started = true),
    });
    await expect(opening).rejects.toThrow(
      /needs 0\.0 GB more in .*, but its disk has 0\.0 GB free: free space/,
    );
    await expect(opening).rejects.toMatchObject({ code: 'FEATURE_CACHE_NO_SPACE' });
    expect(started).toBe(false);
  });

  it("yields batches from a float16 cache without leaking tensors, drawing among the budget's views", async () => {
    const per = trunk.featureShape.reduce((n, d) => n * d, 1);
    const oneView = photos() * 2;
    // A draw of view 2 or 3 would fail: only view 1 is cached ("no cached view 2").
    const source = await createCachedFeatureSource(
      {
        ...options,
        batchSize: 4,
        augment: true,
        cacheFeatures: true,
        loaderConcurrency: 1,
        featureViews: 3,
        featureCacheMaxGb: (oneView * per * 2 + 1) / 1e9,
        trunk: trunkModel,
      },
      trunkModel,
    );
    const before = tf.memory().numTensors;
    for (let epoch = 0; epoch < 2; epoch++) {
      for await (const batch of source.train(epoch, 0)) {
        expect(batch.inputs.shape.slice(1)).toEqual(trunk.featureShape);
        tf.dispose([batch.inputs, batch.labels]);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    source.dispose();
  });
});

/** float32 → float16 → float32 by Math.fround's sibling for half: the nearest binary16 value, ties to even. */
function roundToHalf(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const exponent = Math.max(Math.floor(Math.log2(Math.abs(value))), -14);
  const step = 2 ** (exponent - 10);
  const scaled = value / step;
  let rounded = Math.round(scaled);
  if (Math.abs(scaled % 1) === 0.5 && rounded % 2 !== 0) rounded -= Math.sign(scaled);
  return rounded * step;
}

describe('drawView', () => {
  it('draws every one of the K + 1 views, the same for the same (seed, epoch, image)', () => {
    const draws = Array.from({ length: 200 }, (_, index) => drawView(1, 0, index, 3));
    expect(new Set(draws)).toEqual(new Set([0, 1, 2, 3]));
    expect(Array.from({ length: 200 }, (_, index) => drawView(1, 0, index, 3))).toEqual(draws);
    expect(Array.from({ length: 200 }, (_, index) => drawView(1, 1, index, 3))).not.toEqual(draws);
    expect(drawView(1, 0, 5, 0)).toBe(0);
  });
});
