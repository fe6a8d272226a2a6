/**
 * ResNet-50 forward and train-step timings on the current tfjs backend. Runs inside a measurement
 * child process (./measure-child.ts), after `initBackend`.
 */
import { createTfjsEngine } from '@food/core/engine/tfjs-engine';
import { buildResNet50 } from '@food/core/model/resnet50';
import {
  AdamL2,
  estimateTrainingHeapBytes,
  trainableParameters,
  trainStep,
  WASM_TRAINING_HEAP_LIMIT,
} from '@food/trainer/building-blocks';
import * as tf from '@tensorflow/tfjs';
import { type GemmShape, gemmFlop, type ModelShape } from './spec.ts';
import { timeRuns } from './statistics.ts';

export interface ModelRunOptions {
  model: ModelShape;
  batch: number;
  runs: number;
  log: (line: string) => void;
}

export function buildModel(shape: ModelShape): tf.LayersModel {
  return buildResNet50({
    numClasses: shape.numClasses,
    inputSize: shape.inputSize,
    widthMultiplier: shape.widthMultiplier,
    blocksPerStage: shape.blocksPerStage,
    seed: 1,
  });
}

/** Random HWC images; the values do not change the work a dense CNN does. */
export function randomImages(count: number, inputSize: number, seed = 7): Float32Array[] {
  let state = seed >>> 0;
  const next = () => {
    // xorshift32: fast, deterministic, good enough for filler pixels.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296 - 0.5;
  };
  return Array.from({ length: count }, () => Float32Array.from({ length: inputSize * inputSize * 3 }, next));
}

/** Inference through the same engine evaluation and serving use: ms per image, one batch per run. */
export async function measureForward(options: ModelRunOptions): Promise<number[]> {
  const engine = createTfjsEngine(buildModel(options.model), { maxBatch: options.batch });
  try {
    const images = randomImages(options.batch, options.model.inputSize);
    const samples = await timeRuns(
      async () => {
        await engine.predict(images);
      },
      {
        runs: options.runs,
        onRun: (index, ms) =>
          options.log(`run ${index + 1}/${options.runs}: ${(ms / options.batch).toFixed(1)} ms/image`),
      },
    );
    return samples.map((ms) => ms / options.batch);
  } finally {
    engine.dispose();
  }
}

/** GFLOP/s of a 1×1 convolution on the current backend (XNNPACK's GEMM on wasm). */
export async function measureGemm(shape: GemmShape, runs: number): Promise<number[]> {
  const input = tf.randomNormal([shape.batch, shape.size, shape.size, shape.inChannels]) as tf.Tensor4D;
  const filter = tf.randomNormal([1, 1, shape.inChannels, shape.outChannels]) as tf.Tensor4D;
  try {
    const convolve = () => {
      // Not tf.tidy(() => ….dataSync()): tidy walks a returned typed array element by element (2.5 s).
      const output = tf.conv2d(input, filter, 1, 'valid');
      output.dataSync();
      output.dispose();
    };
    const samples = await timeRuns(convolve, { runs: Math.max(runs, 5) });
    return samples.map((ms) => gemmFlop(shape) / (ms / 1000) / 1e9);
  } finally {
    tf.dispose([input, filter]);
  }
}

/**
 * The trainer's real step (forward in training mode, softmax cross-entropy, gradients of every
 * trainable weight, AdamL2 update) on `batch` random images as micro-batches of `microBatch`
 * (gradient accumulation, one update). `dispose` frees the model, the optimizer and the images.
 */
export function createTrainStep(
  shape: ModelShape,
  batch: number,
  microBatch = batch,
): { step: () => void; dispose: () => void } {
  if (batch % microBatch !== 0) throw new RangeError(`batch ${batch} is not a multiple of ${microBatch}`);
  const model = buildModel(shape);
  const needed = estimateTrainingHeapBytes(model, microBatch);
  if (tf.getBackend() === 'wasm' && needed > WASM_TRAINING_HEAP_LIMIT) {
    model.dispose();
    // Running it would abort (1 thread) or deadlock (pthreads build) once the heap reaches 4 GiB.
    throw new Error(
      `out of memory: ${microBatch} images at once need about ${(needed / 2 ** 30).toFixed(1)} GiB of wasm heap (estimate), not run`,
    );
  }
  const optimizer = new AdamL2({ learningRate: 1e-4, weightDecay: 1e-4 });
  const parameters = trainableParameters(model);
  // Every micro-batch reuses the same images: the work does not depend on their values.
  const inputs = tf.tensor4d(concat(randomImages(microBatch, shape.inputSize)), [
    microBatch,
    shape.inputSize,
    shape.inputSize,
    3,
  ]);
  const labels = tf.tensor1d(
    Array.from({ length: microBatch }, (_, i) => i % shape.numClasses),
    'int32',
  );
  const microBatches = Array.from({ length: batch / microBatch }, () => ({ inputs, labels }));
  return {
    step: () => {
      trainStep(model, optimizer, parameters, microBatches, shape.numClasses);
    },
    dispose: () => {
      tf.dispose([inputs, labels]);
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** `createTrainStep`'s step timed: ms per image. Also checks that the step leaks no tensors. */
export async function measureTrainStep(
  options: ModelRunOptions & { microBatch?: number },
): Promise<{ samples: number[]; leakedTensors: number }> {
  const { batch } = options;
  const { step, dispose } = createTrainStep(options.model, batch, options.microBatch);
  try {
    // The warm-up step creates Adam's moments; count tensors after it.
    step();
    const tensorsAfterWarmUp = tf.memory().numTensors;
    const samples = await timeRuns(step, {
      runs: options.runs,
      warmUp: 0,
      onRun: (index, ms) =>
        options.log(`step ${index + 1}/${options.runs}: ${(ms / batch).toFixed(1)} ms/image`),
    });
    return {
      samples: samples.map((ms) => ms / batch),
      leakedTensors: tf.memory().numTensors - tensorsAfterWarmUp,
    };
  } finally {
    dispose();
  }
}

function concat(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const array of arrays) {
    out.set(array, offset);
    offset += array.length;
  }
  return out;
}
