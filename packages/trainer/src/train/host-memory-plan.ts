/**
 * `--accumulate auto` on the tensorflow backend without a GPU: the largest micro-batch whose training step
 * fits the host's available memory (./host-memory.ts).
 *
 * The step keeps the same tensors on the CPU as in wasm's heap (the autodiff tape), so it reuses wasm's
 * fitted estimate (./wasm-heap-budget.ts: ~0.65 GiB per image of ResNet-50 at 224, ~0.54 GiB for the
 * parameters, their gradients and Adam's moments). Measured on the tensorflow backend before this plan
 * existed: 8 images at once peaked at 5.8 GiB of RSS, and the whole batch of 32 was killed on a 24 GiB
 * machine. On top of the step: 2 GiB for the rest of the process (Node, libtensorflow, the decode
 * workers and the batches they read ahead) and 20 % of the available memory for the allocators'
 * fragmentation and for other processes' growth. Unlike a GPU's, a host's OOM is a SIGKILL from the
 * kernel that no retry can catch, hence the margins.
 */
import type * as tf from '@tensorflow/tfjs';
import type { MicroBatchPlan, StepMemoryModel } from './gpu-memory-plan.ts';
import type { HostMemory } from './host-memory.ts';
import { estimateTrainingHeapBytes } from './wasm-heap-budget.ts';

const GiB = 2 ** 30;
export const HOST_RESERVED_BYTES = 2 * GiB;
const HOST_USABLE_FRACTION = 0.8;

export function hostStepMemory(model: tf.LayersModel): StepMemoryModel {
  const fixedBytes = estimateTrainingHeapBytes(model, 0);
  return { fixedBytes, perImageBytes: estimateTrainingHeapBytes(model, 1) - fixedBytes };
}

export function hostBudgetBytes(availableBytes: number): number {
  return Math.max(0, availableBytes * HOST_USABLE_FRACTION - HOST_RESERVED_BYTES);
}

export function describeHostPlan(plan: MicroBatchPlan, batchSize: number, host: HostMemory): string {
  const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;
  const head = `--accumulate auto: TensorFlow trains on the CPU; this machine has ${gib(host.availableBytes)} available (${host.source}; ${gib(plan.budgetBytes)} for the step after the process's reserve)`;
  if (!plan.fits) {
    return `${head}; even 1 image per micro-batch is estimated at ${gib(plan.neededBytes)}: trying micro-batches of 1 (if the run is killed, lower --image-size, train fewer layers with --trainable stage5 --cache-features, or free memory)`;
  }
  return `${head}: micro-batches of ${plan.microBatch} (${plan.accumulate} per batch of ${batchSize}, estimated ${gib(plan.neededBytes)})`;
}
