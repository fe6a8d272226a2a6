/** Dense → Gemm (+ its activation). */
import type * as tf from '@tensorflow/tfjs';
import { addInitializer } from '../onnx-graph.ts';
import { UnsupportedModelError } from '../unsupported-model-error.ts';
import type { Conversion } from './conversion.ts';
import { inputShape, type LayerConfig } from './topology.ts';

export function convertDense(layer: tf.layers.Layer, config: LayerConfig, conversion: Conversion): void {
  const name = layer.name;
  if (inputShape(layer).length !== 2) {
    throw new UnsupportedModelError(`Dense ${name} takes a ${inputShape(layer).length}-D input`);
  }
  const [kernel, bias] = layer.getWeights();
  const [units, inputs] = [config.units as number, kernel!.shape[0]!];
  const weight = addInitializer(
    conversion.graph,
    `${name}/weight`,
    [inputs, units],
    kernel!.dataSync() as Float32Array,
  );
  const biasValues = bias ? (bias.dataSync() as Float32Array) : new Float32Array(units);
  const gemmBias = addInitializer(conversion.graph, `${name}/bias`, [units], Float32Array.from(biasValues));
  const output = conversion.emit({
    name,
    op: 'Gemm',
    inputs: [conversion.input(layer), weight, gemmBias],
    outputs: [name],
  });
  conversion.tensorOf.set(name, conversion.activation(`${name}_activation`, output, config.activation));
}
