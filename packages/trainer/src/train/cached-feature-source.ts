/**
 * Batches for `--cache-features`: the frozen trunk runs on ONNX Runtime once per image and view into
 * the disk cache (feature-cache.ts), and each epoch reads its batches from there. With
 * `--feature-views K`, every epoch draws one of the K + 1 cached views (centre crop or an augmented
 * one) of each training image, so augmentation survives caching.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { batchCount, epochBatches } from '../data/epoch-batches.ts';
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
  const trunk = await createOnnxTrunk(trunkModel, { intraOpThreads: availableParallelism() });
  let cache: FeatureCache;
  try {
    cache = await openFeatureCache({
      ...options,
      trunk,
      onPlan: options.onCachePlan,
      onBuildStart: options.onCacheStart,
      onProgress: options.onCacheProgress,
    });
  } finally {
    // Training never runs the trunk again: free ONNX Runtime's copy of its weights.
    await trunk.dispose();
  }
  options.onCacheReady?.(cache.dir, cache.reused);
  // The budget may hold fewer views than asked: draw among those cached.
  const views = cache.views;
  const perImage = cache.featureShape.reduce((n, d) => n * d, 1);
  // The image loader's batches (data/epoch-batches.ts), so a resumed epoch starts at the same sample.
  const batching = { batchSize: options.batchSize, seed: options.seed, shuffle: true, epoch: 0 };

  async function* batchesOf(
    split: CacheSplit,
    batches: readonly number[][],
    samples: BatchSourceOptions['trainSamples'],
    viewOf: (index: number) => number,
  ): AsyncIterable<ModelBatch> {
    for (const indices of batches) {
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
      const batches = epochBatches({
        ...batching,
        numSamples: options.trainSamples.length,
        epoch,
        skipBatches,
      });
      return batchesOf('train', batches, options.trainSamples, (index) =>
        drawView(options.seed, epoch, index, views),
      );
    },
    validation() {
      const batches = epochBatches({ ...batching, numSamples: options.valSamples.length, shuffle: false });
      return batchesOf('val', batches, options.valSamples, () => 0);
    },
    trainBatchesPerEpoch: batchCount(options.trainSamples.length, options.batchSize),
    dispose() {
      void cache.close();
    },
  };
}
