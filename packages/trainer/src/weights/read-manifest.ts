import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import * as tf from '@tensorflow/tfjs';
import { normaliseWeightName, type WeightMap } from './weight-map.ts';

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/**
 * Reads a TF.js weights manifest (`weights_manifest.json`, or a layers `model.json` with its
 * `weightsManifest`) and its shards. A group's shards are one byte stream cut into files, so a tensor
 * may span two shards: concatenate them, then decode the whole group.
 */
export async function readWeightsManifest(manifestPath: string): Promise<WeightMap> {
  const groups = parseManifest(
    await readFile(manifestPath, 'utf8').catch(notFound(manifestPath)),
    manifestPath,
  );
  const dir = path.dirname(manifestPath);
  const weights: WeightMap = new Map();
  for (const group of groups) {
    const shards = await Promise.all(
      group.paths.map((shard) => readFile(path.join(dir, shard)).catch(notFound(path.join(dir, shard)))),
    );
    const bytes = Buffer.concat(shards);
    const expected = group.weights.reduce((sum, spec) => sum + expectedBytes(spec, manifestPath), 0);
    if (bytes.length !== expected) {
      throw new UserError(
        `${manifestPath}: shards ${group.paths.join(', ')} hold ${bytes.length} bytes, the manifest describes ` +
          `${expected}. A shard is truncated or from another export; copy the folder again.`,
        'WEIGHTS_CORRUPT',
      );
    }
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
    const decoded = tf.io.decodeWeights(buffer, group.weights);
    for (const spec of group.weights) weights.set(normaliseWeightName(spec.name), decoded[spec.name]!);
  }
  return weights;
}

function parseManifest(text: string, source: string): tf.io.WeightsManifestConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${source} is not valid JSON (${(error as Error).message}).`, 'WEIGHTS_CORRUPT');
  }
  const manifest = Array.isArray(json) ? json : (json as { weightsManifest?: unknown })?.weightsManifest;
  const valid =
    Array.isArray(manifest) &&
    manifest.every(
      (group) =>
        Array.isArray(group?.paths) &&
        Array.isArray(group?.weights) &&
        group.weights.every((w: unknown) => typeof (w as tf.io.WeightsManifestEntry)?.name === 'string'),
    );
  if (!valid) {
    throw new UserError(
      `${source} is not a TF.js weights manifest (expected an array of {paths, weights} groups, or a model.json ` +
        'with weightsManifest).',
      'WEIGHTS_CORRUPT',
    );
  }
  return manifest as tf.io.WeightsManifestConfig;
}

function expectedBytes(spec: tf.io.WeightsManifestEntry, source: string): number {
  const size = BYTES_PER_ELEMENT[spec.dtype];
  if (size === undefined || spec.quantization) {
    throw new UserError(
      `${source}: ${spec.name} has dtype ${spec.dtype}${spec.quantization ? ' (quantized)' : ''}; only ` +
        'unquantized float32/int32/bool weights are supported. Re-export without quantization.',
      'WEIGHTS_UNSUPPORTED',
    );
  }
  return spec.shape.reduce((n, d) => n * d, 1) * size;
}

function notFound(file: string) {
  return async (error: NodeJS.ErrnoException): Promise<never> => {
    if (error.code === 'ENOENT') {
      const exists = await stat(path.dirname(file)).catch(() => undefined);
      throw new UserError(
        `${file} does not exist${exists ? '' : ' (nor its folder)'}. Check --from, or copy the whole weights folder.`,
        'WEIGHTS_NOT_FOUND',
      );
    }
    throw error;
  };
}
