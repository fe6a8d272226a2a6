import { describe, expect, it, vi } from 'vitest';
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
    const batcher = new MicroBatcher(executor, { maxBatch: 8, batchTimeoutMs: 20, slots: 1, maxQueue: 100 });
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
    const batcher = new MicroBatcher(executor, { maxBatch: 4, batchTimeoutMs: 0, slots: 1, maxQueue: 100 });
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
    const batcher = new MicroBatcher(executor, {
      maxBatch: 2,
      batchTimeoutMs: 60_000,
      slots: 1,
      maxQueue: 100,
    });
    void batcher.submit(input(1));
    void batcher.submit(input(2));
    expect(executor.batches.map((batch) => batch.length)).toEqual([2]);
  });

  it('queues while every slot is busy and sends the backlog when one frees up', async () => {
    const executor = new FakeExecutor(1);
    const batcher = new MicroBatcher(executor, { maxBatch: 4, batchTimeoutMs: 0, slots: 1, maxQueue: 100 });
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
    const batcher = new MicroBatcher(executor, { maxBatch: 1, batchTimeoutMs: 0, slots: 1, maxQueue: 2 });
    void batcher.submit(input(1)); // running
    void batcher.submit(input(2)); // waiting
    void batcher.submit(input(3)); // waiting
    await expect(batcher.submit(input(4))).rejects.toMatchObject({ code: 'QUEUE_FULL', statusCode: 503 });
  });

  it('does not hold an image back for company while another slot idles', async () => {
    const executor = new FakeExecutor(2);
    const batcher = new MicroBatcher(executor, { maxBatch: 8, batchTimeoutMs: 20, slots: 2, maxQueue: 100 });
    void batcher.submit(input(1));
    expect(executor.batches.map((batch) => batch.length)).toEqual([1]);
    // The second slot takes the next image at once: waiting for company would only idle it.
    void batcher.submit(input(2));
    void batcher.submit(input(3));
    expect(executor.batches.map((batch) => batch.length)).toEqual([1, 1]);
    expect(batcher.queued).toBe(1);
  });

  it('gives a freed slot its share of the queue, leaving the rest for the other slots', async () => {
    const executor = new FakeExecutor(2);
    const batcher = new MicroBatcher(executor, { maxBatch: 8, batchTimeoutMs: 0, slots: 2, maxQueue: 100 });
    for (let value = 0; value < 7; value++) void batcher.submit(input(value));
    expect(executor.batches.map((batch) => batch.length)).toEqual([1, 1]);
    executor.finishNext();
    await tick(0);
    // 5 waiting, 2 slots: this one takes 3, the other slot will take the remaining 2.
    expect(executor.batches.map((batch) => batch.length)).toEqual([1, 1, 3]);
    expect(batcher.queued).toBe(2);
  });

  it('uses every free slot', () => {
    const executor = new FakeExecutor(3);
    const batcher = new MicroBatcher(executor, { maxBatch: 2, batchTimeoutMs: 0, slots: 3, maxQueue: 100 });
    for (let value = 0; value < 5; value++) void batcher.submit(input(value));
    expect(executor.batches.map((batch) => batch.length)).toEqual([1, 1, 1]);
    expect(batcher.queued).toBe(2);
  });

  it('fails every image of a failed batch', async () => {
    const executor = new FakeExecutor(1);
    executor.run = () => Promise.reject(new Error('boom'));
    const batcher = new MicroBatcher(executor, { maxBatch: 2, batchTimeoutMs: 0, slots: 1, maxQueue: 10 });
    await expect(batcher.submit(input(1))).rejects.toThrow('boom');
  });
});

/** Slots whose batches take `msPerImage` per image of simulated time: a CPU, where batching saves little. */
class TimedExecutor implements BatchExecutor {
  readonly ready = Promise.resolve();
  readonly #listeners: Array<() => void> = [];
  #busy = 0;
  busyMs = 0;

  constructor(
    readonly slots: number,
    readonly msPerImage: number,
  ) {}

  freeSlots(): number {
    return this.slots - this.#busy;
  }

  onSlotFree(listener: () => void): void {
    this.#listeners.push(listener);
  }

  run(batch: Float32Array[]): Promise<Float32Array[]> {
    this.#busy += 1;
    const ms = this.msPerImage * batch.length;
    this.busyMs += ms;
    return new Promise((resolve) =>
      setTimeout(() => {
        this.#busy -= 1;
        resolve(batch.map(() => Float32Array.of(1)));
        for (const listener of this.#listeners) listener();
      }, ms),
    );
  }

  async stats(): Promise<ExecutorSlotStats[]> {
    return [];
  }

  async close(): Promise<void> {}
}

describe('MicroBatcher under closed-loop load (simulated time)', () => {
  /**
   * `clients` clients each submit an image, wait for its answer, spend `turnaroundMs` (the answer's
   * way back, the next upload, its decode) and submit again, for `durationMs` of simulated time.
   */
  async function closedLoop(clients: number, options: { slots: number; batchTimeoutMs: number }) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const executor = new TimedExecutor(options.slots, 12);
      const batcher = new MicroBatcher(executor, {
        maxBatch: 8,
        batchTimeoutMs: options.batchTimeoutMs,
        slots: options.slots,
        maxQueue: 64,
      });
      const durationMs = 6_000;
      let answered = 0;
      let stop = false;
      const loops = Array.from({ length: clients }, async () => {
        while (!stop) {
          await batcher.submit(Float32Array.of(0));
          answered += 1;
          await new Promise((resolve) => setTimeout(resolve, 3));
        }
      });
      await vi.advanceTimersByTimeAsync(durationMs);
      stop = true;
      await vi.advanceTimersByTimeAsync(1_000);
      await Promise.all(loops);
      return {
        answered,
        sizes: batcher.stats().batchSizes,
        utilisation: executor.busyMs / (options.slots * (durationMs + 1_000)),
      };
    } finally {
      vi.useRealTimers();
    }
  }

  it('keeps both slots busy at 4 clients: images share the slots rather than pairing up on one', async () => {
    const { answered, sizes } = await closedLoop(4, { slots: 2, batchTimeoutMs: 5 });
    // 2 slots × 6 s / 12 ms per image = 1,000 images if no slot ever idled.
    expect(answered).toBeGreaterThanOrEqual(950);
    expect(Object.keys(sizes)).toEqual(['1']);
  });

  it('still batches when the queue outgrows the slots (8 and 32 clients)', async () => {
    for (const clients of [8, 32]) {
      const { answered, sizes } = await closedLoop(clients, { slots: 2, batchTimeoutMs: 5 });
      expect(answered).toBeGreaterThanOrEqual(950);
      expect(Math.max(...Object.keys(sizes).map(Number))).toBeGreaterThan(1);
    }
  });
});
