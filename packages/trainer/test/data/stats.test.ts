import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import {
  DEFAULT_PREPROCESS,
  type PreprocessConfig,
  parsePreprocessConfig,
} from '@food/core/preprocess/config';
import { loadCroppedRgb } from '@food/core/preprocess/image';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { prepareDataset } from '../../src/data/prepare.ts';
import { readManifest } from '../../src/data/prepared-set.ts';
import { spreadSubset } from '../../src/data/spread-subset.ts';
import { ChannelStats, computeTrainingStats } from '../../src/data/stats.ts';
import { synthesizeDataset } from '../../src/data/synth.ts';
import { extremePng } from './extreme-png.ts';
import { tempDir } from './temp-dir.ts';

/** The textbook definition in float64: two passes over every pixel, population variance. */
function naiveMeanStd(images: Uint8Array[]): { mean: number[]; std: number[] } {
  const mean = [0, 1, 2].map((c) => {
    let sum = 0;
    let count = 0;
    for (const rgb of images) {
      for (let i = c; i < rgb.length; i += 3) {
        sum += rgb[i] / 255;
        count++;
      }
    }
    return sum / count;
  });
  const std = [0, 1, 2].map((c) => {
    let sum = 0;
    let count = 0;
    for (const rgb of images) {
      for (let i = c; i < rgb.length; i += 3) {
        sum += (rgb[i] / 255 - mean[c]) ** 2;
        count++;
      }
    }
    return Math.sqrt(sum / count);
  });
  return { mean, std };
}

function randomImage(random: () => number, pixels: number, brightness: number): Uint8Array {
  return Uint8Array.from({ length: pixels * 3 }, () => Math.min(255, Math.floor(brightness + random() * 60)));
}

describe('ChannelStats', () => {
  it('equals a naive float64 computation and is independent of order', () => {
    const random = seedrandom('stats');
    const images = Array.from({ length: 9 }, (_, i) => randomImage(random, 50 + i * 7, i * 20));
    const stats = new ChannelStats();
    for (const image of images) stats.add(image);
    const reversed = new ChannelStats();
    for (const image of [...images].reverse()) reversed.add(image);
    const naive = naiveMeanStd(images);
    const { mean, std } = stats.result();
    for (let c = 0; c < 3; c++) {
      expect(mean[c]).toBeCloseTo(naive.mean[c], 12);
      expect(std[c]).toBeCloseTo(naive.std[c], 12);
    }
    expect(reversed.result()).toEqual(stats.result());
    expect(stats.pixelCount).toBe(images.reduce((n, image) => n + image.length / 3, 0));
  });

  it('differs from the average of per-batch stds when batches differ in brightness', () => {
    // Dark and bright batches: each batch has a small spread, the whole split a large one.
    const random = seedrandom('batches');
    const batches = [0, 180].map((brightness) =>
      Array.from({ length: 4 }, () => randomImage(random, 100, brightness)),
    );
    const whole = new ChannelStats();
    for (const image of batches.flat()) whole.add(image);
    const perBatchStd = batches.map((batch) => naiveMeanStd(batch).std[0]);
    const averaged = (perBatchStd[0] + perBatchStd[1]) / 2;
    const exact = whole.result().std[0];
    expect(exact).toBeCloseTo(naiveMeanStd(batches.flat()).std[0], 12);
    expect(exact).toBeGreaterThan(averaged * 3);
  });

  it('spreads a --limit subset over the whole split', () => {
    expect(spreadSubset([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3)).toEqual([0, 3, 6]);
    expect(spreadSubset([1, 2], 5)).toEqual([1, 2]);
  });
});

/** A synthetic set in `ROOT/data`, prepared into `ROOT/prepared` with a fifth held out for validation. */
async function preparedSynth(
  name: string,
  synth: { classes: number; imagesPerClass: number; seed: number },
): Promise<{ root: string; prepared: string }> {
  const root = await tempDir(name);
  await synthesizeDataset({ outDir: path.join(root, 'data'), ...synth });
  const prepared = path.join(root, 'prepared');
  const selection = { count: synth.classes };
  await prepareDataset({
    dataRoot: path.join(root, 'data'),
    outDir: prepared,
    selection,
    seed: 1,
    valFraction: 0.2,
  });
  return { root, prepared };
}

describe('computeTrainingStats', () => {
  it('writes preprocess.json with exact training-split stats, keeping an existing geometry', async () => {
    const { prepared } = await preparedSynth('stats', { classes: 3, imagesPerClass: 8, seed: 2 });
    const geometry: PreprocessConfig = { ...DEFAULT_PREPROCESS, resizeShorterSide: 40, cropSize: 32 };
    await writeFile(path.join(prepared, 'preprocess.json'), JSON.stringify(geometry));

    const result = await computeTrainingStats({ preparedDir: prepared, concurrency: 3 });
    const written = parsePreprocessConfig(JSON.parse(await readFile(result.configPath, 'utf8')));
    expect(written).toEqual(result.config);
    expect(written).toMatchObject({ resizeShorterSide: 40, cropSize: 32, interpolation: 'bilinear' });
    expect(written.statsSource).toBe(`stats over 15 training images of ${prepared}`);

    const manifest = await readManifest(prepared);
    const pixels = await Promise.all(
      manifest.splits.train.map(async ({ image }) =>
        loadCroppedRgb(await readFile(path.join(manifest.dataRoot, image)), geometry),
      ),
    );
    const naive = naiveMeanStd(pixels);
    expect(result.pixels).toBe(15 * 32 * 32);
    for (let c = 0; c < 3; c++) {
      expect(written.mean[c]).toBeCloseTo(naive.mean[c], 12);
      expect(written.std[c]).toBeCloseTo(naive.std[c], 12);
    }
    // Classes have different hues, so the channels differ.
    expect(new Set(written.mean.map((m) => m.toFixed(3))).size).toBe(3);
  });

  it('names the file an image that preprocessing rejects came from (no raw stack trace)', async () => {
    const { root, prepared } = await preparedSynth('stats-thin', { classes: 2, imagesPerClass: 6, seed: 4 });
    // Replaced after prepare checked it (or prepared by an older version that did not check this).
    const { image } = (await readManifest(prepared)).splits.train[0];
    await writeFile(path.join(root, 'data', image), await extremePng(1, 1_000_000));
    const error = await computeTrainingStats({ preparedDir: prepared }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain(`cannot preprocess ${path.join(root, 'data', image)}: `);
  });

  it('asks for prepare first when there is no manifest', async () => {
    await expect(computeTrainingStats({ preparedDir: await tempDir('stats-empty') })).rejects.toThrow(
      /no manifest.json .*trainer prepare/,
    );
  });
});
