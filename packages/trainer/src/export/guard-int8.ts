/**
 * Runs the float32 and the int8 export over the validation split with the ONNX engine (what
 * `--engine auto` serves) and counts what the int8 guard judges (core/checkpoint/int8-guard.ts).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Int8GuardCounts } from '@food/core/checkpoint/int8-guard';
import { createOnnxEngine } from '@food/core/engine/onnx-engine';
import { readOnnxMetadata } from '@food/core/engine/onnx-metadata';
import { UserError } from '@food/core/errors';
import { topK } from '@food/core/metrics/top-k';
import { preprocessImage } from '@food/core/preprocess/image';
import { readManifest } from '../data/prepared-set.ts';
import { type RunSplitSettings, withRunSplit } from '../data/run-split.ts';

export interface GuardCountOptions {
  float32: string;
  int8: string;
  /** The prepared data set whose validation split the two exports are compared on. */
  prepared: string;
  /** The run's own train/val split (`pnpm train --val-fraction`); absent: the prepared folder's. */
  split?: RunSplitSettings;
  intraOpThreads?: number;
  onProgress?: (done: number, total: number) => void;
}

const CHUNK = 16;

export async function countInt8Agreement(options: GuardCountOptions): Promise<Int8GuardCounts> {
  const { preprocess, labels } = await readOnnxMetadata(options.float32);
  const manifest = withRunSplit(await readManifest(options.prepared), options.split);
  const modelIndex = new Map(labels.classes.map((name, index) => [name, index]));
  const entries = manifest.splits.val.map((entry) => {
    const name = manifest.classes[entry.label]!;
    const label = modelIndex.get(name);
    if (label === undefined) {
      throw new UserError(
        `${options.prepared} has class "${name}", which ${options.float32} does not know: check int8 on the data set the run trained on (--prepared).`,
        'EXPORT_GUARD_CLASSES',
      );
    }
    return { file: path.join(manifest.dataRoot, entry.image), label };
  });
  const engineOptions = { intraOpThreads: options.intraOpThreads };
  const float32 = await createOnnxEngine(options.float32, engineOptions);
  const int8 = await createOnnxEngine(options.int8, engineOptions).catch((error: unknown) => {
    float32.dispose();
    throw error;
  });
  const counts: Int8GuardCounts = { images: 0, float32Correct: 0, int8Correct: 0, agreeing: 0 };
  try {
    for (let start = 0; start < entries.length; start += CHUNK) {
      const chunk = entries.slice(start, start + CHUNK);
      const inputs = await Promise.all(
        chunk.map(async ({ file }) => preprocessImage(await readFile(file), preprocess)),
      );
      const [float32Out, int8Out] = [await float32.predict(inputs), await int8.predict(inputs)];
      for (const [i, { label }] of chunk.entries()) {
        const float32Top1 = topK(float32Out[i]!, 1)[0]!.index;
        const int8Top1 = topK(int8Out[i]!, 1)[0]!.index;
        counts.images += 1;
        if (float32Top1 === label) counts.float32Correct += 1;
        if (int8Top1 === label) counts.int8Correct += 1;
        if (int8Top1 === float32Top1) counts.agreeing += 1;
      }
      options.onProgress?.(counts.images, entries.length);
    }
  } finally {
    float32.dispose();
    int8.dispose();
  }
  return counts;
}
