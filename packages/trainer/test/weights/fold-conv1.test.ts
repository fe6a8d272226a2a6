import { DEFAULT_PREPROCESS, type PreprocessConfig } from '@food/core/preprocess/config';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CAFFE_MEAN_BGR, foldCaffeInputIntoConv1 } from '../../src/weights/fold-conv1.ts';
import type { WeightMap } from '../../src/weights/weight-map.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Keras "caffe" preprocessing, written out independently: RGB→BGR, minus the BGR mean, 0..255. */
const caffeInput = (pixels: tf.Tensor4D): tf.Tensor4D =>
  tf.reverse(pixels, 3).sub(tf.tensor1d([...CAFFE_MEAN_BGR]));
const ourInput = (pixels: tf.Tensor4D, p: PreprocessConfig): tf.Tensor4D =>
  pixels.div(255).sub(tf.tensor1d(p.mean)).div(tf.tensor1d(p.std));

describe('foldCaffeInputIntoConv1', () => {
  it('gives on normalised RGB inputs what the original conv1 gives on caffe inputs (unpadded interior)', () => {
    const preprocess: PreprocessConfig = {
      ...DEFAULT_PREPROCESS,
      mean: [0.55, 0.45, 0.35],
      std: [0.27, 0.28, 0.29],
    };
    const weights: WeightMap = new Map([
      ['conv1_conv/kernel', tf.randomNormal([7, 7, 3, 8], 0, 0.1, 'float32', 1)],
      ['conv1_conv/bias', tf.randomNormal([8], 0, 0.1, 'float32', 2)],
      ['conv1_bn/gamma', tf.ones([8])],
    ]);
    const folded = foldCaffeInputIntoConv1(weights, preprocess);
    expect(folded.get('conv1_bn/gamma')).toBe(weights.get('conv1_bn/gamma'));
    expect(weights.get('conv1_conv/kernel')!.isDisposed).toBe(false);
    const [expected, actual] = tf.tidy(() => {
      const pixels = tf.randomUniform([2, 21, 21, 3], 0, 255, 'float32', 3) as tf.Tensor4D;
      const conv = (x: tf.Tensor4D, w: WeightMap) =>
        tf.conv2d(x, w.get('conv1_conv/kernel') as tf.Tensor4D, 2, 'valid').add(w.get('conv1_conv/bias')!);
      return [conv(caffeInput(pixels), weights), conv(ourInput(pixels, preprocess), folded)];
    });
    const scale = expected.abs().max().dataSync()[0]!;
    const maxError = expected.sub(actual).abs().max().dataSync()[0]!;
    expect(scale).toBeGreaterThan(10);
    expect(maxError / scale).toBeLessThan(1e-5);
    // Without folding, the normalised input through the original conv1 is far off: the test can fail.
    const unfolded = tf.tidy(() => {
      const pixels = tf.randomUniform([2, 21, 21, 3], 0, 255, 'float32', 3) as tf.Tensor4D;
      const original = tf.conv2d(
        ourInput(pixels, preprocess),
        weights.get('conv1_conv/kernel') as tf.Tensor4D,
        2,
        'valid',
      );
      return expected.sub(original.add(weights.get('conv1_conv/bias')!));
    });
    expect(unfolded.abs().max().dataSync()[0]! / scale).toBeGreaterThan(0.5);
    for (const t of [
      expected,
      actual,
      unfolded,
      folded.get('conv1_conv/kernel')!,
      folded.get('conv1_conv/bias')!,
    ]) {
      t.dispose();
    }
    for (const t of weights.values()) t.dispose();
  });
});
