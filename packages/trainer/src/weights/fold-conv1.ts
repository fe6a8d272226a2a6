import type { PreprocessConfig } from '@food/core/preprocess/config';
import * as tf from '@tensorflow/tfjs';
import type { WeightMap } from './weight-map.ts';

/** Keras "caffe" preprocessing of the ImageNet ResNet-50: BGR, 0..255, minus this mean, no std. */
export const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;

const KERNEL = 'conv1_conv/kernel';
const BIAS = 'conv1_conv/bias';

/**
 * Rewrites `conv1_conv` so that the network gives on our inputs, x_c = (p_c/255 − mean_c)/std_c in RGB,
 * what the original gives on caffe inputs z_bgr(c) = p_c − M_bgr(c). Substituting p_c = 255(std_c x_c +
 * mean_c) into the convolution:
 *   kernel'[:, :, c, o] = kernel[:, :, bgr(c), o] × 255 × std_c
 *   bias'[o]           = bias[o] + Σ_{kh,kw,c} kernel[kh, kw, bgr(c), o] × (255 × mean_c − M_bgr(c))
 * Exact except at the zero-padded border: a padded zero is the mean pixel M in caffe space but
 * 255 × mean in ours, so the outermost output rows/columns of conv1 differ slightly.
 *
 * Returns a new map in which only the two conv1 tensors are new (the caller still owns the old ones).
 */
export function foldCaffeInputIntoConv1(weights: WeightMap, preprocess: PreprocessConfig): WeightMap {
  const kernel = weights.get(KERNEL);
  const bias = weights.get(BIAS);
  if (!kernel || !bias || kernel.rank !== 4 || kernel.shape[2] !== 3) {
    throw new Error(`foldCaffeInputIntoConv1 needs ${KERNEL} [kh, kw, 3, out] and ${BIAS}`);
  }
  if (preprocess.channelOrder !== 'RGB')
    throw new Error(`unsupported channelOrder ${preprocess.channelOrder}`);
  const [folded, foldedBias] = tf.tidy(() => {
    const rgbKernel = tf.reverse(kernel, 2);
    const scale = tf.tensor1d(preprocess.std.map((s) => 255 * s)).reshape([1, 1, 3, 1]);
    const caffeMeanRgb = [...CAFFE_MEAN_BGR].reverse();
    const shift = tf
      .tensor1d(preprocess.mean.map((m, c) => 255 * m - caffeMeanRgb[c]!))
      .reshape([1, 1, 3, 1]);
    return [rgbKernel.mul(scale), bias.add(rgbKernel.mul(shift).sum([0, 1, 2]))];
  });
  const result: WeightMap = new Map(weights);
  result.set(KERNEL, folded);
  result.set(BIAS, foldedBias);
  return result;
}
