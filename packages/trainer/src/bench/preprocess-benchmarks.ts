/**
 * Preprocessing throughput on real JPEGs (images/s): `preprocessImage` (decode + resize + centre crop +
 * normalise) and `augmentImage` one image at a time from bytes already in memory, and the training
 * batch loader (file reads + augmentation, concurrency = cores) as training uses it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_PREPROCESS, type PreprocessConfig } from '@food/core/preprocess/config';
import { augmentImage, preprocessImage } from '@food/core/preprocess/image';
import seedrandom from 'seedrandom';
import { createBatchLoader } from '../data/loader.ts';
import type { MeasurementSpec } from './spec.ts';
import { timeRuns } from './statistics.ts';

type PreprocessSpec = Extract<MeasurementSpec, { kind: 'preprocess' }>;

/** The recipe's geometry (resize 256, crop 224) scaled to another input size. */
export function preprocessConfigFor(inputSize: number): PreprocessConfig {
  return {
    ...DEFAULT_PREPROCESS,
    cropSize: inputSize,
    resizeShorterSide: Math.round(
      (inputSize * DEFAULT_PREPROCESS.resizeShorterSide) / DEFAULT_PREPROCESS.cropSize,
    ),
  };
}

export async function measurePreprocess(
  spec: PreprocessSpec,
  log: (line: string) => void,
): Promise<number[]> {
  const config = DEFAULT_PREPROCESS;
  const count = spec.files.length;
  const onRun = (index: number, ms: number) =>
    log(`run ${index + 1}/${spec.runs}: ${((count * 1000) / ms).toFixed(1)} images/s`);
  let samples: number[];
  if (spec.mode === 'loader') {
    const samplesList = spec.files.map((file, index) => ({
      image: path.relative(spec.dataRoot, file),
      label: index % 2,
    }));
    let epoch = 0;
    samples = await timeRuns(
      async () => {
        const loader = createBatchLoader({
          samples: samplesList,
          dataRoot: spec.dataRoot,
          config,
          batchSize: 16,
          numClasses: 2,
          shuffle: true,
          augment: true,
          seed: 1,
          epoch: epoch++,
        });
        for await (const _batch of loader) {
          // Consume only: the measurement is how fast batches arrive.
        }
      },
      { runs: spec.runs, onRun },
    );
  } else {
    const bytes = await Promise.all(spec.files.map((file) => readFile(file)));
    const random = seedrandom('bench-augment');
    samples = await timeRuns(
      async () => {
        for (const image of bytes) {
          if (spec.mode === 'augment') await augmentImage(image, config, random);
          else await preprocessImage(image, config);
        }
      },
      { runs: spec.runs, onRun },
    );
  }
  return samples.map((ms) => (count * 1000) / ms);
}
