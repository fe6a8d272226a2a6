import type * as tf from '@tensorflow/tfjs';
import h5wasm from 'h5wasm/node';

/**
 * Writes `model`'s backbone weights as Keras 2 `save_weights` does: root attribute `layer_names`, one
 * group per layer with attribute `weight_names`, datasets at `<layer>/<layer>/<weight>:0`. Layers without
 * weights are listed with an empty `weight_names`. `skip` leaves names out.
 */
export async function writeKerasH5(
  file: string,
  model: tf.LayersModel,
  options: { skip?: string[]; underModelWeights?: boolean } = {},
): Promise<void> {
  await h5wasm.ready;
  const h5 = new h5wasm.File(file, 'w');
  const root = options.underModelWeights ? h5.create_group('model_weights') : h5;
  const layers = model.layers.filter((l) => l.name !== 'predictions' && l.name !== 'input_1');
  root.create_attribute(
    'layer_names',
    layers.map((l) => l.name),
  );
  for (const layer of layers) {
    const group = root.create_group(layer.name);
    const weights = layer.weights.filter((w) => !options.skip?.includes(w.originalName));
    const names = weights.map((w) => `${w.originalName}:0`);
    if (names.length > 0) group.create_attribute('weight_names', names);
    else group.create_attribute('weight_names', new Float32Array(0), [0]);
    if (weights.length > 0) {
      // Keras nests the datasets one level deeper: <layer>/<layer>/kernel:0.
      const inner = group.create_group(layer.name);
      for (const weight of weights) {
        const data = weight.read().dataSync() as Float32Array;
        inner.create_dataset({
          name: `${weight.originalName.split('/')[1]}:0`,
          data,
          shape: weight.shape as number[],
        });
      }
    }
  }
  h5.close();
}
