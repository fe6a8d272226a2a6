import { Worker } from 'node:worker_threads';
import { UserError } from '@food/core/errors';
import { WorkerFailedError } from '../errors.ts';
import type { BatchExecutor, ExecutorSlotStats } from './batch-executor.ts';
import type { EngineOptions } from './load-engine.ts';
import { type MainToWorker, transferables, type WorkerToMain } from './worker-protocol.ts';

const BOOTSTRAP = new URL('./worker-bootstrap.mjs', import.meta.url);
const STATS_TIMEOUT_MS = 5_000;
const MAX_RESTART_DELAY_MS = 5_000;

export interface WorkerPoolOptions {
  /** Each worker's `workerData`. */
  engine: EngineOptions;
  workers: number;
  log?: (line: string) => void;
}

interface Job {
  resolve: (probabilities: Float32Array[]) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  index: number;
  worker: Worker | undefined;
  state: ExecutorSlotStats['state'];
  job: Job | undefined;
  statsRequests: Map<number, (stats: { numTensors: number; numBytes: number }) => void>;
  batches: number;
  restarts: number;
  /** Consecutive crashes without a successful load in between, for the restart back-off. */
  crashes: number;
}

/**
 * One model per worker thread, so inference (which blocks the thread it runs on) never blocks the
 * event loop. A slot runs one batch at a time; a worker that dies fails its batch with WORKER_FAILED
 * (503, never a hang) and is replaced, with exponential back-off if it keeps dying.
 */
export class WorkerPool implements BatchExecutor {
  readonly ready: Promise<void>;
  readonly #options: WorkerPoolOptions;
  readonly #slots: Slot[];
  readonly #slotFreeListeners: Array<() => void> = [];
  readonly #unusableListeners: Array<(error: Error) => void> = [];
  #nextId = 1;
  #closing = false;
  #startup: { resolve: () => void; reject: (error: unknown) => void; pending: number } | undefined;

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new RangeError(`WorkerPool needs at least one worker, got ${options.workers}`);
    }
    this.#options = options;
    this.#slots = Array.from({ length: options.workers }, (_, index) => ({
      index,
      worker: undefined,
      state: 'loading' as const,
      job: undefined,
      statsRequests: new Map(),
      batches: 0,
      restarts: 0,
      crashes: 0,
    }));
    this.ready = new Promise((resolve, reject) => {
      this.#startup = { resolve, reject, pending: options.workers };
    });
    // Nobody may be awaiting `ready` yet; the rejection is still reported to whoever awaits it later.
    this.ready.catch(() => {});
    for (const slot of this.#slots) this.#start(slot);
  }

  freeSlots(): number {
    return this.#slots.filter((slot) => slot.state === 'idle').length;
  }

  onSlotFree(listener: () => void): void {
    this.#slotFreeListeners.push(listener);
  }

  onUnusable(listener: (error: Error) => void): void {
    this.#unusableListeners.push(listener);
  }

  run(batch: Float32Array[]): Promise<Float32Array[]> {
    const slot = this.#slots.find((candidate) => candidate.state === 'idle');
    if (!slot?.worker) return Promise.reject(new Error('WorkerPool.run called without a free slot'));
    const worker = slot.worker;
    slot.state = 'busy';
    const id = this.#nextId++;
    return new Promise<Float32Array[]>((resolve, reject) => {
      slot.job = { resolve, reject };
      const message: MainToWorker = { type: 'predict', id, batch };
      worker.postMessage(message, transferables(batch));
    });
  }

  async stats(): Promise<ExecutorSlotStats[]> {
    return Promise.all(
      this.#slots.map(async (slot) => {
        const memory = await this.#workerMemory(slot);
        const { state, batches, restarts } = slot;
        return { id: `worker-${slot.index}`, state, batches, restarts, ...memory };
      }),
    );
  }

  /** Terminates one worker as if it had crashed (operations and tests: proves requests fail, not hang). */
  async terminateWorker(index: number): Promise<void> {
    await this.#slots[index]?.worker?.terminate();
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(
      this.#slots.map(async (slot) => {
        slot.job?.reject(new WorkerFailedError('the server is shutting down'));
        slot.job = undefined;
        await slot.worker?.terminate();
      }),
    );
  }

  #start(slot: Slot): void {
    const worker = new Worker(BOOTSTRAP, {
      // The checkpoint was verified when the server started; a replacement worker checks it again, since
      // the files may have changed since then.
      workerData:
        slot.restarts === 0 ? this.#options.engine : { ...this.#options.engine, checkpointVerified: false },
      // tsx's flags in process.execArgv would register its loader a second time; the bootstrap does it.
      execArgv: [],
    });
    slot.worker = worker;
    slot.state = 'loading';
    worker.on('message', (message: WorkerToMain) => this.#onMessage(slot, message));
    worker.on('error', (error) => this.#log(`worker-${slot.index}: ${error.stack ?? error.message}`));
    worker.on('exit', (code) => this.#onExit(slot, worker, code));
  }

  #onMessage(slot: Slot, message: WorkerToMain): void {
    switch (message.type) {
      case 'ready':
        slot.state = 'idle';
        slot.crashes = 0;
        this.#log(`worker-${slot.index}: model ready on ${message.backend}`);
        this.#startupProgress();
        this.#notifySlotFree();
        return;
      case 'fatal': {
        slot.state = 'failed';
        const error = new UserError(message.message, message.code ?? 'MODEL_LOAD_FAILED');
        if (this.#startup) {
          this.#startup.reject(error);
          this.#startup = undefined;
        } else {
          this.#log(`worker-${slot.index}: could not load the model: ${message.message}`);
          if (this.#slots.every((candidate) => candidate.state === 'failed')) {
            const unusable = new WorkerFailedError(`no worker can load the model: ${message.message}`);
            for (const listener of this.#unusableListeners) listener(unusable);
          }
        }
        return;
      }
      case 'log':
        this.#log(`worker-${slot.index}: ${message.line}`);
        return;
      case 'result':
      case 'error': {
        const job = slot.job;
        slot.job = undefined;
        slot.state = 'idle';
        slot.batches += 1;
        if (message.type === 'result') job?.resolve(message.probabilities);
        else job?.reject(new Error(`inference failed in worker-${slot.index}: ${message.message}`));
        this.#notifySlotFree();
        return;
      }
      case 'stats':
        slot.statsRequests.get(message.id)?.(message);
        slot.statsRequests.delete(message.id);
        return;
    }
  }

  #onExit(slot: Slot, worker: Worker, code: number): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.job?.reject(new WorkerFailedError(`worker-${slot.index} exited with code ${code}`));
    slot.job = undefined;
    for (const answer of slot.statsRequests.values()) answer({ numTensors: -1, numBytes: -1 });
    slot.statsRequests.clear();
    // A worker that could not load its model stays failed: restarting would fail the same way.
    if (this.#closing || slot.state === 'failed') return;
    this.#log(`worker-${slot.index} exited with code ${code}; starting a replacement`);
    slot.state = 'loading';
    slot.restarts += 1;
    slot.crashes += 1;
    const delay = Math.min(MAX_RESTART_DELAY_MS, 50 * 2 ** (slot.crashes - 1));
    setTimeout(() => {
      if (!this.#closing) this.#start(slot);
    }, delay).unref();
  }

  #workerMemory(slot: Slot): Promise<{ numTensors: number; numBytes: number }> {
    const worker = slot.worker;
    if (!worker || slot.state === 'loading' || slot.state === 'failed') {
      return Promise.resolve({ numTensors: -1, numBytes: -1 });
    }
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        slot.statsRequests.delete(id);
        resolve({ numTensors: -1, numBytes: -1 });
      }, STATS_TIMEOUT_MS);
      slot.statsRequests.set(id, (stats) => {
        clearTimeout(timer);
        resolve({ numTensors: stats.numTensors, numBytes: stats.numBytes });
      });
      const message: MainToWorker = { type: 'stats', id };
      worker.postMessage(message);
    });
  }

  #startupProgress(): void {
    if (!this.#startup) return;
    this.#startup.pending -= 1;
    if (this.#startup.pending === 0) {
      this.#startup.resolve();
      this.#startup = undefined;
    }
  }

  #notifySlotFree(): void {
    for (const listener of this.#slotFreeListeners) listener();
  }

  #log(line: string): void {
    this.#options.log?.(line);
  }
}
