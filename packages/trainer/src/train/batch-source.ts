import type { PreprocessConfig } from '@food/core/preprocess/config';
import * as tf from '@tensorflow/tfjs';
import { createDecodePool, type DecodePool } from '../data/decode-pool.ts';
import { createBatchLoader, epochOrder } from '../data/loader.ts';
import type { SplitEntry } from '../data/split.ts';
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

export interface BatchSourceOptions {
  dataRoot: string;
  trainSamples: readonly SplitEntry[];
  valSamples: readonly SplitEntry[];
  preprocess: PreprocessConfig;
  batchSize: number;
  numClasses: number;
  seed: number;
  augment: boolean;
  concurrency?: number;
  /** Frozen part of the model run in inference mode before the trainable part (absent: train all). */
  trunk?: tf.LayersModel;
  /** Run the trunk once per image and keep its output in memory (requires a trunk; no augmentation). */
  cacheFeatures: boolean;
  /** Called with the number of images just cached. */
  onCacheProgress?: (images: number) => void;
}

export async function createBatchSource(options: BatchSourceOptions): Promise<BatchSource> {
  // Decoding runs in worker threads, so it can use every core (./data/decode-pool.ts).
  const decodePool = createDecodePool();
  try {
    const source =
      options.trunk && options.cacheFeatures
        ? await createCachedFeatureSource(options, options.trunk, decodePool)
        : createImageSource(options, decodePool);
    return {
      ...source,
      dispose() {
        source.dispose();
        void decodePool.close();
      },
    };
  } catch (error) {
    await decodePool.close();
    throw error;
  }
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
    concurrency: options.concurrency,
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
    }
  }
  return {
    train: (epoch, skipBatches) =>
      toModelBatches(imageLoader(options, decodePool, 'train', epoch, skipBatches)),
    validation: () => toModelBatches(imageLoader(options, decodePool, 'val', 0)),
    trainBatchesPerEpoch: Math.ceil(options.trainSamples.length / options.batchSize),
    dispose() {},
  };
}

interface FeatureCache {
  features: Float32Array[];
  labels: Int32Array;
  featureShape: number[];
}

/**
 * Runs the trunk once over every image (centre crop, inference mode) and serves batches from memory.
 * This is what makes fine-tuning the last stage of ResNet-50 practical on a CPU: the frozen 80 % of
 * the forward pass is paid once instead of once per epoch.
 */
async function createCachedFeatureSource(
  options: BatchSourceOptions,
  trunk: tf.LayersModel,
  decodePool: DecodePool,
): Promise<BatchSource> {
  const cacheSplit = async (split: 'train' | 'val'): Promise<FeatureCache> => {
    const features: Float32Array[] = [];
    const labels: number[] = [];
    let featureShape: number[] = [];
    for await (const batch of createBatchLoader({
      samples: [...(split === 'train' ? options.trainSamples : options.valSamples)],
      dataRoot: options.dataRoot,
      config: options.preprocess,
      batchSize: options.batchSize,
      numClasses: options.numClasses,
      shuffle: false,
      augment: false,
      seed: options.seed,
      epoch: 0,
      concurrency: options.concurrency,
      decodePool,
    })) {
      const output = tf.tidy(() => {
        const { cropSize } = options.preprocess;
        return trunk.predict(tf.tensor4d(batch.images, [batch.size, cropSize, cropSize, 3])) as tf.Tensor;
      });
      featureShape = output.shape.slice(1);
      const flat = (await output.data()) as Float32Array;
      output.dispose();
      const perImage = flat.length / batch.size;
      for (let i = 0; i < batch.size; i++) features.push(flat.slice(i * perImage, (i + 1) * perImage));
      labels.push(...batch.labels);
      options.onCacheProgress?.(batch.size);
    }
    return { features, labels: Int32Array.from(labels), featureShape };
  };
  const train = await cacheSplit('train');
  const val = await cacheSplit('val');

  function* batchesOf(cache: FeatureCache, order: readonly number[]): Iterable<ModelBatch> {
    const perImage = cache.features[0]?.length ?? 0;
    for (let start = 0; start < order.length; start += options.batchSize) {
      const indices = order.slice(start, start + options.batchSize);
      const data = new Float32Array(indices.length * perImage);
      for (const [row, index] of indices.entries()) data.set(cache.features[index], row * perImage);
      yield {
        inputs: tf.tensor(data, [indices.length, ...cache.featureShape]),
        labels: tf.tensor1d(
          Int32Array.from(indices, (index) => cache.labels[index]),
          'int32',
        ),
      };
    }
  }
  async function* asAsync(batches: Iterable<ModelBatch>): AsyncIterable<ModelBatch> {
    yield* batches;
  }
  return {
    train(epoch, skipBatches) {
      const order = epochOrder(train.features.length, options.seed, epoch).slice(
        skipBatches * options.batchSize,
      );
      return asAsync(batchesOf(train, order));
    },
    validation: () => asAsync(batchesOf(val, [...val.features.keys()])),
    trainBatchesPerEpoch: Math.ceil(train.features.length / options.batchSize),
    dispose() {
      train.features.length = 0;
      val.features.length = 0;
    },
  };
}
