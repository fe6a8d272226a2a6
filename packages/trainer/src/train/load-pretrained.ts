import type { PreprocessConfig } from '@food/core/preprocess/config';
import type * as tf from '@tensorflow/tfjs';
import { applyWeights } from '../weights/apply-weights.ts';
import { foldCaffeInputIntoConv1 } from '../weights/fold-conv1.ts';
import { loadBackboneWeights } from '../weights/load-backbone.ts';
import { disposeWeights } from '../weights/weight-map.ts';

/**
 * Sets the ImageNet backbone on a freshly built model (strict: every backbone tensor must match), with
 * conv1 folded so that inputs normalised by the data set's own mean/std give the activations the
 * caffe-preprocessed ImageNet weights expect. Returns a one-line report for the log.
 */
export async function loadPretrainedBackbone(
  model: tf.LayersModel,
  source: string,
  preprocess: PreprocessConfig,
): Promise<string> {
  const weights = await loadBackboneWeights(source);
  const folded = foldCaffeInputIntoConv1(weights, preprocess);
  try {
    const coverage = applyWeights(model, folded);
    return `weights: ${coverage.loaded.length} backbone tensors from ${source} (${coverage.percent.toFixed(1)}% of backbone parameters), conv1 folded for mean/std of the training split; head ${coverage.head.join(', ')} Glorot-normal`;
  } finally {
    disposeWeights(weights);
    disposeWeights(folded); // its conv1 tensors are new; disposing the shared ones twice is a no-op
  }
}
