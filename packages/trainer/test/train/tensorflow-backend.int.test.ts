/**
 * The `tensorflow` backend (tfjs-node with libtensorflow from `pnpm setup:tensorflow`) against wasm:
 * the same ResNet-50 on real photos, checkpoints crossing backends, and `pnpm train --backend
 * tensorflow` as a user runs it. Skipped, saying so, where the backend is not provisioned.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type BackendName, initBackend } from '@food/core/backend';
import { resolveRunConfig } from '@food/core/checkpoint/run-config';
import { buildResNet50 } from '@food/core/model/resnet50';
import { DEFAULT_PREPROCESS } from '@food/core/preprocess/config';
import { loadCroppedRgb, normalizePixels } from '@food/core/preprocess/image';
import { SHARED_DATA } from '@food/core/testing/shared-data';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runEvaluation } from '../../src/evaluate/run-evaluation.ts';
import { loadPretrainedBackbone } from '../../src/train/load-pretrained.ts';
import type { TrainConfig } from '../../src/train/run-config.ts';
import { runTraining } from '../../src/train/run-training.ts';
import { usePreparedSynth } from '../fixtures/prepared-synth.ts';
import { relativeDifference } from '../helpers/relative-difference.ts';
import { runTrainer } from '../helpers/run-trainer.ts';
import { tensorflowSkipReason, titleFor } from '../helpers/tensorflow-backend.ts';

const skip = tensorflowSkipReason();
const { resnet50Weights: weightsDir, food10Images: food10 } = SHARED_DATA;
const photosSkip =
  skip ??
  (existsSync(path.join(weightsDir, 'weights_manifest.json')) && existsSync(food10)
    ? undefined
    : `${weightsDir} or ${food10} is absent`);

describe.skipIf(photosSkip)('ResNet-50 forward: tensorflow against wasm on real food10 photos', () => {
  it(titleFor('pooled features and probabilities agree within 1e-4', photosSkip), async () => {
    // One photo of each of the first four classes, preprocessed once: both backends see the same floats.
    const classes = readdirSync(food10).sort().slice(0, 4);
    const inputs = await Promise.all(
      classes.map(async (name) => {
        const file = path.join(food10, name, readdirSync(path.join(food10, name)).sort()[0]!);
        const rgb = await loadCroppedRgb(new Uint8Array(await readFile(file)), DEFAULT_PREPROCESS);
        return normalizePixels(rgb, DEFAULT_PREPROCESS);
      }),
    );
    const batch = new Float32Array(inputs.length * inputs[0]!.length);
    for (const [i, input] of inputs.entries()) batch.set(input, i * input.length);

    /** The pretrained network (seeded head) on `backend`: pooled features and softmax probabilities. */
    const forward = async (backend: BackendName) => {
      await initBackend(backend, () => {});
      const model = buildResNet50({ numClasses: 10, seed: 1 });
      await loadPretrainedBackbone(model, weightsDir, DEFAULT_PREPROCESS);
      const withFeatures = tf.model({
        inputs: model.inputs,
        outputs: [model.getLayer('avg_pool').output as tf.SymbolicTensor, ...model.outputs],
      });
      const [features, probabilities] = tf.tidy(() => {
        const outputs = withFeatures.predict(tf.tensor4d(batch, [inputs.length, 224, 224, 3])) as tf.Tensor[];
        return outputs.map((output) => output.dataSync() as Float32Array);
      });
      model.dispose();
      return { features: features!, probabilities: probabilities! };
    };
    const wasm = await forward('wasm');
    const before = tf.memory().numTensors;
    const tensorflow = await forward('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    expect(tf.memory().numTensors).toBe(before);
    // 1e-4 of the largest output is float32 rounding over ResNet-50's 53 layers, not a bug.
    expect(relativeDifference(wasm.features, tensorflow.features)).toBeLessThanOrEqual(1e-4);
    expect(relativeDifference(wasm.probabilities, tensorflow.probabilities)).toBeLessThanOrEqual(1e-4);
  }, 300_000);
});

describe.skipIf(skip)('checkpoints cross backends: trained on one, evaluated on the other', () => {
  const synth = usePreparedSynth({ classes: 4, imagesPerClass: 16 });

  const train = async (backend: BackendName): Promise<string> => {
    await initBackend(backend, () => {});
    const config: TrainConfig = resolveRunConfig({
      prepared: synth().prepared,
      out: path.join(synth().root, `trained-on-${backend}`),
      blocksPerStage: [1, 1, 1, 1],
      widthMultiplier: 1 / 16,
      imageSize: 32,
      weights: 'none',
      backend,
      learningRate: 1e-2,
      epochs: 3,
      batchSize: 8,
      augment: false,
    });
    await runTraining(config, { log: () => {}, shouldStop: () => false, progress: false });
    return path.join(config.out, 'best');
  };

  /** `evaluate`'s probabilities for every test image, on `backend`. */
  const evaluate = async (checkpoint: string, backend: BackendName): Promise<number[][]> => {
    await initBackend(backend, () => {});
    const out = path.join(synth().root, `${path.basename(path.dirname(checkpoint))}-on-${backend}`);
    const options = { checkpoint, prepared: synth().prepared, split: 'test' as const, out, batchSize: 8 };
    await runEvaluation(
      { ...options, saveProbabilities: true, latencySamples: 1 },
      { log: () => {}, progress: false },
    );
    const saved = JSON.parse(await readFile(path.join(out, 'probabilities.json'), 'utf8'));
    return saved.probabilities as number[][];
  };

  const expectSamePredictions = (a: number[][], b: number[][]) => {
    expect(b.length).toBe(a.length);
    const top1 = (rows: number[][]) => rows.map((row) => row.indexOf(Math.max(...row)));
    expect(top1(b)).toEqual(top1(a));
    const largest = Math.max(...a.flatMap((row, i) => row.map((p, j) => Math.abs(p - b[i]![j]!))));
    expect(largest).toBeLessThanOrEqual(1e-4);
  };

  for (const [trainedOn, evaluatedOn] of [
    ['wasm', 'tensorflow'],
    ['tensorflow', 'wasm'],
  ] as const) {
    it(titleFor(
      `trained on ${trainedOn}, evaluated on ${evaluatedOn}: the same predictions`,
      skip,
    ), async () => {
      const checkpoint = await train(trainedOn);
      expectSamePredictions(await evaluate(checkpoint, trainedOn), await evaluate(checkpoint, evaluatedOn));
    }, 300_000);
  }
});

describe.skipIf(skip)('pnpm train --backend tensorflow', () => {
  const synth = usePreparedSynth({ classes: 4, imagesPerClass: 16 });

  it(titleFor('trains the synthetic set end to end and says it ran on TensorFlow', skip), async () => {
    const out = path.join(synth().root, 'run');
    const run = await runTrainer(
      'train',
      ...['--prepared', synth().prepared, '--out', out, '--backend', 'tensorflow'],
      ...['--weights', 'none', '--width', '0.0625', '--blocks', '1,1,1,1', '--image-size', '32'],
      ...['--lr', '1e-2', '--epochs', '2', '--batch-size', '8', '--no-progress'],
    );
    expect(run.stderr + run.stdout).toMatch(/backend: tensorflow \((CPU|CUDA GPU)/);
    expect(run.status).toBe(0);
    const history = JSON.parse(await readFile(path.join(out, 'history.json'), 'utf8'));
    expect(history).toHaveLength(2);
    expect(existsSync(path.join(out, 'best', 'model.json'))).toBe(true);
  }, 300_000);
});
