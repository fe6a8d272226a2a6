import { describe, expect, it } from 'vitest';
import type { BatchExecutor, ExecutorSlotStats } from '../../src/inference/batch-executor.ts';
import { MicroBatcher } from '../../src/inference/micro-batcher.ts';

/** An executor with `slots` slots whose batches finish when the test says so. */
class FakeExecutor implements BatchExecutor {
  readonly ready = Promise.resolve();
  readonly batches: Float32Array[][] = [];
  readonly #finishers: Array<() => void> = [];
  readonly #listeners: Array<() => void> = [];
  #busy = 0;

  constructor(readonly slots: number) {}

  freeSlots(): number {
    return this.slots - this.#busy;
  }

  onSlotFree(listener: () => void): void {
    this.#listeners.push(listener);
  }

  run(batch: Float32Array[]): Promise<Float32Array[]> {
    this.#busy += 1;
    this.batches.push(batch);
    return new Promise((resolve) => {
      this.#finishers.push(() => {
        this.#busy -= 1;
        // Each output encodes its input, so the test sees who got which answer.
        resolve(batch.map((input) => Float32Array.of(input[0] * 10)));
        for (const listener of this.#listeners) listener();
      });
    });
  }

  finishNext(): void {
    this.#finishers.shift()?.();
  }

  async stats(): Promise<ExecutorSlotStats[]> {
    return [];
  }

  async close(): Promise<void> {}
}

const input = (value: number) => Float32Array.of(value);
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('MicroBatcher', () => {
  it('batches requests that arrive within the timeout and answers each with its own output', async () => {
    const executor = new FakeExecutor(1);
    const batcher = new MicroBatcher(executor, { maxBatch: 8, batchTimeoutMs: 20, maxQueue: 100 });
    const answers = [1, 2, 3].map((value) => batcher.submit(input(value)));
    expect(executor.batches).toHaveLength(0);
    await tick(40);
    expect(executor.batches.map((batch) => batch.length)).toEqual([3]);
    executor.finishNext();
    expect((await Promise.all(answers)).map((output) => output[0])).toEqual([10, 20, 30]);
    expect(batcher.stats()).toMatchObject({ batches: 1, images: 3, batchSizes: { 3: 1 }, queued: 0 });
  });

  it('says how long each image waited in the queue and ran, and in what batch', async () => {
    const executor = new FakeExecutor(1);
    const batcher = new MicroBatcher(executor, { maxBatch: 4, batchTimeoutMs: 0, maxQueue: 100 });
    const first = batcher.submitTimed(input(1));
    const [second, third] = [2, 3].map((value) => batcher.submitTimed(input(value)));
    await tick(30);
    executor.finishNext();
    const firstResult = await first;
    expect(firstResult).toMatchObject({ batchSize: 1, probabilities: Float32Array.of(10) });
    expect(firstResult.queuedMs).toBeLessThan(20);
    expect(firstResult.runMs).toBeGreaterThanOrEqual(25);
    await tick(10);
    executor.finishNext();
    for (const result of await Promise.all([second!, third!])) {
      expect(result.batchSize).toBe(2);
      // They waited for the first batch's slot, then ran for the 10 ms tick.
      expect(result.queuedMs).toBeGreaterThanOrEqual(25);
      expect(result.runMs).toBeGreaterThanOrEqual(5);
    }
  });

  it('sends a full batch at once, without waiting for the timeout', () => {
    const executor = new FakeExecutor(1);
    const batcher = new MicroBatcher(executor, { maxBatch: 2, batchTimeoutMs: 60_000, maxQueue: 100 });
    void batcher.submit(input(1));
    void batcher.submit(input(2));
    expect(executor.batches.map((batch) => batch.length)).toEqual([2]);
  });

  it('queues while every slot is busy and sends the backlog when one frees up', async () => {
    const executor = new FakeExecutor(1);
    const batcher = new MicroBatcher(executor, { maxBatch: 4, batchTimeoutMs: 0, maxQueue: 100 });
    const first = batcher.submit(input(1));
    const rest = [2, 3, 4, 5, 6].map((value) => batcher.submit(input(value)));
    expect(executor.batches.map((batch) => batch.length)).toEqual([1]);
    expect(batcher.queued).toBe(5);
    executor.finishNext();
    await first;
    expect(executor.batches.map((batch) => batch.length)).toEqual([1, 4]);
    executor.finishNext();
    await tick(0);
    expect(executor.batches.map((batch) => batch.length)).toEqual([1, 4, 1]);
    executor.finishNext();
    expect((await Promise.all(rest)).map((output) => output[0])).toEqual([20, 30, 40, 50, 60]);
  });

  it('rejects with QUEUE_FULL (503) beyond maxQueue waiting images', async () => {
    const executor = new FakeExecutor(1);
    const batcher = new MicroBatcher(executor, { maxBatch: 1, batchTimeoutMs: 0, maxQueue: 2 });
    void batcher.submit(input(1)); // running
    void batcher.submit(input(2)); // waiting
    void batcher.submit(input(3)); // waiting
    await expect(batcher.submit(input(4))).rejects.toMatchObject({ code: 'QUEUE_FULL', statusCode: 503 });
  });

  it('does not hold an image back for company while another slot idles', async () => {
    const executor = new FakeExecutor(2);
    const batcher = new MicroBatcher(executor, { maxBatch: 8, batchTimeoutMs: 20, maxQueue: 100 });
    void batcher.submit(input(1));
    expect(executor.batches.map((batch) => batch.length)).toEqual([1]);
    // Now only one slot is free: the next images wait up to the timeout to share it.
    void batcher.submit(input(2));
    void batcher.submit(input(3));
    expect(executor.batches.map((batch) => batch.length)).toEqual([1]);
    await tick(40);
    expect(executor.batches.map((batch) => batch.length)).toEqual([1, 2]);
  });

  it('uses every free slot', () => {
    const executor = new FakeExecutor(3);
    const batcher = new MicroBatcher(executor, { maxBatch: 2, batchTimeoutMs: 0, maxQueue: 100 });
    for (let value = 0; value < 5; value++) void batcher.submit(input(value));
    expect(executor.batches.map((batch) => batch.length)).toEqual([1, 1, 1]);
    expect(batcher.queued).toBe(2);
  });

  it('fails every image of a failed batch', async () => {
    const executor = new FakeExecutor(1);
    executor.run = () => Promise.reject(new Error('boom'));
    const batcher = new MicroBatcher(executor, { maxBatch: 2, batchTimeoutMs: 0, maxQueue: 10 });
    await expect(batcher.submit(input(1))).rejects.toThrow('boom');
  });
});
