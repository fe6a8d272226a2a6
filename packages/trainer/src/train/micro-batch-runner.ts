/**
 * Runs each optimizer step as micro-batches of at most `microBatch` images, and survives running out of
 * GPU memory: when TensorFlow reports OOM during a step, the step is retried with micro-batches half as
 * large, down to a floor, the way Hugging Face Accelerate's `find_executable_batch_size` halves its batch.
 * The effective batch and the optimizer state do not change: the failed attempt is discarded before the
 * optimizer applied anything, and batch-norm moving statistics that the attempt updated are restored.
 * The smaller micro-batch stays for the rest of the run.
 */
import { UserError } from '@food/core/errors';
import * as tf from '@tensorflow/tfjs';
import type { ModelBatch, StepResult } from './train-step.ts';

export interface MicroBatchRunnerOptions {
  /** Images per micro-batch to start with. */
  microBatch: number;
  /** Smallest micro-batch to retry with (default 1). */
  floor?: number;
  /** Its non-trainable weights (batch-norm moving mean/variance) are restored before a retry. */
  model?: tf.LayersModel;
  /** A retry is safe only while the optimizer has not started applying the step. */
  optimizer?: { readonly iterations: number };
  log: (line: string) => void;
}

export interface MicroBatchRunner {
  readonly microBatch: number;
  /** Splits `batch` (not disposed) into micro-batches, runs `train` on them, retries on OOM. */
  step(batch: ModelBatch, train: (microBatches: ModelBatch[]) => StepResult): StepResult;
}

/** TensorFlow's and CUDA's ways of saying a device allocation failed. */
export function isOutOfMemoryError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /OOM when allocating|ResourceExhausted|CUDA_ERROR_OUT_OF_MEMORY|CUDNN_STATUS_ALLOC_FAILED|out of memory/i.test(
    message,
  );
}

export function createMicroBatchRunner(options: MicroBatchRunnerOptions): MicroBatchRunner {
  const floor = options.floor ?? 1;
  let microBatch = options.microBatch;
  return {
    get microBatch() {
      return microBatch;
    },
    step(batch, train) {
      for (;;) {
        const canRetry = microBatch > floor;
        const saved = canRetry && options.model ? snapshot(options.model) : [];
        const stepBefore = options.optimizer?.iterations;
        const parts = splitBatch(batch, microBatch);
        try {
          return freeingTapeOnError(() => train(parts));
        } catch (error) {
          if (!isOutOfMemoryError(error)) throw error;
          const images = batch.labels.shape[0];
          if (options.optimizer && options.optimizer.iterations !== stepBefore) {
            throw withMessage(
              error,
              // A larger --accumulate would not help here: the update's memory does not depend on it.
              'Out of memory while applying the update (weights, gradients and Adam moments: no micro-batch size makes them smaller), so the weights may be partly updated. Free the GPU of other processes (nvidia-smi lists them) and continue from the last checkpoint with the same command plus --resume; if nothing else holds it, the update does not fit this GPU: start a run that trains fewer layers (--trainable stage5).',
            );
          }
          if (!canRetry) {
            throw withMessage(
              error,
              `Out of GPU memory with micro-batches of ${microBatch} image${microBatch === 1 ? '' : 's'}, the smallest allowed. Lower --image-size, train fewer layers (--trainable stage5), free the GPU of other processes (nvidia-smi), or use a GPU with more memory.`,
            );
          }
          for (const { variable, value } of saved) variable.write(value);
          const next = Math.max(floor, Math.floor(microBatch / 2));
          options.log(
            `out of GPU memory with micro-batches of ${microBatch}: retrying the step with micro-batches of ${next} (batch of ${images} unchanged, ${Math.ceil(images / next)} micro-batches; batch-norm statistics restored, optimizer untouched)${next < 16 ? '; below 16 images batch normalisation sees noisier statistics' : ''}`,
          );
          microBatch = next;
        } finally {
          tf.dispose(
            parts.flatMap((part) => [part.inputs, part.labels, ...(part.targets ? [part.targets] : [])]),
          );
          tf.dispose(saved.map(({ value }) => value));
        }
      }
    },
  };
}

/**
 * Splits a batch into as few micro-batches of at most `size` images as possible, of near-equal sizes
 * (a short last batch of 20 with micro-batches of 8: 7 + 7 + 6, not 8 + 8 + 4); new tensors.
 */
export function splitBatch(batch: ModelBatch, size: number): ModelBatch[] {
  const images = batch.labels.shape[0];
  const targets = (start: number, length: number) =>
    batch.targets && { targets: batch.targets.slice(start, length) };
  if (size >= images) {
    return [{ inputs: batch.inputs.clone(), labels: batch.labels.clone(), ...targets(0, images) }];
  }
  const step = Math.ceil(images / Math.ceil(images / size));
  const parts: ModelBatch[] = [];
  for (let start = 0; start < images; start += step) {
    const length = Math.min(step, images - start);
    parts.push({
      inputs: batch.inputs.slice(start, length),
      labels: batch.labels.slice(start, length),
      ...targets(start, length),
    });
  }
  return parts;
}

/**
 * tfjs's autodiff `keep`s the tensors each op saves for its gradient and frees them after the backward
 * pass; when the function under `variableGrads` throws, nothing frees them (631 tensors per failed
 * attempt of the tests' tiny ResNet), and on a GPU they hold the memory the retry needs. So the tensors
 * kept during an attempt are recorded and, if it fails, disposed.
 */
function freeingTapeOnError<T>(run: () => T): T {
  const engine = tf.engine() as unknown as { keep<R extends tf.Tensor>(tensor: R): R };
  const keep = engine.keep;
  const kept: tf.Tensor[] = [];
  engine.keep = function <R extends tf.Tensor>(this: unknown, tensor: R): R {
    kept.push(tensor);
    return keep.call(this, tensor) as R;
  };
  try {
    return run();
  } catch (error) {
    for (const tensor of kept) if (!tensor.isDisposed && !(tensor instanceof tf.Variable)) tensor.dispose();
    throw error;
  } finally {
    engine.keep = keep;
  }
}

type LayerVariable = tf.LayersModel['nonTrainableWeights'][number];

function snapshot(model: tf.LayersModel): Array<{ variable: LayerVariable; value: tf.Tensor }> {
  return model.nonTrainableWeights.map((variable) => ({ variable, value: variable.read().clone() }));
}

function withMessage(error: unknown, advice: string): UserError {
  const cause = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return Object.assign(new UserError(`${advice} (${cause})`, 'GPU_OUT_OF_MEMORY'), { cause: error });
}
