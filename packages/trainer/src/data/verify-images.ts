import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_PREPROCESS } from '@food/core/preprocess/config';
import { decodeImageInfo, preprocessImage } from '@food/core/preprocess/image';
import { mapConcurrent } from './map-concurrent.ts';

export interface UnreadableImage {
  image: string;
  reason: string;
}

/**
 * `header`: the file exists and its header names a supported image of sane size (~0.2 ms each).
 * `full`: the image goes through the preprocessing that stats, training and the server run (~4 ms
 * each), so whatever they would reject is rejected here: a truncated file (the usual damage left by an
 * interrupted copy or download, whose header is intact), a geometry the resize cannot take.
 */
export type CheckLevel = 'header' | 'full';

export interface VerifyOptions {
  level?: CheckLevel;
  concurrency?: number;
  /** Called once per checked image. */
  onChecked?: () => void;
}

/**
 * Reads and decodes every image (relative to `dataRoot`) and returns the ones that are
 * missing or cannot be decoded, in input order. Catching them here, before training, beats a crash
 * hours into an epoch.
 */
export async function findUnreadableImages(
  dataRoot: string,
  images: readonly string[],
  options: VerifyOptions = {},
): Promise<UnreadableImage[]> {
  const reasons = await mapConcurrent(images, options.concurrency ?? 8, async (image) => {
    let reason: string | undefined;
    try {
      const bytes = await readFile(path.join(dataRoot, image));
      if (options.level === 'header') await decodeImageInfo(bytes);
      else await preprocessImage(bytes, DEFAULT_PREPROCESS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      reason = code === 'ENOENT' ? 'missing' : (error as Error).message;
    }
    options.onChecked?.();
    return reason;
  });
  return images.flatMap((image, index) => {
    const reason = reasons[index];
    return reason === undefined ? [] : [{ image, reason }];
  });
}
