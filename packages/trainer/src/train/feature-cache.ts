/**
 * The on-disk feature cache of `--cache-features`: the frozen trunk's output for every training image
 * (the centre crop and `views` augmented views) and every validation image (centre crop), one float32
 * file per split and view. It lives under a key of everything that decides its contents (the trunk's
 * ONNX bytes, which hold its weights and boundary; the samples with their labels, sizes and mtimes; the
 * preprocessing; the views and their seed), so a second run on the same data reuses it and starts
 * training at once, and any change builds a new one. Training reads one batch at a time from it, so
 * memory stays bounded whatever the data set's size.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import { createBatchLoader } from '../data/loader.ts';
import type { SplitEntry } from '../data/split.ts';
import type { OnnxTrunk } from './onnx-trunk.ts';

/** Bumped when the files' layout or what a view is changes, so old caches are not misread. */
const FORMAT = 1;
/** Images per trunk run while building: enough to keep ONNX Runtime's GEMMs busy on every core. */
const BUILD_BATCH = 16;
/**
 * RandomResizedCrop's area range for the cached views. Softer than torchvision's 0.08 (used when
 * training on images): with a few fixed views per image, a view that shows 8 % of the dish is one of
 * only K+1 the model ever sees of it.
 */
export const VIEW_SCALE: [number, number] = [0.25, 1];

export type CacheSplit = 'train' | 'val';

export interface FeatureCacheOptions {
  /** Folder that holds the caches (one subfolder per key). */
  root: string;
  dataRoot: string;
  trainSamples: readonly SplitEntry[];
  valSamples: readonly SplitEntry[];
  preprocess: PreprocessConfig;
  numClasses: number;
  /** Augmented views of each training image besides its centre crop (`--feature-views`). */
  views: number;
  seed: number;
  trunk: OnnxTrunk;
  concurrency?: number;
  /** Called before building (not when reused) with the number of images (views) to run through the trunk. */
  onBuildStart?: (images: number) => void;
  /** Called with the number of images (views) just run through the trunk. */
  onProgress?: (images: number) => void;
}

export interface FeatureCache {
  dir: string;
  /** True when an earlier run built it. */
  reused: boolean;
  featureShape: number[];
  views: number;
  /** Copies the features of `index` (split order) in `view` (0 = centre crop) into `target` at `offset`. */
  read(split: CacheSplit, view: number, index: number, target: Float32Array, offset: number): Promise<void>;
  close(): Promise<void>;
}

/** Total images the trunk runs to build a cache: what progress bars count to. */
export function imagesToCache(options: Pick<FeatureCacheOptions, 'trainSamples' | 'valSamples' | 'views'>) {
  return options.trainSamples.length * (1 + options.views) + options.valSamples.length;
}

export async function openFeatureCache(options: FeatureCacheOptions): Promise<FeatureCache> {
  const key = await cacheKey(options);
  const dir = path.join(options.root, key.slice(0, 24));
  const reused = await readFile(path.join(dir, 'cache.json'), 'utf8').then(
    (text) => (JSON.parse(text) as { key?: string }).key === key,
    () => false,
  );
  if (!reused) {
    options.onBuildStart?.(imagesToCache(options));
    await buildCache(dir, key, options);
  }
  const perImage = options.trunk.featureShape.reduce((n, d) => n * d, 1);
  const handles = new Map<string, FileHandle>();
  const fileOf = (split: CacheSplit, view: number) => path.join(dir, `${split}-view${view}.f32`);
  for (let view = 0; view <= options.views; view++) {
    handles.set(`train:${view}`, await open(fileOf('train', view), 'r'));
  }
  handles.set('val:0', await open(fileOf('val', 0), 'r'));
  const bytesPerImage = perImage * 4;
  return {
    dir,
    reused,
    featureShape: options.trunk.featureShape,
    views: options.views,
    async read(split, view, index, target, offset) {
      const handle = handles.get(`${split}:${view}`);
      if (!handle) throw new Error(`no cached ${split} view ${view}`);
      const bytes = new Uint8Array(target.buffer, target.byteOffset + offset * 4, bytesPerImage);
      const { bytesRead } = await handle.read(bytes, 0, bytesPerImage, index * bytesPerImage);
      if (bytesRead !== bytesPerImage) {
        throw new UserError(
          `The feature cache ${dir} is truncated (${split} view ${view}, image ${index}). Delete the folder and train again.`,
          'FEATURE_CACHE_CORRUPT',
        );
      }
    },
    async close() {
      await Promise.all([...handles.values()].map((handle) => handle.close()));
      handles.clear();
    },
  };
}

/** Runs the trunk over every split and view into a temporary folder, then renames it into place. */
async function buildCache(dir: string, key: string, options: FeatureCacheOptions): Promise<void> {
  const building = `${dir}.tmp-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { recursive: true });
  try {
    const jobs: Array<{ split: CacheSplit; view: number; samples: readonly SplitEntry[] }> = [
      { split: 'train', view: 0, samples: options.trainSamples },
      { split: 'val', view: 0, samples: options.valSamples },
    ];
    for (let view = 1; view <= options.views; view++) {
      jobs.push({ split: 'train', view, samples: options.trainSamples });
    }
    for (const job of jobs) {
      const handle = await open(path.join(building, `${job.split}-view${job.view}.f32`), 'w');
      try {
        for await (const batch of createBatchLoader({
          samples: job.samples,
          dataRoot: options.dataRoot,
          config: options.preprocess,
          batchSize: BUILD_BATCH,
          numClasses: options.numClasses,
          shuffle: false,
          augment: job.view > 0,
          augmentScale: VIEW_SCALE,
          seed: options.seed,
          // The loader seeds each image's crop by (seed, epoch, index): view v is "epoch" v.
          epoch: job.view,
          concurrency: options.concurrency,
        })) {
          const features = await options.trunk.run(batch.images, batch.size);
          await handle.write(new Uint8Array(features.buffer, features.byteOffset, features.byteLength));
          options.onProgress?.(batch.size);
        }
      } finally {
        await handle.close();
      }
    }
    await writeFile(
      path.join(building, 'cache.json'),
      `${JSON.stringify({ key, featureShape: options.trunk.featureShape, views: options.views, train: options.trainSamples.length, val: options.valSamples.length }, null, 2)}\n`,
    );
    await rm(dir, { recursive: true, force: true });
    await rename(building, dir);
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    throw error;
  }
}

async function cacheKey(options: FeatureCacheOptions): Promise<string> {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      format: FORMAT,
      trunk: options.trunk.sha256,
      preprocess: options.preprocess,
      views: options.views,
      // The seed only picks the views' crops.
      seed: options.views > 0 ? options.seed : null,
      viewScale: options.views > 0 ? VIEW_SCALE : null,
    }),
  );
  for (const [split, samples] of [
    ['train', options.trainSamples],
    ['val', options.valSamples],
  ] as const) {
    hash.update(`\n${split}\n`);
    for (const sample of samples) {
      const file = path.join(options.dataRoot, sample.image);
      // Size and mtime stand for the bytes: hashing every photo would cost a read of the data set.
      const info = await stat(file).catch(() => undefined);
      hash.update(`${sample.image}\t${sample.label}\t${info?.size ?? -1}\t${info?.mtimeMs ?? -1}\n`);
    }
  }
  return hash.digest('hex');
}
