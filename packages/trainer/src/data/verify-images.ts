import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_PREPROCESS, type PreprocessConfig } from '@food/core/preprocess/config';
import { decodeImageInfo, loadCroppedRgb } from '@food/core/preprocess/image';
import { mapConcurrent } from './map-concurrent.ts';

export interface UnreadableImage {
  image: string;
  reason: string;
}

/**
 * `header`: the file exists and its header names a supported image of sane size (~0.2 ms each).
 * `full`: every pixel decodes too (~2 ms each); only this catches a truncated file, the usual damage
 * left by an interrupted copy or download, whose header is intact.
 */
export type CheckLevel = 'header' | 'full';

// Decoding into an 8×8 thumbnail still runs the whole entropy decoder (so truncation is detected) but
// skips the costly full-size resize.
const THUMBNAIL: PreprocessConfig = { ...DEFAULT_PREPROCESS, resizeShorterSide: 8, cropSize: 8 };

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
      else await loadCroppedRgb(bytes, THUMBNAIL);
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
