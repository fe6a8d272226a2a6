/**
 * The on-disk feature cache of `--cache-features`: the frozen trunk's output for every photo of the
 * run's training and validation splits together (the centre crop and `views` augmented views), one file
 * per view, at float16 by default (half the disk of float32; float16.ts converts). The features are per
 * photo, in one order that does not depend on the split (the photos sorted by path), so every train/val
 * split of the same photos (`--val-fraction`, another `--seed`) reads the same files; the views of the
 * validation photos cost a tenth more trunk passes at prepare's 90:10, and make that reuse possible. Its
 * folder is keyed by everything that decides the features (the trunk's ONNX bytes, which hold its
 * weights and boundary; the photos with their labels, sizes and mtimes; the preprocessing; the
 * precision) and each augmented view's file name by its seed, so a second run on the same data reuses
 * every file and starts training at once, a run with more views computes only the new ones, and any
 * other change builds a new cache. Before anything is written, feature-cache-plan.ts fits the views to
 * `--feature-cache-max-gb` and refuses to start when the disk cannot hold the files still to write. Each
 * file is written under a temporary name and renamed when complete. Training reads one batch at a time
 * from it, so memory stays bounded whatever the size.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import { createBatchLoader } from '../data/loader.ts';
import type { SplitEntry } from '../data/split.ts';
import {
  checkFreeSpace,
  type FeatureCachePrecision,
  freeBytes,
  planFeatureCache,
} from './feature-cache-plan.ts';
import { decodeFloat16, encodeFloat16 } from './float16.ts';
import type { OnnxTrunk } from './onnx-trunk.ts';

/** Bumped when the files' layout or what a view is changes, so old caches are not misread. */
const FORMAT = 3;
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
  /** Folder that holds the caches (one subfolder per key): the run's `--feature-cache-dir`. */
  featureCacheDir: string;
  dataRoot: string;
  trainSamples: readonly SplitEntry[];
  valSamples: readonly SplitEntry[];
  preprocess: PreprocessConfig;
  numClasses: number;
  /** Augmented views of each training image besides its centre crop (`--feature-views`). */
  featureViews: number;
  featureCachePrecision: FeatureCachePrecision;
  /** Budget in GB for the whole cache: fewer views are cached when the asked ones do not fit. */
  featureCacheMaxGb?: number;
  /** Bytes free on the disk of a folder (default: fs.statfs); tests inject a small disk. */
  freeBytes?: (dir: string) => Promise<number>;
  /** Called with the plan (size, views that fit) before anything is cached. */
  onPlan?: (message: string) => void;
  seed: number;
  trunk: OnnxTrunk;
  /** Images decoding at once (the run's `loaderConcurrency`; default: every core). */
  loaderConcurrency?: number;
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
  /** Augmented views cached: `featureViews`, or fewer when the budget holds fewer. */
  views: number;
  /** Copies the features of `index` (split order) in `view` (0 = centre crop) into `target` at `offset`. */
  read(split: CacheSplit, view: number, index: number, target: Float32Array, offset: number): Promise<void>;
  close(): Promise<void>;
}

export async function openFeatureCache(options: FeatureCacheOptions): Promise<FeatureCache> {
  const perImage = options.trunk.featureShape.reduce((n, d) => n * d, 1);
  const photos = cachedPhotos(options.trainSamples, options.valSamples);
  const plan = planFeatureCache({
    images: photos.samples.length,
    featureSize: perImage,
    precision: options.featureCachePrecision,
    featureViews: options.featureViews,
    maxGb: options.featureCacheMaxGb,
  });
  options.onPlan?.(plan.message);
  const key = await cacheKey(options, photos.samples);
  const dir = path.join(options.featureCacheDir, key.slice(0, 24));
  await mkdir(dir, { recursive: true });
  await checkKey(dir, key, {
    featureShape: options.trunk.featureShape,
    precision: options.featureCachePrecision,
  });
  const jobs = cacheJobs(options, photos.samples, plan.views);
  const missing: CacheJob[] = [];
  for (const job of jobs) if (!(await exists(path.join(dir, job.file)))) missing.push(job);
  if (missing.length > 0) {
    const images = missing.reduce((n, job) => n + job.samples.length, 0);
    const available = await (options.freeBytes ?? freeBytes)(dir);
    checkFreeSpace(dir, images * plan.bytesPerEntry, plan.bytes, available);
    options.onBuildStart?.(images);
    for (const job of missing) await buildFile(dir, job, options);
  }
  const handles = new Map<number, FileHandle>();
  for (const job of jobs) handles.set(job.view, await open(path.join(dir, job.file), 'r'));
  const float16 = options.featureCachePrecision === 'float16';
  const bytesPerImage = plan.bytesPerEntry;
  return {
    dir,
    reused: missing.length === 0,
    featureShape: options.trunk.featureShape,
    views: plan.views,
    async read(split, view, index, target, offset) {
      const handle = handles.get(view);
      if (!handle) throw new Error(`no cached view ${view}`);
      const position = photos.position[split][index]!;
      const halves = float16 ? new Uint16Array(perImage) : undefined;
      const bytes = halves
        ? new Uint8Array(halves.buffer)
        : new Uint8Array(target.buffer, target.byteOffset + offset * 4, bytesPerImage);
      const { bytesRead } = await handle.read(bytes, 0, bytesPerImage, position * bytesPerImage);
      if (bytesRead !== bytesPerImage) {
        throw new UserError(
          `The feature cache ${dir} is truncated (${split} view ${view}, image ${index}). Delete the folder and train again.`,
          'FEATURE_CACHE_CORRUPT',
        );
      }
      if (halves) decodeFloat16(halves, target, offset);
    },
    async close() {
      await Promise.all([...handles.values()].map((handle) => handle.close()));
      handles.clear();
    },
  };
}

/** Records the key in a new cache folder; refuses a folder that holds another cache. */
async function checkKey(dir: string, key: string, about: Record<string, unknown>): Promise<void> {
  const recorded = await readFile(path.join(dir, 'cache.json'), 'utf8').then(
    (text) => (JSON.parse(text) as { key?: string }).key,
    () => undefined,
  );
  if (recorded !== undefined && recorded !== key) {
    throw new UserError(
      `${dir} holds another feature cache (key ${recorded}). Delete the folder and train again.`,
      'FEATURE_CACHE_CORRUPT',
    );
  }
  if (recorded === undefined) {
    await writeFile(path.join(dir, 'cache.json'), `${JSON.stringify({ key, ...about }, null, 2)}\n`);
  }
}

/** The photos a cache holds, sorted by path, and where each split's samples are among them. */
function cachedPhotos(
  trainSamples: readonly SplitEntry[],
  valSamples: readonly SplitEntry[],
): { samples: SplitEntry[]; position: Record<CacheSplit, number[]> } {
  const samples = [...trainSamples, ...valSamples].sort((a, b) =>
    a.image < b.image ? -1 : a.image > b.image ? 1 : 0,
  );
  const index = new Map(samples.map((sample, position) => [sample.image, position]));
  if (index.size !== samples.length) {
    throw new Error('a photo is in both the training and the validation split');
  }
  const positions = (split: readonly SplitEntry[]) => split.map((sample) => index.get(sample.image)!);
  return { samples, position: { train: positions(trainSamples), val: positions(valSamples) } };
}

interface CacheJob {
  view: number;
  samples: readonly SplitEntry[];
  file: string;
}

/** The files a cache with `views` views needs: the centre crops, then each augmented view, of every photo. */
function cacheJobs(options: FeatureCacheOptions, photos: readonly SplitEntry[], views: number): CacheJob[] {
  const extension = options.featureCachePrecision === 'float16' ? 'f16' : 'f32';
  const jobs: CacheJob[] = [{ view: 0, samples: photos, file: `centre.${extension}` }];
  for (let view = 1; view <= views; view++) {
    // The seed picks the crops: another seed's views are other files.
    jobs.push({ view, samples: photos, file: `seed${options.seed}-view${view}.${extension}` });
  }
  return jobs;
}

/** Runs the trunk over one split and view into `job.file`, written under a temporary name first. */
async function buildFile(dir: string, job: CacheJob, options: FeatureCacheOptions): Promise<void> {
  const target = path.join(dir, job.file);
  const building = `${target}.tmp-${process.pid}`;
  const handle = await open(building, 'w');
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
      concurrency: options.loaderConcurrency,
    })) {
      const features = await options.trunk.run(batch.images, batch.size);
      const stored = options.featureCachePrecision === 'float16' ? encodeFloat16(features) : features;
      await handle.write(new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength));
      options.onProgress?.(batch.size);
    }
    await handle.close();
    await rename(building, target);
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(building, { force: true });
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function cacheKey(options: FeatureCacheOptions, photos: readonly SplitEntry[]): Promise<string> {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      format: FORMAT,
      trunk: options.trunk.sha256,
      // What changes the pixels, not where the statistics came from (another prepared folder of the same
      // photos has the same mean/std but another statsSource).
      preprocess: { ...options.preprocess, statsSource: undefined },
      viewScale: VIEW_SCALE,
      // float32 adds nothing, so a float32 cache built before float16 existed keeps its key and is reused.
      ...(options.featureCachePrecision === 'float32' ? {} : { precision: options.featureCachePrecision }),
    }),
  );
  for (const sample of photos) {
    const file = path.join(options.dataRoot, sample.image);
    // Size and mtime stand for the bytes: hashing every photo would cost a read of the data set.
    const info = await stat(file).catch(() => undefined);
    hash.update(`${sample.image}\t${sample.label}\t${info?.size ?? -1}\t${info?.mtimeMs ?? -1}\n`);
  }
  return hash.digest('hex');
}
