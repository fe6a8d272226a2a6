import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import { createProgress, type ProgressMode } from '../progress.ts';
import { type ClassSelection, selectClasses } from './class-sampler.ts';
import { type Food101Meta, readFood101Meta } from './food101-meta.ts';
import {
  countSplits,
  type PreparedManifest,
  type SkippedImage,
  SPLIT_NAMES,
  type SplitName,
} from './manifest.ts';
import { writeManifest } from './prepared-set.ts';
import { type DatasetSplits, splitDataset } from './split.ts';
import { isSyntheticDataRoot } from './synthetic-marker.ts';
import { type CheckLevel, findUnreadableImages } from './verify-images.ts';

export interface PrepareOptions {
  /** Food-101 folder (images/ + meta/); stored in the manifest as an absolute path. */
  dataRoot: string;
  outDir: string;
  selection: ClassSelection;
  seed: number;
  valFraction: number;
  /** Leave missing/undecodable images out (listed in `skipped`) instead of stopping. */
  skipCorrupt?: boolean;
  /** How thoroughly each image is checked (default `full`). */
  check?: CheckLevel;
  concurrency?: number;
  showProgress?: ProgressMode;
}

export interface PrepareResult {
  manifest: PreparedManifest;
  manifestPath: string;
  /** True when an older preprocess.json no longer matched the new manifest and was removed. */
  removedStaleStats: boolean;
}

/** Classes and splits from the meta lists alone (no image is read), as prepare computes them. */
export function planSplits(
  meta: Pick<Food101Meta, 'classes' | 'train' | 'test'>,
  selection: ClassSelection,
  seed: number,
  valFraction: number,
): { classes: string[]; splits: DatasetSplits } {
  const classes = selectClasses(meta.classes, selection, seed);
  const splits = splitDataset({ classes, trainList: meta.train, testList: meta.test, seed, valFraction });
  return { classes, splits };
}

const LISTED = 20;

/**
 * `trainer prepare`: picks classes, splits them, checks that every image exists and decodes, and
 * writes `OUT/manifest.json` (byte-identical for the same inputs and seed). Copies no image.
 */
export async function prepareDataset(options: PrepareOptions): Promise<PrepareResult> {
  const dataRoot = path.resolve(options.dataRoot);
  const meta = await readFood101Meta(dataRoot);
  const { classes, splits } = planSplits(meta, options.selection, options.seed, options.valFraction);

  const checked: Array<{ image: string; split: SplitName }> = SPLIT_NAMES.flatMap((split) =>
    splits[split].map(({ image }) => ({ image, split })),
  );
  const progress = createProgress('checking images', checked.length, options.showProgress ?? false);
  const unreadable = await findUnreadableImages(
    dataRoot,
    checked.map(({ image }) => image),
    { level: options.check ?? 'full', concurrency: options.concurrency, onChecked: () => progress.tick() },
  );
  progress.stop();

  const splitOf = new Map(checked.map(({ image, split }) => [image, split]));
  const skipped: SkippedImage[] = unreadable.map(({ image, reason }) => ({
    image,
    split: splitOf.get(image)!,
    reason,
  }));
  if (skipped.length > 0 && !options.skipCorrupt) {
    const listed = skipped.slice(0, LISTED).map(({ image, reason }) => `  ${image}: ${reason}`);
    if (skipped.length > LISTED) listed.push(`  ... and ${skipped.length - LISTED} more`);
    throw new UserError(
      `${skipped.length} of ${checked.length} images in ${dataRoot} are missing or cannot be decoded:\n` +
        `${listed.join('\n')}\n` +
        'Restore them (re-download or re-extract the data set), or pass --skip-corrupt to leave them out ' +
        '(they are then listed under "skipped" in the manifest).',
      'IMAGES_UNREADABLE',
    );
  }
  const skippedImages = new Set(skipped.map(({ image }) => image));
  const kept: DatasetSplits = {
    train: splits.train.filter(({ image }) => !skippedImages.has(image)),
    val: splits.val.filter(({ image }) => !skippedImages.has(image)),
    test: splits.test.filter(({ image }) => !skippedImages.has(image)),
  };

  // Key order here is the file's key order.
  const manifest: PreparedManifest = {
    version: 1,
    dataRoot,
    seed: options.seed,
    valFraction: options.valFraction,
    classes,
    splits: kept,
    sources: meta.sources,
    counts: countSplits(classes, kept),
    skipped,
    // Only for synthetic data, so the manifests of real data sets stay byte-identical.
    ...((await isSyntheticDataRoot(dataRoot)) && { synthetic: true as const }),
  };
  await mkdir(options.outDir, { recursive: true });
  const { file: manifestPath, removedStaleStats } = await writeManifest(options.outDir, manifest);
  return { manifest, manifestPath, removedStaleStats };
}
