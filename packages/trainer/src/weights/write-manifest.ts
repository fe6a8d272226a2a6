import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { WeightMap } from './weight-map.ts';

export const MANIFEST_FILE = 'weights_manifest.json';
export const WEIGHTS_FILE = 'weights.bin';

/**
 * Writes `weights` as a TF.js weights manifest folder (`weights_manifest.json` + one `weights.bin`),
 * in map order, plus any `extraFiles`. Written into a temporary sibling and renamed into place, so an
 * interrupted run never leaves a half-written folder where a good one was.
 */
export async function writeWeightsManifest(
  dir: string,
  weights: WeightMap,
  extraFiles: Record<string, string> = {},
): Promise<void> {
  const named = [...weights].map(([name, tensor]) => ({ name, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  const bytes = Array.isArray(data) ? Buffer.concat(data.map((b) => Buffer.from(b))) : Buffer.from(data);
  const manifest: tf.io.WeightsManifestConfig = [{ paths: [WEIGHTS_FILE], weights: specs }];
  const target = path.resolve(dir);
  const temporary = `${target}.tmp-${process.pid}`;
  await rm(temporary, { recursive: true, force: true });
  await mkdir(temporary, { recursive: true });
  try {
    await writeFile(path.join(temporary, WEIGHTS_FILE), bytes);
    await writeFile(path.join(temporary, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    for (const [name, text] of Object.entries(extraFiles)) await writeFile(path.join(temporary, name), text);
    await rm(target, { recursive: true, force: true });
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}
