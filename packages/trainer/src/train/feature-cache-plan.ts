/**
 * How big the feature cache will be, and how many augmented views fit: decided before the trunk runs,
 * so a cache that cannot fit stops the run before its first step instead of filling the disk mid-way.
 * Sizes are decimal GB (10^9 bytes), as `df -H` and disk labels count.
 */
import { statfs } from 'node:fs/promises';
import type { FeatureCachePrecision } from '@food/core/checkpoint/run-settings';
import { UserError } from '@food/core/errors';

export type { FeatureCachePrecision };

export const BYTES_PER_VALUE: Record<FeatureCachePrecision, number> = { float16: 2, float32: 4 };

export interface FeatureCachePlanInput {
  /** Photos the cache holds (the training and validation images: each has its centre crop and views). */
  images: number;
  /** Values per image (the product of the trunk's feature shape). */
  featureSize: number;
  precision: FeatureCachePrecision;
  /** Augmented views asked for (`--feature-views`). */
  featureViews: number;
  /** `--feature-cache-max-gb` (absent: no budget). */
  maxGb?: number;
}

export interface FeatureCachePlan {
  bytesPerEntry: number;
  /** Augmented views that will be cached: the ones asked for, or fewer within the budget. */
  views: number;
  /** Bytes of the whole cache with `views` views (the centre crops included). */
  bytes: number;
  /** What the run prints before caching. */
  message: string;
}

/** Entries of a cache: every image (training and validation alike) has its centre crop and `views` views. */
export function featureCacheEntries(images: number, views: number): number {
  return images * (views + 1);
}

export function planFeatureCache(input: FeatureCachePlanInput): FeatureCachePlan {
  const bytesPerEntry = input.featureSize * BYTES_PER_VALUE[input.precision];
  const centreBytes = input.images * bytesPerEntry;
  const viewBytes = centreBytes;
  const sizeOf = (views: number) => featureCacheEntries(input.images, views) * bytesPerEntry;
  const asked = `${input.featureViews} view${input.featureViews === 1 ? '' : 's'} need ${gb(sizeOf(input.featureViews))} GB at ${input.precision} (${mb(bytesPerEntry)} MB per image and view)`;
  if (input.maxGb === undefined || sizeOf(input.featureViews) <= input.maxGb * 1e9) {
    return { bytesPerEntry, views: input.featureViews, bytes: sizeOf(input.featureViews), message: asked };
  }
  if (centreBytes > input.maxGb * 1e9) {
    throw new UserError(
      `The feature cache's centre crops alone need ${gb(centreBytes)} GB, over --feature-cache-max-gb ${input.maxGb}: raise the budget${input.precision === 'float32' ? ', use --feature-cache-precision float16' : ''}, or train on fewer images (--limit).`,
      'FEATURE_CACHE_TOO_BIG',
    );
  }
  const views = Math.min(input.featureViews, Math.floor((input.maxGb * 1e9 - centreBytes) / viewBytes));
  return {
    bytesPerEntry,
    views,
    bytes: sizeOf(views),
    message: `${asked}; budget ${input.maxGb} GB: caching ${views} view${views === 1 ? '' : 's'} (${gb(sizeOf(views))} GB)`,
  };
}

/** Bytes free to this user on the filesystem that holds `dir` (`df`'s "Avail"). */
export async function freeBytes(dir: string): Promise<number> {
  const info = await statfs(dir);
  return info.bavail * info.bsize;
}

/**
 * Refuses, in one line, a cache whose files still to write (`neededBytes` of the plan's `totalBytes`)
 * exceed the free space; the budget it suggests counts the files already written.
 */
export function checkFreeSpace(
  dir: string,
  neededBytes: number,
  totalBytes: number,
  available: number,
): void {
  if (neededBytes <= available) return;
  const budget = Math.floor((totalBytes - neededBytes + available) / 1e8) / 10;
  throw new UserError(
    `The feature cache needs ${gb(neededBytes)} GB more in ${dir}, but its disk has ${gb(available)} GB free: free space, pass --feature-cache-dir on a larger disk, or cap it with --feature-cache-max-gb ${budget}.`,
    'FEATURE_CACHE_NO_SPACE',
  );
}

const gb = (bytes: number) => (bytes / 1e9).toFixed(1);
const mb = (bytes: number) => (bytes / 1e6).toFixed(2);
