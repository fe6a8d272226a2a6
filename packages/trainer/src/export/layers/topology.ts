/** What the converters read about a layer's place in a tf.layers functional model. */
import type * as tf from '@tensorflow/tfjs';

export type Shape = Array<number | null>;

export interface LayerConfig {
  [key: string]: unknown;
  activation?: string;
}

export function inboundLayerNames(layer: tf.layers.Layer): string[] {
  return layer.inboundNodes[0]?.inboundLayers.map((inbound) => inbound.name) ?? [];
}

export function inputShape(layer: tf.layers.Layer): Shape {
  return layer.inboundNodes[0]!.inputTensors[0]!.shape;
}

/** Layer name → how many layers take its output. */
export function countConsumers(model: tf.LayersModel): Map<string, number> {
  const counts = new Map<string, number>();
  for (const layer of model.layers) {
    for (const source of inboundLayerNames(layer)) counts.set(source, (counts.get(source) ?? 0) + 1);
  }
  return counts;
}

export function onlyConsumer(model: tf.LayersModel, layer: tf.layers.Layer): tf.layers.Layer | undefined {
  const users = model.layers.filter((other) => inboundLayerNames(other).includes(layer.name));
  return users.length === 1 ? users[0] : undefined;
}
