/**
 * Batches for `--cache-features`: the frozen trunk runs on ONNX Runtime once per image and view into
 * the disk cache (feature-cache.ts), and each epoch reads its batches from there. With
 * `--feature-views K`, every epoch draws one of the K + 1 cached views (centre crop or an augmented
 * one) of each training image, so augmentation survives caching.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { epochOrder } from '../data/loader.ts';
import type { BatchSource, BatchSourceOptions } from './batch-source.ts';
import { type CacheSplit, type FeatureCache, openFeatureCache } from './feature-cache.ts';
import { createOnnxTrunk } from './onnx-trunk.ts';
import type { ModelBatch } from './train-step.ts';

/**
 * The view (0 = centre crop, 1..views = augmented) of training image `index` in `epoch`: seeded by
 * (seed, epoch, index) alone, so a resumed epoch draws the same views.
 */
export function drawView(seed: number, epoch: number, index: number, views: number): number {
  if (views === 0) return 0;
  return Math.floor(seedrandom(`feature-view:${seed}:${epoch}:${index}`)() * (views + 1));
}

export async function createCachedFeatureSource(
  options: BatchSourceOptions,
  trunkModel: tf.LayersModel,
): Promise<BatchSource> {
  const views = options.featureViews ?? 0;
  if (!options.featureCacheRoot) throw new Error('createCachedFeatureSource needs featureCacheRoot');
  const trunk = await createOnnxTrunk(trunkModel, { intraOpThreads: availableParallelism() });
  let cache: FeatureCache;
  try {
    cache = await openFeatureCache({
      root: options.featureCacheRoot,
      dataRoot: options.dataRoot,
      trainSamples: options.trainSamples,
      valSamples: options.valSamples,
      preprocess: options.preprocess,
      numClasses: options.numClasses,
      views,
      seed: options.seed,
      trunk,
      concurrency: options.concurrency,
      onBuildStart: options.onCacheStart,
      onProgress: options.onCacheProgress,
    });
  } finally {
    // Training never runs the trunk again: free ONNX Runtime's copy of its weights.
    await trunk.dispose();
  }
  options.onCacheReady?.(cache.dir, cache.reused);
  const perImage = cache.featureShape.reduce((n, d) => n * d, 1);

  async function* batchesOf(
    split: CacheSplit,
    order: readonly number[],
    samples: BatchSourceOptions['trainSamples'],
    viewOf: (index: number) => number,
  ): AsyncIterable<ModelBatch> {
    for (let start = 0; start < order.length; start += options.batchSize) {
      const indices = order.slice(start, start + options.batchSize);
      const data = new Float32Array(indices.length * perImage);
      await Promise.all(
        indices.map((index, row) => cache.read(split, viewOf(index), index, data, row * perImage)),
      );
      yield {
        inputs: tf.tensor(data, [indices.length, ...cache.featureShape]),
        labels: tf.tensor1d(
          Int32Array.from(indices, (index) => samples[index]!.label),
          'int32',
        ),
      };
    }
  }
  return {
    train(epoch, skipBatches) {
      const order = epochOrder(options.trainSamples.length, options.seed, epoch).slice(
        skipBatches * options.batchSize,
      );
      return batchesOf('train', order, options.trainSamples, (index) =>
        drawView(options.seed, epoch, index, views),
      );
    },
    validation: () => batchesOf('val', [...options.valSamples.keys()], options.valSamples, () => 0),
    trainBatchesPerEpoch: Math.ceil(options.trainSamples.length / options.batchSize),
    dispose() {
      void cache.close();
    },
  };
}
