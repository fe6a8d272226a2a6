/** MaxPooling2D → MaxPool, absorbing the zero padding before it only where that is exact. */
import type * as tf from '@tensorflow/tfjs';
import { addInitializer, intsAttr } from '../onnx-graph.ts';
import type { Conversion } from './conversion.ts';
import { type Pads, samePadding } from './same-padding.ts';
import type { LayerConfig } from './topology.ts';

export function convertMaxPooling2D(
  layer: tf.layers.Layer,
  config: LayerConfig,
  conversion: Conversion,
): void {
  const name = layer.name;
  const [kh, kw] = config.poolSize as [number, number];
  const { input, pads } = paddedInput(layer, samePadding(layer, config), [kh, kw], conversion);
  const output = conversion.emit({
    name,
    op: 'MaxPool',
    inputs: [input],
    outputs: [name],
    attributes: {
      kernel_shape: intsAttr([kh, kw]),
      strides: intsAttr(config.strides as number[]),
      pads: intsAttr(pads),
    },
  });
  if (conversion.isNonNegative(input)) conversion.markNonNegative(output);
  conversion.tensorOf.set(name, output);
}

function paddedInput(
  layer: tf.layers.Layer,
  pads: Pads,
  [kh, kw]: [number, number],
  conversion: Conversion,
): { input: string; pads: Pads } {
  // MaxPool pads with −∞; over a Relu output that equals zero padding as long as every window
  // still holds one real (≥ 0) value, i.e. each pad is smaller than the window.
  const pending = conversion.exclusivePadInto(layer);
  if (
    pending &&
    conversion.isNonNegative(pending.source) &&
    pending.pads.every((p, i) => p < (i % 2 === 0 ? kh : kw))
  ) {
    return conversion.absorbPad(layer, pads);
  }
  const padded = conversion.hasPendingPadInto(layer);
  const input = conversion.input(layer);
  if (!padded) return { input, pads };
  // ONNX Runtime's Pad fusion (microsoft/onnxruntime#18136) folds a zero Pad into the next
  // MaxPool's pads, which pad with −∞: wrong for windows of negative values. A no-op Max
  // between them keeps the zero padding.
  const lowest = addInitializer(
    conversion.graph,
    `${layer.name}/lowest`,
    [],
    Float32Array.of(-3.4028234663852886e38),
  );
  const kept = conversion.emit({
    name: `${layer.name}/keep_pad`,
    op: 'Max',
    inputs: [input, lowest],
    outputs: [`${layer.name}/padded`],
  });
  return { input: kept, pads };
}
