import { buildResNet50 } from '@food/core/model/resnet50';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamL2 } from '../../src/train/adam.ts';
import {
  createMicroBatchRunner,
  isOutOfMemoryError,
  splitBatch,
} from '../../src/train/micro-batch-runner.ts';
import { trainableParameters } from '../../src/train/parameters.ts';
import { type ModelBatch, trainStep } from '../../src/train/train-step.ts';

// What tfjs-node-gpu throws when TensorFlow's GPU allocator is exhausted (ResourceExhaustedError).
const TF_OOM =
  'OOM when allocating tensor with shape[8,64,16,16] and type float on /job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc';

const tinyResNet = () =>
  buildResNet50({
    numClasses: 3,
    inputSize: 32,
    widthMultiplier: 1 / 16,
    blocksPerStage: [1, 1, 1, 1],
    seed: 7,
  });

function makeBatch(): ModelBatch {
  return {
    inputs: tf.randomNormal([8, 32, 32, 3], 0, 1, 'float32', 3),
    labels: tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'),
  };
}

const weightsOf = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

/**
 * A model whose forward pass on more than `maxImages` images runs (updating batch-norm's moving
 * statistics, as a real step does before it runs out of memory in the backward pass) and then throws
 * TensorFlow's OOM error.
 */
function failAbove(model: tf.LayersModel, maxImages: number): { attempts: number[] } {
  const seen = { attempts: [] as number[] };
  const apply = model.apply.bind(model);
  model.apply = ((inputs: tf.Tensor, kwargs?: tf.serialization.ConfigDict) => {
    const output = apply(inputs, kwargs);
    seen.attempts.push(inputs.shape[0]!);
    if (inputs.shape[0]! > maxImages) throw new Error(TF_OOM);
    return output;
  }) as typeof model.apply;
  return seen;
}

describe('micro-batch runner: OOM retry', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('recognises TensorFlow and CUDA out-of-memory errors, and nothing else', () => {
    expect(isOutOfMemoryError(new Error(TF_OOM))).toBe(true);
    expect(isOutOfMemoryError(new Error('CUDNN_STATUS_ALLOC_FAILED'))).toBe(true);
    expect(isOutOfMemoryError(new Error('Tensors in list passed to concat must have the same rank'))).toBe(
      false,
    );
  });

  it('splits a batch into near-equal micro-batches of at most the size', () => {
    const batch = { inputs: tf.zeros([20, 2]), labels: tf.zeros([20], 'int32') as tf.Tensor1D };
    const parts = splitBatch(batch, 8);
    expect(parts.map((part) => part.labels.shape[0])).toEqual([7, 7, 6]);
    tf.dispose([batch.inputs, batch.labels, ...parts.flatMap((part) => [part.inputs, part.labels])]);
  });

  it('halves the micro-batch on OOM and ends with the weights, statistics and optimizer step of a clean run at that size', () => {
    // Reference: the same step run directly as two micro-batches of 4.
    const reference = tinyResNet();
    const referenceOptimizer = new AdamL2({ learningRate: 1e-3, weightDecay: 5e-4 });
    const batch = makeBatch();
    const referenceParameters = trainableParameters(reference);
    const referenceBefore = tf.memory().numTensors;
    createMicroBatchRunner({ microBatch: 4, log: () => {} }).step(batch, (parts) =>
      trainStep(reference, referenceOptimizer, referenceParameters, parts, 3),
    );
    const adamMoments = tf.memory().numTensors - referenceBefore; // created by the first step

    const model = tinyResNet();
    const optimizer = new AdamL2({ learningRate: 1e-3, weightDecay: 5e-4 });
    const parameters = trainableParameters(model);
    const seen = failAbove(model, 4);
    const lines: string[] = [];
    const runner = createMicroBatchRunner({
      microBatch: 8,
      model,
      optimizer,
      log: (line) => lines.push(line),
    });
    const tensorsBefore = tf.memory().numTensors;
    const result = runner.step(batch, (parts) => trainStep(model, optimizer, parameters, parts, 3));

    expect(seen.attempts).toEqual([8, 4, 4]);
    expect(runner.microBatch).toBe(4);
    expect(lines).toEqual([
      expect.stringMatching(
        /out of GPU memory with micro-batches of 8: retrying .* micro-batches of 4 \(batch of 8 unchanged, 2 micro-batches/,
      ),
    ]);
    expect(result.examples).toBe(8);
    expect(optimizer.iterations).toBe(1);
    expect(weightsOf(model)).toEqual(weightsOf(reference)); // includes batch-norm moving mean/variance
    expect(tf.memory().numTensors).toBe(tensorsBefore + adamMoments);

    // The smaller micro-batch stays: the next step does not fail first.
    runner.step(batch, (parts) => trainStep(model, optimizer, parameters, parts, 3));
    expect(seen.attempts).toEqual([8, 4, 4, 4, 4]);
    tf.dispose([batch.inputs, batch.labels]);
    for (const disposable of [model, reference, optimizer, referenceOptimizer]) disposable.dispose();
  });

  it('gives up at the floor with what to do next, leaving no tensors behind', () => {
    const model = tinyResNet();
    const optimizer = new AdamL2({ learningRate: 1e-3, weightDecay: 0 });
    const parameters = trainableParameters(model);
    failAbove(model, 1);
    const batch = makeBatch();
    const tensorsBefore = tf.memory().numTensors;
    const runner = createMicroBatchRunner({ microBatch: 8, floor: 2, model, optimizer, log: () => {} });
    expect(() =>
      runner.step(batch, (parts) => trainStep(model, optimizer, parameters, parts, 3)),
    ).toThrowError(
      /Out of GPU memory with micro-batches of 2 images, the smallest allowed\. Lower --image-size/,
    );
    expect(optimizer.iterations).toBe(0);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    tf.dispose([batch.inputs, batch.labels]);
    model.dispose();
    optimizer.dispose();
  });

  it('does not retry other errors, nor an OOM after the optimizer started applying the step', () => {
    const batch = makeBatch();
    const runner = createMicroBatchRunner({ microBatch: 8, optimizer: { iterations: 0 }, log: () => {} });
    expect(() =>
      runner.step(batch, () => {
        throw new Error('shapes do not match');
      }),
    ).toThrowError('shapes do not match');
    const optimizer = { iterations: 0 };
    const applying = createMicroBatchRunner({ microBatch: 8, optimizer, log: () => {} });
    expect(() =>
      applying.step(batch, () => {
        optimizer.iterations += 1;
        throw new Error(TF_OOM);
      }),
    ).toThrowError(
      /while applying the update \(.*no micro-batch size.*\).*plus --resume; .*--trainable stage5/,
    );
    // What it says works: --resume keeps --accumulate, and a larger one would not shrink the update.
    expect(() =>
      applying.step(batch, () => {
        optimizer.iterations += 1;
        throw new Error(TF_OOM);
      }),
    ).not.toThrowError(/larger --accumulate/);
    expect(applying.microBatch).toBe(8);
    tf.dispose([batch.inputs, batch.labels]);
  });
});
