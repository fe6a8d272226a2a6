import type * as tf from '@tensorflow/tfjs';

/** Tensors by Keras weight name without the `:0` suffix, e.g. `conv1_conv/kernel`. */
export type WeightMap = Map<string, tf.Tensor>;

/** `conv1_conv/kernel:0` (Keras h5, TF variable names) → `conv1_conv/kernel`. */
export function normaliseWeightName(name: string): string {
  return name.replace(/:\d+$/, '');
}

export function countElements(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function disposeWeights(weights: WeightMap): void {
  for (const tensor of weights.values()) tensor.dispose();
  weights.clear();
}
