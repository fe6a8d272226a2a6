/**
 * wasm32 addresses at most 4 GiB, and a training step keeps the forward pass's activations for the
 * gradient. Past the limit the single-threaded build aborts mid-step and the pthreads build deadlocks
 * (a pool thread dies in malloc while the main thread waits for it), so a run checks its micro-batch
 * against this estimate before the first step and says how to split it.
 */

import { UserError } from '@food/core/errors';
import type * as tf from '@tensorflow/tfjs';

const GiB = 2 ** 30;

/** What the heap may hold; 4 GiB less room for the allocator's fragmentation and the data pipeline. */
export const WASM_TRAINING_HEAP_LIMIT = 3.5 * GiB;

/**
 * Heap bytes per float of layer output per image, and per parameter. Fitted to ResNet-50 at 224 on
 * wasm (`pnpm bench`): heap 1.19 GiB at batch 1 and 3.14 GiB at batch 4, i.e. ~0.65 GiB per image for
 * 37.1 M output floats (a step keeps each output plus BatchNorm's and ReLU's intermediates and their
 * gradients), and ~0.54 GiB for 23.7 M parameters (weights, gradients, Adam's two moments, temporaries).
 */
const BYTES_PER_OUTPUT_FLOAT = 18.8;
const BYTES_PER_PARAMETER = 24;

export function estimateTrainingHeapBytes(model: tf.LayersModel, microBatch: number): number {
  let outputFloatsPerImage = 0;
  for (const layer of model.layers) {
    const shapes = (Array.isArray(layer.outputShape[0]) ? layer.outputShape : [layer.outputShape]) as Array<
      Array<number | null>
    >;
    for (const shape of shapes)
      outputFloatsPerImage += shape.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1);
  }
  return (
    outputFloatsPerImage * BYTES_PER_OUTPUT_FLOAT * microBatch + model.countParams() * BYTES_PER_PARAMETER
  );
}

/** Throws a UserError naming an `--accumulate` that fits when `batchSize / accumulate` images do not. */
export function assertTrainingFitsWasmHeap(
  model: tf.LayersModel,
  batchSize: number,
  accumulate: number,
): void {
  const microBatch = batchSize / accumulate;
  const needed = estimateTrainingHeapBytes(model, microBatch);
  if (needed <= WASM_TRAINING_HEAP_LIMIT) return;
  const fitting = divisors(batchSize).find(
    (count) => estimateTrainingHeapBytes(model, batchSize / count) <= WASM_TRAINING_HEAP_LIMIT,
  );
  const advice =
    fitting === undefined
      ? 'Not even one image fits: lower --image-size or --width, or train fewer layers (--trainable stage5 --cache-features).'
      : `Use --accumulate ${fitting} (micro-batches of ${batchSize / fitting}; the same batch of ${batchSize}, gradients accumulated), or a smaller --batch-size.`;
  throw new UserError(
    `A training step on ${microBatch} image${microBatch === 1 ? '' : 's'} at once needs about ` +
      `${(needed / GiB).toFixed(1)} GiB of wasm memory, more than the ${(WASM_TRAINING_HEAP_LIMIT / GiB).toFixed(1)} GiB ` +
      `wasm can safely use (it addresses 4 GiB). ${advice}`,
  );
}

function divisors(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
}
