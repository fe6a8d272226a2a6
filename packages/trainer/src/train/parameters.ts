import type * as tf from '@tensorflow/tfjs';
import type { Parameter } from './adam.ts';

/**
 * The model's trainable weights with their stable Keras names. tfjs makes variable names unique per
 * process (`conv1_conv/kernel_1` for a second model), so optimizer state is keyed by `originalName`.
 */
export function trainableParameters(model: tf.LayersModel): Parameter[] {
  return model.trainableWeights.map((weight) => ({
    key: weight.originalName,
    variable: weight.read() as tf.Variable,
  }));
}
