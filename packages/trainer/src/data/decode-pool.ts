/**
 * Worker threads that decode and augment images for the batch loader. In the loader's own thread every
 * image cost the main thread 1.4–1.5 ms of JavaScript (sharp's pipeline set-up, normalisation), which
 * caps one loader near 700 images/s whatever the cores (`pnpm bench`, docs/benchmarks.md); in workers
 * the main thread only receives the pixels. Results are identical: the same function runs with the
 * same per-sample seed. sharp's decodes run in libuv's thread pool, shared by all workers and 4 threads
 * unless UV_THREADPOOL_SIZE is set before Node starts (tsx starts the pool before any of our code
 * runs): `pnpm train` and the training image set it to 32.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ImageDecodeError, type ImageDecodeErrorCode } from '@food/core/preprocess/image';
import type { DecodeRequest } from './decode-sample.ts';
import { SampleReadError } from './decode-sample.ts';
import type { DecodeReply } from './decode-worker.ts';

export interface DecodePool {
  readonly workers: number;
  decode(request: DecodeRequest): Promise<Float32Array>;
  close(): Promise<void>;
}

/** One worker per core by default. */
export function createDecodePool(workers = availableParallelism()): DecodePool {
  const pending = new Map<
    number,
    { resolve: (pixels: Float32Array) => void; reject: (error: Error) => void; worker: number }
  >();
  const load = new Array<number>(workers).fill(0);
  let nextId = 0;
  let closed = false;
  const threads = Array.from({ length: workers }, (_, index) => {
    const worker = startWorker();
    worker.on('message', (reply: DecodeReply) => {
      const job = pending.get(reply.id);
      if (!job) return;
      pending.delete(reply.id);
      load[index]! -= 1;
      if ('pixels' in reply) job.resolve(reply.pixels);
      else job.reject(toError(reply.error));
    });
    const failAll = (error: Error) => {
      for (const [id, job] of pending) {
        if (job.worker !== index) continue;
        pending.delete(id);
        job.reject(error);
      }
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => {
      if (!closed) failAll(new Error(`decode worker ${index} exited with code ${code}`));
    });
    return worker;
  });
  return {
    workers,
    decode(request) {
      if (closed) return Promise.reject(new Error('the decode pool is closed'));
      // The least busy worker: decodes take different times (image sizes), round robin would queue.
      const index = load.indexOf(Math.min(...load));
      load[index]! += 1;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, worker: index });
        threads[index]!.postMessage({ id, request });
      });
    },
    async close() {
      closed = true;
      await Promise.all(threads.map((thread) => thread.terminate()));
    },
  };
}

const BOOTSTRAP = new URL('./decode-worker-bootstrap.mjs', import.meta.url);

function startWorker(): Worker {
  // tsx's flags in process.execArgv would register its loader a second time; the bootstrap does it.
  return new Worker(BOOTSTRAP, { execArgv: [] });
}

/** The worker's error as the class the loader turns into a SampleError. */
function toError(error: Extract<DecodeReply, { error: unknown }>['error']): Error {
  if (error.kind === 'read') return new SampleReadError(error.message, error.code);
  if (error.kind === 'decode') return new ImageDecodeError(error.message, error.code as ImageDecodeErrorCode);
  return new Error(error.message);
}
