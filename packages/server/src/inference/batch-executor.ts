/**
 * Something that runs one batch of preprocessed images through the model: the worker pool, or the
 * model in this thread (`workers: 0`). The micro-batcher only hands a batch to an executor with a free
 * slot, so requests queue in one place (where the queue bound and its metrics live).
 */
export interface BatchExecutor {
  /** Resolves once every slot has loaded and warmed up its model; rejects with the load error. */
  readonly ready: Promise<void>;
  /** Batches that can be started now without waiting. */
  freeSlots(): number;
  /** Calls `listener` whenever a slot becomes free (a batch finished, a worker was replaced). */
  onSlotFree(listener: () => void): void;
  /**
   * Calls `listener` when no slot can ever run a batch again (every replacement worker failed to load
   * the model), so waiting requests fail instead of waiting forever. Optional: the in-process
   * executor never loses its model once loaded.
   */
  onUnusable?(listener: (error: Error) => void): void;
  /** Softmax probabilities, one array per input, in input order. */
  run(batch: Float32Array[]): Promise<Float32Array[]>;
  /** Tensor and memory counts per slot (the worker's own `tf.memory()` in worker mode). */
  stats(): Promise<ExecutorSlotStats[]>;
  /** Stops accepting work and frees the model(s). */
  close(): Promise<void>;
}

export interface ExecutorSlotStats {
  /** `main` for the in-process executor, `worker-N` for pool workers. */
  id: string;
  state: 'loading' | 'idle' | 'busy' | 'failed';
  numTensors: number;
  numBytes: number;
  batches: number;
  /** Workers started to replace this slot's dead predecessors. */
  restarts: number;
}
