import { buildResNet50 } from '@food/core/model/resnet50';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll } from 'vitest';

/**
 * The full ResNet-50 at 224 on the cpu backend, for the memory-plan tests that measure it: built once
 * before the calling describe block's tests (it takes seconds) and disposed after them. Call the returned
 * function inside a test.
 */
export function useFullResNet50(numClasses: number): () => tf.LayersModel {
  let model: tf.LayersModel | undefined;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    model = buildResNet50({ numClasses, inputSize: 224, seed: 1 });
  });
  afterAll(() => model?.dispose());
  return () => {
    if (!model) throw new Error('useFullResNet50: the model is built in beforeAll; call this inside a test');
    return model;
  };
}
