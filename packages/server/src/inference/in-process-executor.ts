import type { InferenceEngine } from '@food/core/engine/inference-engine';
import * as tf from '@tensorflow/tfjs';
import type { BatchExecutor, ExecutorSlotStats } from './batch-executor.ts';
import { type EngineOptions, loadWarmEngine } from './load-engine.ts';

/**
 * `workers: 0`: the model runs on the main thread. Inference then blocks the event loop, which is
 * fine for tests and tiny models and lets tests read `tf.memory()` directly.
 */
export class InProcessExecutor implements BatchExecutor {
  readonly ready: Promise<void>;
  readonly #listeners: Array<() => void> = [];
  #engine: InferenceEngine | undefined;
  #state: ExecutorSlotStats['state'] = 'loading';
  #batches = 0;

  constructor(options: EngineOptions, log?: (line: string) => void) {
    this.ready = loadWarmEngine(options, log).then(
      ({ engine }) => {
        this.#engine = engine;
        this.#state = 'idle';
        for (const listener of this.#listeners) listener();
      },
      (error: unknown) => {
        this.#state = 'failed';
        throw error;
      },
    );
    this.ready.catch(() => {});
  }

  freeSlots(): number {
    return this.#state === 'idle' ? 1 : 0;
  }

  onSlotFree(listener: () => void): void {
    this.#listeners.push(listener);
  }

  async run(batch: Float32Array[]): Promise<Float32Array[]> {
    if (!this.#engine || this.#state !== 'idle') throw new Error('InProcessExecutor.run called while busy');
    this.#state = 'busy';
    try {
      return await this.#engine.predict(batch);
    } finally {
      this.#batches += 1;
      if (this.#state === 'busy') this.#state = 'idle';
      // After the caller's continuation, so a batch's answers go out before the next batch starts.
      setImmediate(() => {
        for (const listener of this.#listeners) listener();
      });
    }
  }

  async stats(): Promise<ExecutorSlotStats[]> {
    const { numTensors, numBytes } = tf.memory();
    return [{ id: 'main', state: this.#state, numTensors, numBytes, batches: this.#batches, restarts: 0 }];
  }

  async close(): Promise<void> {
    await this.ready.catch(() => {});
    this.#state = 'failed';
    this.#engine?.dispose();
    this.#engine = undefined;
  }
}
