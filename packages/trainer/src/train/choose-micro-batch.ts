/**
 * Resolves `--accumulate` to the micro-batch a run starts with: a number is taken as given (after the wasm
 * heap check); `auto` (the default) plans from the GPU's free memory on the tensorflow backend with a GPU,
 * from the host's available memory on the tensorflow backend without one, from the 4 GiB heap on wasm,
 * and runs whole batches on the pure-JS cpu backend (a test and debugging fallback).
 */
import { tensorflowUsesGpu } from '@food/core/backend';
import { UserError } from '@food/core/errors';
import * as tf from '@tensorflow/tfjs';
import { describePlan, gpuBudgetBytes, gpuStepMemory, planMicroBatch } from './gpu-memory-plan.ts';
import { type HostMemory, readHostMemory } from './host-memory.ts';
import { describeHostPlan, hostBudgetBytes, hostStepMemory } from './host-memory-plan.ts';
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

/** What the plan depends on besides the model: the active backend and, on the CPU, the host's memory. */
export interface PlanEnvironment {
  backend: string;
  usesGpu: boolean;
  readHost: () => HostMemory;
}

function currentEnvironment(): PlanEnvironment {
  return { backend: tf.getBackend(), usesGpu: tensorflowUsesGpu(), readHost: readHostMemory };
}

export function chooseMicroBatch(
  config: Pick<TrainConfig, 'batchSize' | 'accumulate'>,
  trained: tf.LayersModel,
  gpu: GpuMemory | undefined,
  log: (line: string) => void,
  environment: PlanEnvironment = currentEnvironment(),
): number {
  const { batchSize, accumulate } = config;
  const { backend } = environment;
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
  // On a GPU whose free memory nvidia-smi could not say ([N/A]), the OOM retry finds the micro-batch.
  if (backend === 'tensorflow' && !environment.usesGpu) {
    const memory = environment.readHost();
    const plan = planMicroBatch(batchSize, hostStepMemory(trained), hostBudgetBytes(memory.availableBytes));
    log(describeHostPlan(plan, batchSize, memory));
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
