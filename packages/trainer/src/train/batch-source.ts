import type { PreprocessConfig } from '@food/core/preprocess/config';
import * as tf from '@tensorflow/tfjs';
import { createDecodePool, type DecodePool } from '../data/decode-pool.ts';
import { batchCount } from '../data/epoch-batches.ts';
import { createBatchLoader } from '../data/loader.ts';
import type { SplitEntry } from '../data/split.ts';
import { createCachedFeatureSource } from './cached-feature-source.ts';
import type { TrainConfig } from './run-config.ts';
import type { ModelBatch } from './train-step.ts';

/** Where a run's batches come from; yields tensors that the consumer disposes. */
export interface BatchSource {
  /** Training batches of `epoch` in their seeded order, starting after `skipBatches` batches. */
  train(epoch: number, skipBatches: number): AsyncIterable<ModelBatch>;
  /** Validation batches, centre crop, fixed order. */
  validation(): AsyncIterable<ModelBatch>;
  trainBatchesPerEpoch: number;
  dispose(): void;
}

/**
 * The run's settings that decide its batches, under their run-config names (`cacheFeatures` runs the
 * trunk once per image and view into the cache in `featureCacheDir`; it needs a trunk), and the data.
 */
export type BatchSourceOptions = Pick<
  TrainConfig,
  | 'batchSize'
  | 'seed'
  | 'augment'
  | 'cacheFeatures'
  | 'featureCacheDir'
  | 'featureViews'
  | 'featureCachePrecision'
  | 'featureCacheMaxGb'
  | 'loaderConcurrency'
> & {
  dataRoot: string;
  trainSamples: readonly SplitEntry[];
  valSamples: readonly SplitEntry[];
  preprocess: PreprocessConfig;
  numClasses: number;
  /** Frozen part of the model run in inference mode before the trainable part (absent: train all). */
  trunk?: tf.LayersModel;
  /** Called with the cache's plan (its size, the views that fit) before it is built or reused. */
  onCachePlan?: (message: string) => void;
  /** Called with the number of images the cache needs run through the trunk (0 work when reused). */
  onCacheStart?: (images: number) => void;
  /** Called with the number of images just cached. */
  onCacheProgress?: (images: number) => void;
  /** Called once the cache is ready: its folder, and whether an earlier run had built it. */
  onCacheReady?: (dir: string, reused: boolean) => void;
};

export async function createBatchSource(options: BatchSourceOptions): Promise<BatchSource> {
  if (options.trunk && options.cacheFeatures) return createCachedFeatureSource(options, options.trunk);
  // Decoding runs in worker threads, so it can use every core (./data/decode-pool.ts).
  const decodePool = createDecodePool();
  const source = createImageSource(options, decodePool);
  return {
    ...source,
    dispose() {
      source.dispose();
      void decodePool.close();
    },
  };
}

function imageLoader(
  options: BatchSourceOptions,
  decodePool: DecodePool,
  split: 'train' | 'val',
  epoch: number,
  skipBatches = 0,
) {
  const training = split === 'train';
  return createBatchLoader({
    samples: [...(training ? options.trainSamples : options.valSamples)],
    dataRoot: options.dataRoot,
    config: options.preprocess,
    batchSize: options.batchSize,
    numClasses: options.numClasses,
    shuffle: training,
    augment: training && options.augment,
    seed: options.seed,
    epoch,
    concurrency: options.loaderConcurrency,
    skipBatches,
    decodePool,
  });
}

/** Decoded images as tensors; through the frozen trunk first when there is one. */
function createImageSource(options: BatchSourceOptions, decodePool: DecodePool): BatchSource {
  const { cropSize } = options.preprocess;
  async function* toModelBatches(loader: ReturnType<typeof imageLoader>): AsyncIterable<ModelBatch> {
    for await (const batch of loader) {
      const inputs = tf.tidy(() => {
        const images = tf.tensor4d(batch.images, [batch.size, cropSize, cropSize, 3]);
        return options.trunk ? (options.trunk.predict(images) as tf.Tensor) : images;
      });
      yield { inputs, labels: tf.tensor1d(batch.labels, 'int32') };
      // The consumer asks for the next batch: once no tensor holds these pixels (the cpu backend keeps
      // the array itself), the memory goes back to the decode workers instead of to the GC.
      if (options.trunk || inputs.isDisposed) decodePool.recycle(batch.images);
    }
  }
  return {
    train: (epoch, skipBatches) =>
      toModelBatches(imageLoader(options, decodePool, 'train', epoch, skipBatches)),
    validation: () => toModelBatches(imageLoader(options, decodePool, 'val', 0)),
    trainBatchesPerEpoch: batchCount(options.trainSamples.length, options.batchSize),
    dispose() {},
  };
}
