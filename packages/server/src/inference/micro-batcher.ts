import { QueueFullError } from '../errors.ts';
import type { BatchExecutor } from './batch-executor.ts';

export interface MicroBatcherOptions {
  /** Most images in one batch. */
  maxBatch: number;
  /** How long the oldest waiting image may wait for company before its batch goes anyway. */
  batchTimeoutMs: number;
  /** Most images waiting (not yet in a batch); beyond it `submit` rejects with QUEUE_FULL (503). */
  maxQueue: number;
  /** Batches the executor runs at once (its workers; 1 in-process): the queue is shared among them. */
  slots: number;
}

export interface BatchEvent {
  size: number;
  /** How long the batch took on the executor (inference only, no queueing). */
  durationMs: number;
  ok: boolean;
}

export interface BatcherStats {
  queued: number;
  batchesInFlight: number;
  batches: number;
  images: number;
  /** Batch size → how many batches had it. */
  batchSizes: Record<string, number>;
}

/** One image's answer and where its time went, for the Server-Timing header and bench profiles. */
export interface TimedResult {
  probabilities: Float32Array;
  /** From submit until its batch left the queue (waiting for a free slot or for company). */
  queuedMs: number;
  /** Its batch on the executor: hand-off to the worker, the forward pass, the answer's way back. */
  runMs: number;
  batchSize: number;
}

interface Pending {
  input: Float32Array;
  enqueuedAt: number;
  resolve: (result: TimedResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Dynamic micro-batching (the idea of TF Serving's and Triton's batchers): a batch only leaves the
 * queue when the executor has a free slot, so the queue is the one place where load shows (and is shed),
 * and it takes its share of the queue: waiting images ÷ slots (busy or free), up to `maxBatch`. On a CPU
 * a batch of 2 takes about twice as long as a batch of 1 (ONNX Runtime int8, 1 thread: 12.2 vs 11.4 ms
 * of CPU per image), so a slot that took the whole queue would leave the next slot to free idle: with
 * 4 closed-loop clients on 2 workers, whole-queue batches kept the slots 75 % busy, shares 99 %
 * (simulated in test/inference/micro-batcher.test.ts). With a single slot, images that arrive within
 * `batchTimeoutMs` of each other share one forward pass; with several, waiting for company would only
 * idle a slot.
 */
export class MicroBatcher {
  readonly #executor: BatchExecutor;
  readonly #options: MicroBatcherOptions;
  readonly #queue: Pending[] = [];
  readonly #listeners: Array<(event: BatchEvent) => void> = [];
  readonly #batchSizes = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;
  /** Set once the executor can run nothing more; every submit then fails at once. */
  #unusable: Error | undefined;
  #batchesInFlight = 0;
  #batches = 0;
  #images = 0;

  constructor(executor: BatchExecutor, options: MicroBatcherOptions) {
    this.#executor = executor;
    this.#options = options;
    executor.onSlotFree(() => this.#pump());
    // Without this, requests queued when the last worker died and its replacement could not load
    // (its checkpoint changed on disk) waited forever. Found by test/reliability/faults.test.ts.
    executor.onUnusable?.((error) => {
      this.#unusable = error;
      this.rejectAll(error);
    });
  }

  /** Resolves with this image's probabilities once its batch has run. */
  async submit(input: Float32Array): Promise<Float32Array> {
    return (await this.submitTimed(input)).probabilities;
  }

  /** `submit`, with the time the image spent queued and running. */
  submitTimed(input: Float32Array): Promise<TimedResult> {
    if (this.#unusable) return Promise.reject(this.#unusable);
    if (this.#queue.length >= this.#options.maxQueue) {
      return Promise.reject(new QueueFullError(this.#queue.length));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, enqueuedAt: performance.now(), resolve, reject });
      this.#pump();
    });
  }

  onBatch(listener: (event: BatchEvent) => void): void {
    this.#listeners.push(listener);
  }

  get queued(): number {
    return this.#queue.length;
  }

  stats(): BatcherStats {
    return {
      queued: this.#queue.length,
      batchesInFlight: this.#batchesInFlight,
      batches: this.#batches,
      images: this.#images,
      batchSizes: Object.fromEntries([...this.#batchSizes].sort(([a], [b]) => a - b)),
    };
  }

  /** Fails every waiting request (used when the executor is gone for good). */
  rejectAll(error: unknown): void {
    clearTimeout(this.#timer);
    for (const pending of this.#queue.splice(0)) pending.reject(error);
  }

  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const { maxBatch, batchTimeoutMs } = this.#options;
    while (this.#queue.length > 0 && this.#executor.freeSlots() > 0) {
      const waitedMs = performance.now() - this.#queue[0].enqueuedAt;
      const { slots } = this.#options;
      if (slots === 1 && this.#queue.length < maxBatch && waitedMs < batchTimeoutMs) {
        // One slot and not full: the oldest image may wait until its deadline for others to join.
        this.#timer = setTimeout(() => this.#pump(), batchTimeoutMs - waitedMs);
        return;
      }
      this.#dispatch(this.#queue.splice(0, Math.min(maxBatch, Math.ceil(this.#queue.length / slots))));
    }
    // Otherwise nothing waits, or every slot is busy and onSlotFree will pump again.
  }

  #dispatch(batch: Pending[]): void {
    this.#batchesInFlight += 1;
    this.#batches += 1;
    this.#images += batch.length;
    this.#batchSizes.set(batch.length, (this.#batchSizes.get(batch.length) ?? 0) + 1);
    const started = performance.now();
    const settle = (ok: boolean) => {
      this.#batchesInFlight -= 1;
      const event = { size: batch.length, durationMs: performance.now() - started, ok };
      for (const listener of this.#listeners) listener(event);
      return event.durationMs;
    };
    this.#executor.run(batch.map((pending) => pending.input)).then(
      (outputs) => {
        const runMs = settle(true);
        for (const [index, pending] of batch.entries()) {
          const queuedMs = started - pending.enqueuedAt;
          pending.resolve({ probabilities: outputs[index], queuedMs, runMs, batchSize: batch.length });
        }
      },
      (error: unknown) => {
        settle(false);
        for (const pending of batch) pending.reject(error);
      },
    );
  }
}
