/**
 * `--accumulate auto` on a GPU: the largest micro-batch whose training step fits the GPU's free memory.
 *
 * Where the estimate comes from (no GPU of ours can run tfjs-node-gpu, so it is not fitted on a GPU):
 * tfjs's autodiff tape keeps the same intermediate tensors on every backend, and on the tensorflow
 * backend each of them is a GPU allocation. `tf.profile(...).peakBytes` of a full ResNet-50 training
 * step at 224 px (wasm, micro-batches of 1, 2 and 4 images) measured 1.25, 2.40 and 4.33 GB: a
 * least-squares slope of 1.02 GB per image, i.e. 27.4 bytes per float of layer output per image
 * (37.1 M floats), which scales the estimate to other image sizes and widths. On top: 16 bytes per
 * parameter (weights, gradients, Adam's two moments), 1 GiB for the CUDA context and cuDNN/cuBLAS
 * workspaces, and 10 % of the free memory for TensorFlow's allocator (rounding, fragmentation). Where the
 * estimate is still too optimistic, the OOM retry (./micro-batch-runner.ts) halves the micro-batch.
 */
import type * as tf from '@tensorflow/tfjs';

const GiB = 2 ** 30;
export const TAPE_BYTES_PER_OUTPUT_FLOAT = 27.4;
const BYTES_PER_PARAMETER = 16;
export const CUDA_RESERVED_BYTES = 1 * GiB;
const ALLOCATOR_USABLE_FRACTION = 0.9;

/** Layer output floats of one image: what the tape holds per image, up to a constant factor. */
export function outputFloatsPerImage(model: tf.LayersModel): number {
  let floats = 0;
  for (const layer of model.layers) {
    const shapes = (Array.isArray(layer.outputShape[0]) ? layer.outputShape : [layer.outputShape]) as Array<
      Array<number | null>
    >;
    for (const shape of shapes) floats += shape.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1);
  }
  return floats;
}

export interface StepMemoryModel {
  /** Bytes that do not depend on the micro-batch (parameters and optimizer state). */
  fixedBytes: number;
  perImageBytes: number;
}

export function gpuStepMemory(model: tf.LayersModel): StepMemoryModel {
  return {
    fixedBytes: model.countParams() * BYTES_PER_PARAMETER,
    perImageBytes: outputFloatsPerImage(model) * TAPE_BYTES_PER_OUTPUT_FLOAT,
  };
}

export interface MicroBatchPlan {
  /** Micro-batches per step (what `--accumulate K` would say). */
  accumulate: number;
  microBatch: number;
  /** Estimated bytes of a step at that micro-batch, and the budget it had to fit. */
  neededBytes: number;
  budgetBytes: number;
  /** False when not even one image per micro-batch fits the estimate (then micro-batches of 1). */
  fits: boolean;
}

/** The budget for a training step out of the free memory nvidia-smi reported before TensorFlow started. */
export function gpuBudgetBytes(freeBytes: number): number {
  return Math.max(0, freeBytes * ALLOCATOR_USABLE_FRACTION - CUDA_RESERVED_BYTES);
}

/**
 * The fewest micro-batches per step (a divisor of `batchSize`, so every micro-batch has the same size and
 * batch normalisation sees the same number of images each time) whose step fits `budgetBytes`.
 */
export function planMicroBatch(
  batchSize: number,
  memory: StepMemoryModel,
  budgetBytes: number,
): MicroBatchPlan {
  const needed = (microBatch: number) => memory.fixedBytes + memory.perImageBytes * microBatch;
  const divisors = Array.from({ length: batchSize }, (_, i) => i + 1).filter((d) => batchSize % d === 0);
  const accumulate = divisors.find((count) => needed(batchSize / count) <= budgetBytes);
  const chosen = accumulate ?? batchSize;
  return {
    accumulate: chosen,
    microBatch: batchSize / chosen,
    neededBytes: needed(batchSize / chosen),
    budgetBytes,
    fits: accumulate !== undefined,
  };
}

export function describePlan(
  plan: MicroBatchPlan,
  batchSize: number,
  gpu: { name: string; freeBytes: number },
): string {
  const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;
  const head = `--accumulate auto: ${gpu.name} has ${gib(gpu.freeBytes)} free (${gib(plan.budgetBytes)} for the step after CUDA's reserve)`;
  if (!plan.fits) {
    return `${head}; even 1 image per micro-batch is estimated at ${gib(plan.neededBytes)}: trying micro-batches of 1 (lower --image-size or train fewer layers if it runs out of memory)`;
  }
  return `${head}: micro-batches of ${plan.microBatch} (${plan.accumulate} per batch of ${batchSize}, estimated ${gib(plan.neededBytes)}); on an OOM the micro-batch is halved and the step retried`;
}
