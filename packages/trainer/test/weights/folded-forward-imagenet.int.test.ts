/**
 * The engine's BatchNorm-folded forward (core/engine/folded-forward.ts, the default on the tensorflow
 * backend) against model.predict on the full ResNet-50 with the ImageNet weights (real BatchNorm
 * statistics) and real food10 photos at 224 px. Skipped, saying why, where the tensorflow backend is not
 * provisioned or the weights or photos are absent.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { foldForInference } from '@food/core/engine/folded-forward';
import { createTfjsEngine } from '@food/core/engine/tfjs-engine';
import { buildResNet50 } from '@food/core/model/resnet50';
import { DEFAULT_PREPROCESS } from '@food/core/preprocess/config';
import { preprocessImage } from '@food/core/preprocess/image';
import { SHARED_DATA } from '@food/core/testing/shared-data';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadPretrainedBackbone } from '../../src/train/load-pretrained.ts';
import { tensorflowSkipReason, titleFor } from '../helpers/tensorflow-backend.ts';

const { resnet50Weights: weightsDir, food10Images: food10 } = SHARED_DATA;
const skip =
  tensorflowSkipReason() ??
  (existsSync(path.join(weightsDir, 'weights_manifest.json')) && existsSync(food10)
    ? undefined
    : `${weightsDir} or ${food10} is absent`);

/** The first photo of each of the first `count` classes, preprocessed as evaluation does. */
async function photos(count: number): Promise<Float32Array[]> {
  const classes = readdirSync(food10).sort().slice(0, count);
  return Promise.all(
    classes.map(async (name) => {
      const file = path.join(food10, name, readdirSync(path.join(food10, name)).sort()[0] as string);
      return preprocessImage(await readFile(file), DEFAULT_PREPROCESS);
    }),
  );
}

async function pretrained(): Promise<tf.LayersModel> {
  const model = buildResNet50({ numClasses: 10, seed: 1 });
  await loadPretrainedBackbone(model, weightsDir, DEFAULT_PREPROCESS);
  return model;
}

describe.skipIf(skip)('folded forward of ResNet-50 with the ImageNet weights, tensorflow backend', () => {
  it(
    titleFor('logits within 1e-4 relative and probabilities within 1e-5 of model.predict', skip),
    async () => {
      await initBackend('tensorflow', () => {});
      const inputs = await photos(4);
      const model = await pretrained();
      const result = foldForInference(model);
      if (!('forward' in result)) throw new Error(result.unsupported);
      const [folded, reference] = tf.tidy(() => {
        const batch = tf.stack(inputs.map((input) => tf.tensor3d(input, [224, 224, 3]))) as tf.Tensor4D;
        return [result.forward.run(batch), model.predict(batch) as tf.Tensor].map(
          (logits) => logits.dataSync() as Float32Array,
        );
      });
      const scale = Math.max(...reference.map(Math.abs));
      const error = Math.max(...folded.map((value, i) => Math.abs(value - (reference[i] as number))));
      expect(error / scale).toBeLessThan(1e-4);
      result.forward.dispose();

      const before = tf.memory().numTensors;
      const foldedEngine = createTfjsEngine(model);
      expect(foldedEngine.description).toContain('BatchNorm folded');
      const layered = createTfjsEngine(await pretrained(), { foldBatchNorm: false });
      const [a, b] = [await foldedEngine.predict(inputs), await layered.predict(inputs)];
      for (const [row, probabilities] of a.entries()) {
        for (const [j, p] of probabilities.entries())
          expect(Math.abs(p - (b[row]?.[j] as number))).toBeLessThan(1e-5);
      }
      const afterFirst = tf.memory().numTensors;
      await foldedEngine.predict(inputs);
      expect(tf.memory().numTensors).toBe(afterFirst);
      foldedEngine.dispose();
      layered.dispose();
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
    },
  );
});
