import path from 'node:path';
import { UserError } from '@food/core/errors';
import { formatPredictions } from './format-predictions.ts';
import { readImageFile } from './image-file.ts';
import { expandImagePaths } from './image-paths.ts';
import { type PredictResponse, predictImage } from './predict-client.ts';

/** `pnpm predict`'s flags. */
export interface PredictFlags {
  url: string;
  topK: number;
  json?: boolean;
  retries: number;
}

/**
 * Classifies each file (folders stand for their images) and prints the labels as it goes, or one JSON
 * array at the end with `json`. A file the server refuses is reported and the rest still run; the exit
 * code is 1 if any failed.
 */
export async function predictFiles(files: string[], options: PredictFlags): Promise<void> {
  const results: Array<{ file: string } & (PredictResponse | { error: string })> = [];
  let failed = 0;
  for (const file of await expandImagePaths(files)) {
    try {
      const response = await predictImage(await readImageFile(file), path.basename(file), {
        url: options.url,
        topK: options.topK,
        retries: options.retries,
      });
      results.push({ file, ...response });
      if (!options.json) process.stdout.write(`${formatPredictions(file, response)}\n`);
    } catch (error) {
      // An unreachable server fails every file the same way: say it once.
      if (error instanceof UserError && error.code === 'SERVER_UNREACHABLE') throw error;
      if (!(error instanceof UserError)) throw error;
      failed += 1;
      results.push({ file, error: error.message });
      if (!options.json) process.stderr.write(`error: ${error.message}\n`);
    }
  }
  if (options.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  if (failed > 0) process.exitCode = 1;
}
