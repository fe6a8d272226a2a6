/**
 * `--ema-decay`: an exponential moving average of the trained weights (Polyak averaging, as torchvision's
 * reference `--model-ema` and timm's ModelEmaV2): after each optimizer step,
 * average ← decay · average + (1 − decay) · weight, over every weight of the layers that train (their
 * BatchNorm statistics included, as those references do). Validation, `best` and every checkpoint's model
 * hold the average; the training weights go into the checkpoint's training state under `ema/`, so
 * `--resume` continues both exactly.
 */
import type { LayerVariable } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';

/** The training-state key prefix of the training weights of a run with an average. */
const KEY = 'ema/';

export interface WeightAverage {
  /** One averaging step, after an optimizer step. */
  update(): void;
  /**
   * Runs `use` with the averaged weights in the model (to validate or save it); the training weights are
   * back in place when it returns or throws.
   */
  withAverage<T>(use: () => Promise<T>): Promise<T>;
  /** The training weights, keyed for the training state; only while `withAverage` runs. */
  trainingWeights(): tf.NamedTensorMap;
  dispose(): void;
}

/** The weights an average follows: every weight of each layer that trains, by stable name. */
function averagedWeights(model: tf.LayersModel): LayerVariable[] {
  return model.layers.filter((layer) => layer.trainable).flatMap((layer) => layer.weights);
}

/**
 * An average of `model`'s trained weights. A new run starts it at the weights; a resumed one passes the
 * training state's `ema/` tensors: the model then holds the average (what the checkpoint saved), so the
 * average starts there and the training weights are put back into the model.
 */
export function createWeightAverage(
  model: tf.LayersModel,
  decay: number,
  saved?: tf.NamedTensorMap,
): WeightAverage {
  const weights = averagedWeights(model);
  const averages = weights.map((weight) => tf.variable(weight.read(), false));
  if (saved) {
    for (const weight of weights) {
      const training = saved[KEY + weight.originalName];
      if (!training) throw new Error(`the checkpoint has no averaged-run weight ${weight.originalName}`);
      weight.write(training);
    }
  }
  let swapped = false;
  const swap = () => {
    tf.tidy(() => {
      weights.forEach((weight, i) => {
        const current = weight.read().clone();
        weight.write(averages[i]!);
        averages[i]!.assign(current);
      });
    });
    swapped = !swapped;
  };
  return {
    update() {
      tf.tidy(() => {
        weights.forEach((weight, i) => {
          averages[i]!.assign(averages[i]!.mul(decay).add(weight.read().mul(1 - decay)));
        });
      });
    },
    async withAverage(use) {
      swap();
      try {
        return await use();
      } finally {
        swap();
      }
    },
    trainingWeights() {
      if (!swapped) throw new Error('the training weights are in the model: call inside withAverage');
      return Object.fromEntries(weights.map((weight, i) => [KEY + weight.originalName, averages[i]!]));
    },
    dispose() {
      for (const average of averages) average.dispose();
    },
  };
}

/** A training state's tensors split into the optimizer's and an average's (`ema/`), none copied. */
export function splitAverageState(moments: tf.NamedTensorMap): {
  optimizer: tf.NamedTensorMap;
  average: tf.NamedTensorMap | undefined;
} {
  const optimizer: tf.NamedTensorMap = {};
  const average: tf.NamedTensorMap = {};
  for (const [key, tensor] of Object.entries(moments)) {
    if (key.startsWith(KEY)) average[key] = tensor;
    else optimizer[key] = tensor;
  }
  return { optimizer, average: Object.keys(average).length > 0 ? average : undefined };
}
