/**
 * Resolves `--accumulate` to the micro-batch a run starts with: a number is taken as given (after the wasm
 * heap check); `auto` (the default) plans from the GPU's free memory on the tensorflow backend with a GPU,
 * from the 4 GiB heap on wasm, and runs whole batches elsewhere (host memory).
 */
import { UserError } from '@food/core/errors';
import * as tf from '@tensorflow/tfjs';
import { describePlan, gpuBudgetBytes, gpuStepMemory, planMicroBatch } from './gpu-memory-plan.ts';
import type { TrainConfig } from './run-config.ts';
import {
  assertTrainingFitsWasmHeap,
  estimateTrainingHeapBytes,
  WASM_TRAINING_HEAP_LIMIT,
} from './wasm-heap-budget.ts';

/** The GPU TensorFlow trains on, as nvidia-smi saw it before TensorFlow claimed its memory. */
export interface GpuMemory {
  name: string;
  freeBytes: number;
}

export function chooseMicroBatch(
  config: Pick<TrainConfig, 'batchSize' | 'accumulate'>,
  trained: tf.LayersModel,
  gpu: GpuMemory | undefined,
  log: (line: string) => void,
): number {
  const { batchSize, accumulate } = config;
  const backend = tf.getBackend();
  if (accumulate !== 'auto') {
    if (batchSize % accumulate !== 0) {
      throw new UserError(`--batch-size ${batchSize} is not divisible by --accumulate ${accumulate}.`);
    }
    if (backend === 'wasm') assertTrainingFitsWasmHeap(trained, batchSize, accumulate);
    return batchSize / accumulate;
  }
  if (backend === 'tensorflow' && gpu) {
    const plan = planMicroBatch(batchSize, gpuStepMemory(trained), gpuBudgetBytes(gpu.freeBytes));
    log(describePlan(plan, batchSize, gpu));
    return plan.microBatch;
  }
  if (backend === 'wasm') {
    const memory = { fixedBytes: estimateTrainingHeapBytes(trained, 0), perImageBytes: 0 };
    memory.perImageBytes = estimateTrainingHeapBytes(trained, 1) - memory.fixedBytes;
    const plan = planMicroBatch(batchSize, memory, WASM_TRAINING_HEAP_LIMIT);
    // Past 4 GiB wasm aborts or deadlocks instead of reporting OOM, so there is no retry to fall back on.
    if (!plan.fits) assertTrainingFitsWasmHeap(trained, batchSize, batchSize);
    if (plan.accumulate > 1) {
      log(
        `--accumulate auto: micro-batches of ${plan.microBatch} (${plan.accumulate} per batch of ${batchSize}) fit the wasm heap (estimated ${(plan.neededBytes / 2 ** 30).toFixed(1)} GiB of ${(WASM_TRAINING_HEAP_LIMIT / 2 ** 30).toFixed(1)})`,
      );
    }
    return plan.microBatch;
  }
  return batchSize;
}
