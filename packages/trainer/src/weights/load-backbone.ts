import { stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import { readKerasH5 } from './read-keras-h5.ts';
import { readWeightsManifest } from './read-manifest.ts';
import type { WeightMap } from './weight-map.ts';
import { MANIFEST_FILE } from './write-manifest.ts';

/**
 * Reads backbone weights by Keras name from any of: a folder holding `weights_manifest.json` (what
 * `import-weights` writes, and ../shared/weights/resnet50-imagenet) or `model.json`, a manifest or
 * model.json file, or a Keras `.h5` file. The values are the unfolded caffe-input weights; the training
 * start folds conv1 for the data set's normalisation with `foldCaffeInputIntoConv1`.
 */
export async function loadBackboneWeights(source: string): Promise<WeightMap> {
  const info = await stat(source).catch(() => undefined);
  if (!info) {
    throw new UserError(
      `weights not found at ${source}. Import them first: \`pnpm trainer import-weights\` (downloads the Keras ` +
        'ImageNet weights) or `pnpm trainer import-weights --from ../shared/weights/resnet50-imagenet`.',
      'WEIGHTS_NOT_FOUND',
    );
  }
  if (info.isDirectory()) {
    for (const name of [MANIFEST_FILE, 'model.json']) {
      const candidate = path.join(source, name);
      if (await stat(candidate).catch(() => undefined)) return readWeightsManifest(candidate);
    }
    throw new UserError(
      `${source} holds neither ${MANIFEST_FILE} nor model.json. Point at a folder written by import-weights.`,
      'WEIGHTS_NOT_FOUND',
    );
  }
  if (/\.(h5|hdf5|keras)$/i.test(source)) return readKerasH5(source);
  if (/\.json$/i.test(source)) return readWeightsManifest(source);
  throw new UserError(
    `${source}: unknown weights format; expected a .h5 file, a weights manifest .json, or a folder with ${MANIFEST_FILE}.`,
    'WEIGHTS_UNSUPPORTED',
  );
}
