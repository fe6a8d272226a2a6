/**
 * Runs a checkpoint's engine over a split: images decoded by the training batch loader in evaluation
 * mode (no augmentation, manifest order), which calls `preprocessImage` with the checkpoint's own
 * preprocess.json, so the probabilities are the ones the server returns for the same files.
 */
import type { InferenceEngine } from '@food/core/engine/inference-engine';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import { createBatchLoader, type Sample } from '../data/loader.ts';

export interface ImagePrediction {
  /** Path relative to the data root, as in the manifest. */
  image: string;
  /** True class index. */
  label: number;
  /** Softmax probabilities, one per class of the checkpoint. */
  probabilities: Float32Array;
}

export interface PredictSplitOptions {
  engine: InferenceEngine;
  samples: readonly Sample[];
  dataRoot: string;
  preprocess: PreprocessConfig;
  numClasses: number;
  batchSize: number;
  /** Called after each batch with that batch's predictions (progress, running accuracy). */
  onBatch?: (batch: ImagePrediction[]) => void;
}

/** Predictions for every sample, in sample order. */
export async function predictSplit(options: PredictSplitOptions): Promise<ImagePrediction[]> {
  const { preprocess, engine } = options;
  const loader = createBatchLoader({
    samples: options.samples,
    dataRoot: options.dataRoot,
    config: preprocess,
    batchSize: options.batchSize,
    numClasses: options.numClasses,
    shuffle: false,
    augment: false,
    seed: 0,
    epoch: 0,
  });
  const imageLength = preprocess.cropSize * preprocess.cropSize * 3;
  const predictions: ImagePrediction[] = [];
  for await (const batch of loader) {
    const inputs = Array.from({ length: batch.size }, (_, i) =>
      batch.images.subarray(i * imageLength, (i + 1) * imageLength),
    );
    const probabilities = await engine.predict(inputs);
    const batchPredictions = probabilities.map((values, i) => ({
      image: batch.paths[i],
      label: batch.labels[i],
      probabilities: values,
    }));
    predictions.push(...batchPredictions);
    options.onBatch?.(batchPredictions);
  }
  return predictions;
}
