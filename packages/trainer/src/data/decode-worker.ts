/**
 * A decode worker thread of ./decode-pool.ts: decodes a batch's images into one Float32Array and sends
 * it back by transfer. A couple of images are in flight at once so that this thread normalises one
 * while libvips (in libuv's pool) decodes the next.
 */
import { parentPort } from 'node:worker_threads';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import { ImageDecodeError } from '@food/core/preprocess/image';
import { decodeSample, SampleReadError } from './decode-sample.ts';

export interface BatchDecodeJob {
  /** Absolute paths, in batch order. */
  files: string[];
  /** Per image: its augmentation seed, or undefined for evaluation preprocessing. */
  augmentSeeds: Array<string | undefined>;
  config: PreprocessConfig;
  augmentScale?: [number, number];
}

export type ToDecodeWorker =
  /** `buffer`: a finished batch's memory to decode into (recycled), moved here by transfer. */
  { type: 'batch'; id: number; job: BatchDecodeJob; buffer?: ArrayBuffer } | { type: 'cancel'; id: number };

export type FromDecodeWorker =
  | { id: number; images: Float32Array }
  | {
      id: number;
      position: number;
      error: { kind: 'read' | 'decode' | 'other'; code?: string; message: string };
    };

const IMAGES_IN_FLIGHT = 2;
const active = new Set<number>();
const cancelled = new Set<number>();

type Outcome = { images: Float32Array } | { position: number; error: unknown } | { cancelled: true };

async function decodeBatch(id: number, job: BatchDecodeJob, buffer?: ArrayBuffer): Promise<Outcome> {
  const imageLength = job.config.cropSize * job.config.cropSize * 3;
  const length = job.files.length * imageLength;
  // Every position is written before the batch is sent, so a recycled buffer needs no clearing.
  const images = buffer?.byteLength === length * 4 ? new Float32Array(buffer) : new Float32Array(length);
  let next = 0;
  const failures: Array<{ position: number; error: unknown }> = [];
  const lane = async () => {
    while (next < job.files.length && failures.length === 0 && !cancelled.has(id)) {
      const position = next++;
      const request = {
        file: job.files[position]!,
        config: job.config,
        augmentSeed: job.augmentSeeds[position],
        augmentScale: job.augmentScale,
      };
      try {
        images.set(await decodeSample(request), position * imageLength);
      } catch (error) {
        failures.push({ position, error });
      }
    }
  };
  await Promise.all(Array.from({ length: IMAGES_IN_FLIGHT }, lane));
  if (cancelled.delete(id)) return { cancelled: true };
  if (failures.length === 0) return { images };
  // The first failing image in batch order, whichever lane met it first: the same error every run.
  return failures.reduce((a, b) => (b.position < a.position ? b : a));
}

function describeError(error: unknown): Extract<FromDecodeWorker, { error: unknown }>['error'] {
  const kind =
    error instanceof SampleReadError ? 'read' : error instanceof ImageDecodeError ? 'decode' : 'other';
  const { code, message } = error as { code?: string; message?: string };
  return { kind, code, message: message ?? String(error) };
}

parentPort!.on('message', async (message: ToDecodeWorker) => {
  if (message.type === 'cancel') {
    if (active.has(message.id)) cancelled.add(message.id);
    return;
  }
  const { id, job, buffer } = message;
  active.add(id);
  const outcome = await decodeBatch(id, job, buffer);
  active.delete(id);
  if ('images' in outcome) {
    const { images } = outcome;
    parentPort!.postMessage({ id, images } satisfies FromDecodeWorker, [images.buffer as ArrayBuffer]);
  } else if ('error' in outcome) {
    const { position, error } = outcome;
    parentPort!.postMessage({ id, position, error: describeError(error) } satisfies FromDecodeWorker);
  }
});
