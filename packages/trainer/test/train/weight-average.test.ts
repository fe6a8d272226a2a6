import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { loadCheckpoint } from '@food/core/checkpoint/load-checkpoint';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../src/train/run-training.ts';
import { createWeightAverage, splitAverageState } from '../../src/train/weight-average.ts';
import { tinyTrainConfig, usePreparedSynth } from '../fixtures/prepared-synth.ts';
import { maxAbsDiff, weightsOf } from '../helpers/checkpoint-weights.ts';

const quiet = { log: () => {}, shouldStop: () => false, progress: false as const };

/** Two dense layers, the first frozen: only the second is averaged. */
function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [2] });
  const frozen = tf.layers.dense({ units: 2, name: 'frozen', kernelInitializer: 'ones' });
  const head = tf.layers.dense({ units: 1, name: 'head', kernelInitializer: 'zeros' });
  const model = tf.model({ inputs: input, outputs: head.apply(frozen.apply(input)) as tf.SymbolicTensor });
  frozen.trainable = false;
  return model;
}

const values = (model: tf.LayersModel, name: string) =>
  model
    .getLayer(name)
    .getWeights()
    .map((weight) => Array.from(weight.dataSync()));

describe('createWeightAverage', () => {
  beforeAll(async () => {
    await initBackend('cpu', () => {});
  });

  it('averages the trained layers after each step, swaps the average in and back, and leaks nothing', async () => {
    const model = tinyModel();
    const before = tf.memory().numTensors;
    const average = createWeightAverage(model, 0.5);
    const head = model.getLayer('head');
    // Two "steps": the kernel goes 0 → 1 → 3, so the average is 0.5·0 + 0.5·1 = 0.5, then 0.5·0.5 + 0.5·3.
    tf.tidy(() => head.setWeights([tf.ones([2, 1]), tf.zeros([1])]));
    average.update();
    tf.tidy(() => head.setWeights([tf.fill([2, 1], 3), tf.zeros([1])]));
    average.update();
    expect(() => average.trainingWeights()).toThrow(/inside withAverage/);
    const seen = await average.withAverage(async () => ({
      head: values(model, 'head'),
      training: Array.from(average.trainingWeights()['ema/head/kernel']!.dataSync()),
      keys: Object.keys(average.trainingWeights()).sort(),
    }));
    expect(seen.head).toEqual([[1.75, 1.75], [0]]);
    expect(seen.training).toEqual([3, 3]);
    // The frozen layer is not averaged.
    expect(seen.keys).toEqual(['ema/head/bias', 'ema/head/kernel']);
    expect(values(model, 'head')).toEqual([[3, 3], [0]]);
    expect(values(model, 'frozen')[0]).toEqual([1, 1, 1, 1]);
    for (let i = 0; i < 3; i++) {
      average.update();
      await average.withAverage(async () => {});
    }
    average.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('resumes from a saved state: the model held the average, the state the training weights', async () => {
    const model = tinyModel();
    const head = model.getLayer('head');
    // The average, as a checkpoint's model holds it.
    tf.tidy(() => head.setWeights([tf.fill([2, 1], 0.25), tf.zeros([1])]));
    const saved = {
      'ema/head/kernel': tf.fill([2, 1], 2),
      'ema/head/bias': tf.zeros([1]),
      'm/x': tf.zeros([1]),
    };
    const { optimizer, average: state } = splitAverageState(saved);
    expect(Object.keys(optimizer)).toEqual(['m/x']);
    const average = createWeightAverage(model, 0.5, state);
    expect(values(model, 'head')).toEqual([[2, 2], [0]]);
    await average.withAverage(async () => expect(values(model, 'head')).toEqual([[0.25, 0.25], [0]]));
    average.dispose();
    tf.dispose(Object.values(saved));
    model.dispose();
  });
});

describe('pnpm train --ema-decay', () => {
  beforeAll(async () => {
    await initBackend('wasm', () => {});
  });
  const synth = usePreparedSynth({ classes: 3, imagesPerClass: 10 });

  it('saves the average as the model, the training weights in the state, and resumes exactly', async () => {
    const ema = { emaDecay: 0.9, epochs: 2, trainable: 'stage5', cacheFeatures: true } as const;
    const before = tf.memory().numTensors;
    const straight = tinyTrainConfig(synth(), 'ema-straight', ema);
    expect((await runTraining(straight, quiet)).status).toBe('completed');
    expect(tf.memory().numTensors).toBe(before);

    const best = await loadCheckpoint(path.join(straight.out, 'best'), { withTrainingState: true });
    const moments = best.trainingState!.moments;
    const kernel = best.model.getLayer('predictions').getWeights()[0]!;
    const training = moments['ema/predictions/kernel']!;
    // The model is the average, not the training weights: they differ.
    expect(tf.max(tf.abs(tf.sub(kernel, training))).dataSync()[0]).toBeGreaterThan(0);
    best.model.dispose();
    tf.dispose([...Object.values(moments), kernel]);

    const interrupted = tinyTrainConfig(synth(), 'ema-interrupted', { ...ema, maxSteps: 3 });
    expect((await runTraining(interrupted, quiet)).status).toBe('max-steps');
    expect((await runTraining({ ...interrupted, maxSteps: undefined, resume: true }, quiet)).status).toBe(
      'completed',
    );
    const latest = (dir: string) => weightsOf(path.join(dir, 'latest'));
    expect(maxAbsDiff(await latest(straight.out), await latest(interrupted.out))).toBeLessThanOrEqual(1e-6);
    await expect(
      runTraining({ ...interrupted, epochs: 3, resume: true, emaDecay: 0.99 }, quiet),
    ).rejects.toThrow(/emaDecay was 0\.9, now 0\.99/);
  }, 180_000);
});
