/**
 * The two steps of `pnpm bench:scale` that no trainer command runs on its own, each in its own process so
 * that /usr/bin/time measures it alone: `generate` writes the synthetic Food-101-size set, `loader-epoch`
 * reads one epoch of a prepared training split through the training loader with augmentation.
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_PREPROCESS } from '@food/core/preprocess/config';
import {
  createBatchLoader,
  createDecodePool,
  readManifest,
  readPreparedPreprocess,
} from '@food/trainer/building-blocks';
import { synthesizeDataset } from '@food/trainer/pipeline';

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Food-101's photos: longer side 512 px; JPEG qualities around food10's measured 88 and below. */
export const FOOD101_PHOTOS = { longerSide: 512, quality: [75, 90] as [number, number] };

async function generate(outDir: string, classes: number, perClass: number, seed: number): Promise<void> {
  const result = await synthesizeDataset({
    outDir,
    classes,
    imagesPerClass: perClass,
    seed,
    photos: FOOD101_PHOTOS,
    concurrency: availableParallelism() * 2,
    onProgress: (written, total) => {
      if (written % Math.max(1, Math.round(total / 10)) === 0) log(`generate: ${written}/${total} photos`);
    },
  });
  log(`generated ${result.train} training and ${result.test} test photos in ${outDir}`);
}

/** One epoch as training reads it: decode workers on every core, RandomResizedCrop + flip, batches of 32. */
async function loaderEpoch(prepared: string): Promise<void> {
  const manifest = await readManifest(prepared);
  const config = (await readPreparedPreprocess(prepared)) ?? DEFAULT_PREPROCESS;
  const decodePool = createDecodePool();
  try {
    const loader = createBatchLoader({
      samples: manifest.splits.train,
      dataRoot: manifest.dataRoot,
      config,
      batchSize: 32,
      numClasses: manifest.classes.length,
      shuffle: true,
      augment: true,
      seed: 42,
      epoch: 0,
      decodePool,
    });
    let images = 0;
    let batches = 0;
    const every = Math.max(1, Math.round(loader.numBatches / 10));
    for await (const batch of loader) {
      images += batch.size;
      decodePool.recycle(batch.images);
      if (++batches % every === 0) log(`loader: ${batches}/${loader.numBatches} batches`);
    }
    log(`loader: ${images} images in ${batches} batches`);
  } finally {
    await decodePool.close();
  }
}

async function main(): Promise<void> {
  const [job, ...args] = process.argv.slice(2);
  if (job === 'generate') {
    const [outDir, classes, perClass, seed] = args;
    await generate(outDir!, Number(classes), Number(perClass), Number(seed));
  } else if (job === 'loader-epoch') {
    await loaderEpoch(args[0]!);
  } else {
    throw new Error(`unknown job ${job}: expected generate or loader-epoch`);
  }
}

await main();
