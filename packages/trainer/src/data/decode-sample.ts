/**
 * Reads one image file and turns it into model input (augmented for training with a seeded crop and
 * flip, else resized and centre-cropped): the per-image work of the batch loader, run in the loader's
 * process or in a decode worker (./decode-worker.ts), with the same result either way.
 */
import { readFile } from 'node:fs/promises';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import { augmentImage, preprocessImage } from '@food/core/preprocess/image';
import seedrandom from 'seedrandom';

export interface DecodeRequest {
  file: string;
  config: PreprocessConfig;
  /** Seed of the sample's augmentation RNG; none: evaluation preprocessing. */
  augmentSeed?: string;
  /** Area range of the random resized crop (augmentImage's default when absent). */
  augmentScale?: [number, number];
}

/** The file could not be read (`code` is the errno code, e.g. ENOENT). */
export class SampleReadError extends Error {
  override name = 'SampleReadError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export async function decodeSample(
  request: DecodeRequest,
  readImage: (file: string) => Promise<Uint8Array> = readFile,
): Promise<Float32Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readImage(request.file);
  } catch (error) {
    throw new SampleReadError((error as Error).message, (error as NodeJS.ErrnoException).code);
  }
  if (request.augmentSeed === undefined) return preprocessImage(bytes, request.config);
  return augmentImage(bytes, request.config, seedrandom(request.augmentSeed), {
    scale: request.augmentScale,
  });
}
