import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import { DEFAULT_PREPROCESS, type PreprocessConfig } from '@food/core/preprocess/config';
import { loadCroppedRgb } from '@food/core/preprocess/image';
import { createProgress, type ProgressMode } from '../progress.ts';
import { mapConcurrent } from './map-concurrent.ts';
import { readManifest, readPreparedPreprocess, writePreparedPreprocess } from './prepared-set.ts';
import type { SplitEntry } from './split.ts';
import { spreadSubset } from './spread-subset.ts';

type Triple = [number, number, number];

/**
 * Per-channel mean and population std over every pixel of many HWC uint8 RGB images, in 0..1 scale.
 * Pixels are integers, so sums and sums of squares are kept exactly (BigInt totals; one image's sums fit
 * a double exactly) and the variance E[x²] − E[x]² has no cancellation error: the result does not depend
 * on image order or on how the work was batched. This is the statistic of the whole split — not the
 * mean of per-image or per-batch stds, which understates the spread between images.
 */
export class ChannelStats {
  private pixels = 0n;
  private readonly sums = [0n, 0n, 0n];
  private readonly squares = [0n, 0n, 0n];

  add(rgb: Uint8Array): void {
    if (rgb.length % 3 !== 0) throw new Error(`RGB buffer length ${rgb.length} is not a multiple of 3`);
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      let squares = 0;
      for (let i = c; i < rgb.length; i += 3) {
        const value = rgb[i];
        sum += value;
        squares += value * value;
      }
      if (squares > Number.MAX_SAFE_INTEGER) throw new Error('image too large for exact per-image sums');
      this.sums[c] += BigInt(sum);
      this.squares[c] += BigInt(squares);
    }
    this.pixels += BigInt(rgb.length / 3);
  }

  get pixelCount(): number {
    return Number(this.pixels);
  }

  result(): { mean: Triple; std: Triple } {
    const n = this.pixels;
    if (n === 0n) throw new Error('no pixels were added');
    const mean = this.sums.map((sum) => Number(sum) / Number(n) / 255) as Triple;
    // n²·var·255² = n·Σx² − (Σx)², exact in BigInt; one rounding when converting to a double.
    const std = this.sums.map((sum, c) => {
      const scaledVariance = Number(n * this.squares[c] - sum * sum) / Number(n * n);
      return Math.sqrt(scaledVariance) / 255;
    }) as Triple;
    return { mean, std };
  }
}

export interface StatsOptions {
  preparedDir: string;
  concurrency?: number;
  /** Use only this many training images (spread over all classes), for a quick estimate. */
  limit?: number;
  showProgress?: ProgressMode;
}

export interface StatsResult {
  config: PreprocessConfig;
  configPath: string;
  images: number;
  pixels: number;
}

/**
 * `trainer stats`: mean/std of the training split after the evaluation resize + centre crop (the
 * geometry of an existing preprocess.json, else DEFAULT_PREPROCESS), written to `preprocess.json`.
 */
export async function computeTrainingStats(options: StatsOptions): Promise<StatsResult> {
  const manifest = await readManifest(options.preparedDir);
  const geometry = (await readPreparedPreprocess(options.preparedDir)) ?? DEFAULT_PREPROCESS;
  const images: SplitEntry[] = spreadSubset(manifest.splits.train, options.limit);
  if (images.length === 0) throw new UserError(`the training split of ${options.preparedDir} is empty`);

  const stats = new ChannelStats();
  const progress = createProgress('stats', images.length, options.showProgress ?? false);
  await mapConcurrent(images, options.concurrency ?? 4, async ({ image }) => {
    const file = path.join(manifest.dataRoot, image);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (error) {
      throw new UserError(
        `cannot read ${file} (${(error as NodeJS.ErrnoException).code}); it was readable when prepare ran. ` +
          'Restore the data set or run prepare again (with --skip-corrupt to leave bad files out).',
      );
    }
    let rgb: Uint8Array;
    try {
      rgb = await loadCroppedRgb(bytes, geometry);
    } catch (error) {
      throw new UserError(
        `cannot preprocess ${file}: ${(error as Error).message} Run prepare again (with --skip-corrupt to leave bad files out).`,
      );
    }
    stats.add(rgb);
    progress.tick();
  });
  progress.stop();

  const { mean, std } = stats.result();
  const subset =
    images.length < manifest.splits.train.length ? ` (--limit, of ${manifest.splits.train.length})` : '';
  const config: PreprocessConfig = {
    version: 1,
    resizeShorterSide: geometry.resizeShorterSide,
    cropSize: geometry.cropSize,
    interpolation: geometry.interpolation,
    mean,
    std,
    channelOrder: 'RGB',
    statsSource: `stats over ${images.length} training images${subset} of ${options.preparedDir}`,
  };
  const configPath = await writePreparedPreprocess(options.preparedDir, config);
  return { config, configPath, images: images.length, pixels: stats.pixelCount };
}
