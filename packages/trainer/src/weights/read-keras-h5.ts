import { open } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import * as tf from '@tensorflow/tfjs';
import h5wasm from 'h5wasm/node';
import { disposeWeights, normaliseWeightName, type WeightMap } from './weight-map.ts';

type H5Group = InstanceType<typeof h5wasm.Group>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Reads a Keras 2 `.h5` weights file (`model.save_weights` / the Keras Applications downloads) or a full
 * model file (weights under `model_weights/`): root attribute `layer_names`, one group per layer with
 * attribute `weight_names` (`conv1_conv/kernel:0`, ...), each name a dataset path inside the layer group.
 */
export async function readKerasH5(file: string): Promise<WeightMap> {
  const absolute = path.resolve(file);
  if (!(await hasHdf5Signature(absolute, file))) {
    throw new UserError(
      `${file} is not an HDF5 file (a truncated download or an HTML error page?). Delete it and download again.`,
      'WEIGHTS_CORRUPT',
    );
  }
  await h5wasm.ready;
  const h5 = new h5wasm.File(absolute, 'r');
  const weights: WeightMap = new Map();
  try {
    const root = h5.keys().includes('model_weights') ? (h5.get('model_weights') as H5Group) : h5;
    const layerNames = stringList(root, 'layer_names');
    if (layerNames === undefined) {
      throw new UserError(
        `${file} has no "layer_names" attribute: not a Keras 2 weights file (Keras 3 ".weights.h5" files use ` +
          'another layout). Save the weights with tf.keras `model.save_weights("x.h5")`.',
        'WEIGHTS_UNSUPPORTED',
      );
    }
    for (const layerName of layerNames) {
      const layer = root.get(layerName) as H5Group | null;
      if (!layer) throw new UserError(`${file}: layer group "${layerName}" is missing.`, 'WEIGHTS_CORRUPT');
      for (const weightName of stringList(layer, 'weight_names') ?? []) {
        const dataset = layer.get(weightName) as H5Dataset | null;
        if (!dataset?.shape) {
          throw new UserError(`${file}: dataset ${layerName}/${weightName} is missing.`, 'WEIGHTS_CORRUPT');
        }
        weights.set(normaliseWeightName(weightName), toTensor(dataset, `${file}:${layerName}/${weightName}`));
      }
    }
    return weights;
  } catch (error) {
    disposeWeights(weights);
    throw error;
  } finally {
    h5.close();
  }
}

async function hasHdf5Signature(absolute: string, file: string): Promise<boolean> {
  const handle = await open(absolute, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT')
      throw new UserError(`${file} does not exist. Check --from.`, 'WEIGHTS_NOT_FOUND');
    throw error;
  });
  try {
    const head = Buffer.alloc(HDF5_SIGNATURE.length);
    await handle.read(head, 0, head.length, 0);
    return head.equals(HDF5_SIGNATURE);
  } finally {
    await handle.close();
  }
}

/** A string-array attribute (Keras writes fixed-length byte strings); undefined when absent. */
function stringList(group: H5Group, name: string): string[] | undefined {
  if (!(name in group.attrs)) return undefined;
  const value: unknown = group.get_attribute(name, true);
  if (value === null || value === undefined) return [];
  // An empty Keras attribute (a layer without weights) can come back as a scalar or nested list.
  const list: unknown[] = Array.isArray(value) ? (value as unknown[]).flat(8) : [value];
  return list.map(String).filter((s) => s.length > 0);
}

function toTensor(dataset: H5Dataset, source: string): tf.Tensor {
  const shape = dataset.shape!;
  const value = dataset.value;
  if (value instanceof Float32Array) return tf.tensor(value, shape, 'float32');
  if (value instanceof Float64Array) return tf.tensor(Float32Array.from(value), shape, 'float32');
  throw new UserError(
    `${source} has dtype ${String(dataset.dtype)}; expected float32.`,
    'WEIGHTS_UNSUPPORTED',
  );
}
