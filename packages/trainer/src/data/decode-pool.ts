/**
 * Worker threads that turn whole batches of image files into model input for the batch loader: read,
 * decode, augment (RandomResizedCrop + flip) and normalise, each worker writing its batch into one
 * Float32Array that it then transfers (moves, no copy) to the loader's thread.
 *
 * Why whole batches: with one message per image the main thread paid 0.62 ms per image (a message, a
 * promise and a 602 KB copy into the batch each), which capped one loader near 1,600 images/s whatever
 * the cores (docs/benchmarks.md). One message per batch costs it microseconds per image. Batches run
 * side by side on different workers (the loader keeps several in flight), so W workers keep W cores busy.
 *
 * Results do not depend on the worker count or on which worker ran a batch: every image is the same
 * function of (file, config, its own augmentation seed) wherever it runs (./decode-sample.ts).
 *
 * sharp decodes in libuv's thread pool, shared by all workers (4 threads unless UV_THREADPOOL_SIZE is
 * set before Node starts; `pnpm train` and the training image set it to 32).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ImageDecodeError, type ImageDecodeErrorCode } from '@food/core/preprocess/image';
import { SampleReadError } from './decode-sample.ts';
import type { BatchDecodeJob, FromDecodeWorker, ToDecodeWorker } from './decode-worker.ts';

export type { BatchDecodeJob } from './decode-worker.ts';

/** One image of a batch failed: `position` in the batch, `cause` a SampleReadError, ImageDecodeError or Error. */
export class BatchImageError extends Error {
  override name = 'BatchImageError';
  constructor(
    readonly position: number,
    override readonly cause: Error,
  ) {
    super(cause.message);
  }
}

export interface DecodingBatch {
  /** `files.length` images back to back (HWC each), in the job's order; rejects with a BatchImageError. */
  images: Promise<Float32Array>;
  /** Stop decoding it (the consumer left): the worker skips its remaining images; `images` never settles. */
  cancel(): void;
}

export interface DecodePool {
  readonly workers: number;
  decodeBatch(job: BatchDecodeJob): DecodingBatch;
  /**
   * Gives a batch's pixels back for a later batch to be decoded into (moved to a worker, no copy), once
   * nothing reads them any more. Without it each batch is a fresh allocation that the main thread's
   * garbage collector frees: measured 0.03–0.05 ms of main-thread time per 224-px image.
   */
  recycle(images: Float32Array): void;
  close(): Promise<void>;
}

interface PendingBatch {
  resolve: (images: Float32Array) => void;
  reject: (error: Error) => void;
  worker: number;
}

/** One worker per core by default. */
export function createDecodePool(workers = availableParallelism()): DecodePool {
  const pending = new Map<number, PendingBatch>();
  // Enough for every batch in flight and the one the consumer holds; more would only hold memory.
  const spare: ArrayBuffer[] = [];
  const maxSpare = workers + 2;
  const load = new Array<number>(workers).fill(0);
  let nextId = 0;
  let closed = false;
  const settle = (id: number): PendingBatch | undefined => {
    const job = pending.get(id);
    if (job) {
      pending.delete(id);
      load[job.worker]! -= 1;
    }
    return job;
  };
  const threads = Array.from({ length: workers }, (_, index) =>
    startWorker(index, {
      onReply: (reply) => {
        const job = settle(reply.id);
        if (!job) return;
        if ('images' in reply) job.resolve(reply.images);
        else job.reject(new BatchImageError(reply.position, toError(reply.error)));
      },
      onFailure: (error) => {
        for (const [id, job] of pending) if (job.worker === index) settle(id)?.reject(error);
      },
      isClosed: () => closed,
    }),
  );
  return {
    workers,
    decodeBatch(job) {
      const id = nextId++;
      // The least busy worker: batches take different times (image sizes, other load).
      const index = load.indexOf(Math.min(...load));
      const images = new Promise<Float32Array>((resolve, reject) => {
        if (closed) return reject(new Error('the decode pool is closed'));
        load[index]! += 1;
        pending.set(id, { resolve, reject, worker: index });
        const bytes = job.files.length * job.config.cropSize * job.config.cropSize * 3 * 4;
        const reuse = spare.findIndex((buffer) => buffer.byteLength === bytes);
        const buffer = reuse >= 0 ? spare.splice(reuse, 1)[0] : undefined;
        const message: ToDecodeWorker = { type: 'batch', id, job, buffer };
        threads[index]!.postMessage(message, buffer ? [buffer] : []);
      });
      return {
        images,
        cancel() {
          if (!settle(id)) return;
          threads[index]!.postMessage({ type: 'cancel', id } satisfies ToDecodeWorker);
        },
      };
    },
    recycle(images) {
      const { buffer } = images;
      if (closed || spare.length >= maxSpare || !(buffer instanceof ArrayBuffer)) return;
      if (images.byteOffset !== 0 || images.byteLength !== buffer.byteLength) return;
      spare.push(buffer);
    },
    async close() {
      closed = true;
      spare.length = 0;
      await Promise.all(threads.map((thread) => thread.terminate()));
    },
  };
}

const BOOTSTRAP = new URL('./decode-worker-bootstrap.mjs', import.meta.url);

function startWorker(
  index: number,
  handlers: {
    onReply: (reply: FromDecodeWorker) => void;
    onFailure: (error: Error) => void;
    isClosed: () => boolean;
  },
): Worker {
  // tsx's flags in process.execArgv would register its loader a second time; the bootstrap does it.
  const worker = new Worker(BOOTSTRAP, { execArgv: [] });
  worker.on('message', handlers.onReply);
  worker.on('error', handlers.onFailure);
  worker.on('exit', (code) => {
    if (!handlers.isClosed())
      handlers.onFailure(new Error(`decode worker ${index} exited with code ${code}`));
  });
  return worker;
}

/** The worker's error as the class the loader turns into a SampleError. */
function toError(error: Extract<FromDecodeWorker, { error: unknown }>['error']): Error {
  if (error.kind === 'read') return new SampleReadError(error.message, error.code);
  if (error.kind === 'decode') return new ImageDecodeError(error.message, error.code as ImageDecodeErrorCode);
  return new Error(error.message);
}
