/**
 * The training step on TensorFlow's fused kernels (FusedBatchNormV3 / FusedBatchNormGradV3, ReluGrad,
 * ResourceApplyAdam) against the op-by-op step tfjs composes (`useFusedKernels(false)`), on real food10
 * photos through a narrow ResNet at 64 px. Skipped, saying why, where the tensorflow backend is not
 * provisioned or the photos are absent.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { buildResNet50 } from '@food/core/model/resnet50';
import { DEFAULT_PREPROCESS, withCropSize } from '@food/core/preprocess/config';
import { loadCroppedRgb, normalizePixels } from '@food/core/preprocess/image';
import { countTensorflowOps, useFusedKernels } from '@food/core/tensorflow-ops';
import { SHARED_DATA } from '@food/core/testing/shared-data';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamL2 } from '../../src/train/adam.ts';
import { trainableParameters } from '../../src/train/parameters.ts';
import { type ModelBatch, trainStep } from '../../src/train/train-step.ts';
import { relativeDifference } from '../helpers/relative-difference.ts';
import { tensorflowSkipReason, titleFor } from '../helpers/tensorflow-backend.ts';

const food10 = SHARED_DATA.food10Images;
const skip = tensorflowSkipReason() ?? (existsSync(food10) ? undefined : `${food10} is absent`);
const SIZE = 64;
const CLASSES = 10;

/** The first photo of each of the first `count` classes, preprocessed at SIZE px, as one batch. */
async function food10Batch(count: number): Promise<{ pixels: Float32Array; labels: number[] }> {
  const config = withCropSize(DEFAULT_PREPROCESS, SIZE);
  const classes = readdirSync(food10).sort().slice(0, count);
  const images = await Promise.all(
    classes.map(async (name) => {
      const file = path.join(food10, name, readdirSync(path.join(food10, name)).sort()[0] as string);
      return normalizePixels(await loadCroppedRgb(new Uint8Array(await readFile(file)), config), config);
    }),
  );
  const pixels = new Float32Array(count * SIZE * SIZE * 3);
  for (const [i, image] of images.entries()) pixels.set(image, i * image.length);
  return { pixels, labels: classes.map((_, i) => i) };
}

/** A narrow ResNet (every layer kind of ResNet-50, 1/16 width) from a fixed seed. */
function seededModel(): tf.LayersModel {
  return buildResNet50({
    numClasses: CLASSES,
    inputSize: SIZE,
    widthMultiplier: 1 / 16,
    blocksPerStage: [1, 1, 1, 1],
    seed: 11,
  });
}

/**
 * Conv biases feeding a BatchNorm have a gradient of exactly 0 (the batch mean removes them): both
 * paths give float32 rounding noise there, compared against the largest gradient instead of their own.
 */
const feedsBatchNorm = (name: string) => /_conv\/bias$/.test(name);

const values = (map: Record<string, tf.Tensor>) =>
  Object.fromEntries(Object.entries(map).map(([name, tensor]) => [name, tensor.dataSync() as Float32Array]));

function movingStatistics(model: tf.LayersModel): Record<string, Float32Array> {
  return Object.fromEntries(
    model.weights
      .filter((weight) => weight.originalName.includes('moving_'))
      .map((weight) => [weight.originalName, weight.read().dataSync() as Float32Array]),
  );
}

function maxAbs(arrays: Float32Array[]): number {
  return Math.max(...arrays.map((array) => array.reduce((max, value) => Math.max(max, Math.abs(value)), 0)));
}

describe.skipIf(skip)('training step on TensorFlow fused kernels against the op-by-op step', () => {
  let batch: { pixels: Float32Array; labels: number[] };
  beforeAll(async () => {
    await initBackend('tensorflow', () => {});
    batch = await food10Batch(4);
  });
  afterAll(() => useFusedKernels(true));

  const inputsOf = (from: number, to: number): ModelBatch => ({
    inputs: tf.tensor4d(batch.pixels.slice(from * SIZE * SIZE * 3, to * SIZE * SIZE * 3), [
      to - from,
      SIZE,
      SIZE,
      3,
    ]),
    labels: tf.tensor1d(batch.labels.slice(from, to), 'int32'),
  });

  /** Loss, gradients by Keras weight name, moving statistics after one forward/backward in training mode. */
  function lossAndGradients(fused: boolean) {
    useFusedKernels(fused);
    const model = seededModel();
    const { inputs, labels } = inputsOf(0, 4);
    const variables = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
    let value = 0;
    let gradients: Record<string, Float32Array> = {};
    const ops = countTensorflowOps(() => {
      const result = tf.variableGrads(() => {
        const logits = model.apply(inputs, { training: true }) as tf.Tensor;
        return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, CLASSES), logits) as tf.Scalar;
      }, variables);
      value = result.value.dataSync()[0] as number;
      gradients = Object.fromEntries(
        model.trainableWeights.map((weight, i) => [
          weight.originalName,
          result.grads[variables[i]?.name as string]?.dataSync() as Float32Array,
        ]),
      );
      tf.dispose([result.value, ...Object.values(result.grads)]);
    });
    const statistics = movingStatistics(model);
    tf.dispose([inputs, labels]);
    model.dispose();
    return { value, gradients, statistics, opNames: new Set(ops.map((op) => op.name)) };
  }

  it(titleFor(
    'BatchNorm and ReLU: loss and every gradient within 1e-4, moving statistics within 1e-5',
    skip,
  ), () => {
    const reference = lossAndGradients(false);
    const fused = lossAndGradients(true);
    // The paths differ: otherwise this test would compare a path with itself.
    expect(reference.opNames.has('FusedBatchNormV3')).toBe(false);
    expect(fused.opNames).toContain('FusedBatchNormV3');
    expect(fused.opNames).toContain('FusedBatchNormGradV3');
    expect(reference.opNames.has('ReluGrad')).toBe(false);
    expect(fused.opNames).toContain('ReluGrad');
    expect(Math.abs(fused.value - reference.value) / reference.value).toBeLessThanOrEqual(1e-4);
    const largest = maxAbs(Object.values(reference.gradients));
    for (const [name, expected] of Object.entries(reference.gradients)) {
      const actual = fused.gradients[name] as Float32Array;
      const difference = feedsBatchNorm(name)
        ? relativeDifference(expected, actual) * (maxAbs([expected]) / largest)
        : relativeDifference(expected, actual);
      expect(difference, name).toBeLessThanOrEqual(1e-4);
    }
    expect(Object.keys(reference.statistics)).toHaveLength(2 * 17);
    for (const [name, expected] of Object.entries(reference.statistics)) {
      expect(relativeDifference(expected, fused.statistics[name] as Float32Array), name).toBeLessThanOrEqual(
        1e-5,
      );
    }
  }, 120_000);

  /** `steps` Adam steps on fixed seeded gradients: weights and moments after, and tensors per step. */
  function adamSteps(fusedAt: (step: number) => boolean, steps: number) {
    const model = seededModel();
    const parameters = trainableParameters(model);
    const optimizer = new AdamL2({ learningRate: 1e-2, weightDecay: 1e-3 });
    const tensorCounts: number[] = [];
    for (let step = 1; step <= steps; step++) {
      useFusedKernels(fusedAt(step));
      const gradients: tf.NamedTensorMap = {};
      for (const [i, { variable }] of parameters.entries()) {
        gradients[variable.name] = tf.randomNormal(variable.shape, 0, 0.1, 'float32', 100 * step + i);
      }
      optimizer.applyGradients(parameters, gradients);
      tf.dispose(Object.values(gradients));
      tensorCounts.push(tf.memory().numTensors);
    }
    const weights = Object.fromEntries(
      parameters.map(({ key, variable }) => [key, variable.dataSync() as Float32Array]),
    );
    const moments = values(optimizer.getState().moments);
    optimizer.dispose();
    model.dispose();
    return { weights, moments, tensorCounts };
  }

  it(
    titleFor(
      'Adam: ResourceApplyAdam gives every weight and moment within 1e-4 over three steps, also when turned off mid-run',
      skip,
    ),
    () => {
      const before = tf.memory().numTensors;
      const reference = adamSteps(() => false, 3);
      const fused = adamSteps(() => true, 3);
      // Fused kernels turned off mid-run: the moments move back out of TensorFlow and the run goes on.
      const switched = adamSteps((step) => step < 3, 3);
      expect(tf.memory().numTensors).toBe(before);
      expect(fused.tensorCounts[2]).toBe(fused.tensorCounts[1]);
      for (const other of [fused, switched]) {
        expect(Object.keys(other.moments).sort()).toEqual(Object.keys(reference.moments).sort());
        for (const [name, expected] of Object.entries({ ...reference.weights, ...reference.moments })) {
          const actual = other.weights[name] ?? other.moments[name];
          expect(relativeDifference(expected, actual as Float32Array), name).toBeLessThanOrEqual(1e-4);
        }
      }
    },
  );

  /**
   * `trainStep`s on the photos, split into `microBatches` (--accumulate): losses, the summed gradient
   * the first step hands the optimizer, the weights after that step, and tensors after each step.
   */
  function trainSteps(fused: boolean, steps: number, microBatches: number) {
    useFusedKernels(fused);
    const model = seededModel();
    const parameters = trainableParameters(model);
    const optimizer = new AdamL2({ learningRate: 1e-3, weightDecay: 1e-4 });
    const size = 4 / microBatches;
    const parts = Array.from({ length: microBatches }, (_, i) => inputsOf(i * size, (i + 1) * size));
    const weightsNow = () =>
      Object.fromEntries(parameters.map(({ key, variable }) => [key, variable.dataSync() as Float32Array]));
    let firstGradients: Record<string, Float32Array> = {};
    const apply = optimizer.applyGradients.bind(optimizer);
    optimizer.applyGradients = (params, gradients) => {
      if (optimizer.iterations === 0) {
        firstGradients = Object.fromEntries(
          params.map(({ key, variable }) => [key, gradients[variable.name]?.dataSync() as Float32Array]),
        );
      }
      apply(params, gradients);
    };
    const losses: number[] = [];
    const tensorCounts: number[] = [];
    let afterFirstStep: Record<string, Float32Array> = {};
    for (let step = 0; step < steps; step++) {
      losses.push(trainStep(model, optimizer, parameters, parts, CLASSES).loss);
      tensorCounts.push(tf.memory().numTensors);
      if (step === 0) afterFirstStep = weightsNow();
    }
    tf.dispose(parts.flatMap(({ inputs, labels }) => [inputs, labels]));
    optimizer.dispose();
    model.dispose();
    return { losses, firstGradients, afterFirstStep, tensorCounts };
  }

  /**
   * Adam's first step moves each weight by about ±lr·sign(gradient): where a gradient element is within
   * float32 noise of 0, its sign, and so its step, is arbitrary on either path. Compared: the elements
   * whose gradient exceeds 1e-3 of the tensor's largest, where two gradients within 1e-4 of each other
   * cannot disagree in sign.
   */
  function determinedDifference(
    expected: Float32Array,
    actual: Float32Array,
    gradient: Float32Array,
  ): number {
    const threshold = 1e-3 * maxAbs([gradient]);
    const keep = (_: number, i: number) => Math.abs(gradient[i] as number) > threshold;
    return relativeDifference(expected.filter(keep), actual.filter(keep));
  }

  for (const microBatches of [1, 2]) {
    const title = `trainStep${microBatches > 1 ? ` with --accumulate ${microBatches}` : ''}`;
    it(titleFor(
      `${title}: losses, summed gradients and updated weights agree within 1e-4; no tensor leaks`,
      skip,
    ), () => {
      const before = tf.memory().numTensors;
      const reference = trainSteps(false, 3, microBatches);
      const fused = trainSteps(true, 3, microBatches);
      expect(tf.memory().numTensors).toBe(before);
      expect(new Set(fused.tensorCounts.slice(1)).size).toBe(1);
      for (const [i, loss] of reference.losses.entries()) {
        expect(Math.abs((fused.losses[i] as number) - loss) / loss).toBeLessThanOrEqual(1e-4);
      }
      const largest = maxAbs(Object.values(reference.firstGradients));
      for (const [name, expected] of Object.entries(reference.firstGradients)) {
        const actual = fused.firstGradients[name] as Float32Array;
        const difference = feedsBatchNorm(name)
          ? relativeDifference(expected, actual) * (maxAbs([expected]) / largest)
          : relativeDifference(expected, actual);
        expect(difference, `gradient of ${name}`).toBeLessThanOrEqual(1e-4);
        if (feedsBatchNorm(name)) continue;
        const weights = [reference.afterFirstStep[name], fused.afterFirstStep[name]] as Float32Array[];
        expect(determinedDifference(weights[0]!, weights[1]!, expected), name).toBeLessThanOrEqual(1e-4);
      }
    }, 120_000);
  }

  it(
    titleFor('exact resume: Adam state saved and restored mid-run continues as if never stopped', skip),
    () => {
      useFusedKernels(true);
      const run = (stopAfter: number | undefined) => {
        const model = seededModel();
        const parameters = trainableParameters(model);
        let optimizer = new AdamL2({ learningRate: 1e-3, weightDecay: 1e-4 });
        const part = inputsOf(0, 4);
        for (let step = 1; step <= 3; step++) {
          trainStep(model, optimizer, parameters, [part], CLASSES);
          if (step === stopAfter) {
            // What a checkpoint holds: the step and copies of the moments.
            const state = optimizer.getState();
            const moments = Object.fromEntries(
              Object.entries(state.moments).map(([key, m]) => [key, m.clone()]),
            );
            const saved = { step: state.step, moments };
            optimizer.dispose();
            optimizer = new AdamL2({ learningRate: 1e-3, weightDecay: 1e-4 });
            optimizer.setState(saved);
            tf.dispose(Object.values(saved.moments));
          }
        }
        const weights = Object.fromEntries(
          parameters.map(({ key, variable }) => [key, variable.dataSync() as Float32Array]),
        );
        tf.dispose([part.inputs, part.labels]);
        optimizer.dispose();
        model.dispose();
        return weights;
      };
      const before = tf.memory().numTensors;
      const straight = run(undefined);
      const resumed = run(2);
      expect(tf.memory().numTensors).toBe(before);
      for (const [name, expected] of Object.entries(straight)) {
        expect([...(resumed[name] as Float32Array)], name).toEqual([...expected]);
      }
    },
  );
});
