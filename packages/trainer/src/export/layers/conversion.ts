/**
 * The state of one model's conversion: the graph so far, which ONNX tensor holds each layer's output,
 * ZeroPadding2D outputs not emitted yet (the next Conv or MaxPool may absorb them), and which tensors
 * are known to be ≥ 0. The per-layer converters (converters.ts) read and extend it.
 */
import type * as tf from '@tensorflow/tfjs';
import { addInitializer, type GraphNode, intAttr, type OnnxGraph } from '../onnx-graph.ts';
import { UnsupportedModelError } from '../unsupported-model-error.ts';
import type { Pads } from './same-padding.ts';
import { countConsumers, inboundLayerNames } from './topology.ts';

/** A ZeroPadding2D output, emitted lazily so the next Conv or MaxPool can absorb it. */
export interface PendingPad {
  source: string;
  pads: Pads;
}

export class Conversion {
  /** Layer name → the ONNX tensor holding its output (NCHW for images). */
  readonly tensorOf = new Map<string, string>();
  /** BatchNormalization layers already folded into the Conv before them. */
  readonly folded = new Set<string>();
  private readonly pendingPads = new Map<string, PendingPad>();
  /** Tensors known to be ≥ 0 (Relu outputs): max-pooling them may pad with zeros or with −∞ alike. */
  private readonly nonNegative = new Set<string>();
  private readonly consumers: Map<string, number>;

  constructor(
    readonly model: tf.LayersModel,
    readonly graph: OnnxGraph,
  ) {
    this.consumers = countConsumers(model);
  }

  /** Appends a node and returns its (first) output. */
  emit(node: GraphNode): string {
    this.graph.nodes.push(node);
    return node.outputs[0]!;
  }

  /** The ONNX tensor of the layer's `index`-th input; a pending pad there is emitted as a Pad first. */
  input(layer: tf.layers.Layer, index = 0): string {
    const source = inboundLayerNames(layer)[index]!;
    const pending = this.pendingPads.get(source);
    if (pending) return this.emitPad(source, pending);
    const tensor = this.tensorOf.get(source);
    if (tensor === undefined) throw new Error(`layer ${source} has no ONNX output yet`);
    return tensor;
  }

  /** Records a ZeroPadding2D layer's output without emitting it yet. */
  deferPad(layerName: string, pad: PendingPad): void {
    this.pendingPads.set(layerName, pad);
  }

  /** The pending pad that feeds `layer` (its first input) and nothing else, which `layer` may absorb. */
  exclusivePadInto(layer: tf.layers.Layer): PendingPad | undefined {
    const source = inboundLayerNames(layer)[0]!;
    const pending = this.pendingPads.get(source);
    return pending && this.consumers.get(source) === 1 ? pending : undefined;
  }

  /** Whether `layer`'s first input is a pending pad (shared or not). */
  hasPendingPadInto(layer: tf.layers.Layer): boolean {
    return this.pendingPads.has(inboundLayerNames(layer)[0]!);
  }

  /** `layer` takes its pending input pad into its own pads: returns the unpadded input and the summed pads. */
  absorbPad(layer: tf.layers.Layer, pads: Pads): { input: string; pads: Pads } {
    const source = inboundLayerNames(layer)[0]!;
    const pending = this.pendingPads.get(source)!;
    this.pendingPads.delete(source);
    return { input: pending.source, pads: pads.map((p, i) => p + pending.pads[i]!) as Pads };
  }

  consumerCount(layerName: string): number {
    return this.consumers.get(layerName) ?? 0;
  }

  isNonNegative(tensor: string): boolean {
    return this.nonNegative.has(tensor);
  }

  markNonNegative(tensor: string): void {
    this.nonNegative.add(tensor);
  }

  /** A Keras activation as its ONNX node (none for `linear`); returns the activated tensor. */
  activation(name: string, input: string, kind: string | undefined): string {
    switch (kind ?? 'linear') {
      case 'linear':
        return input;
      case 'relu': {
        const output = this.emit({ name, op: 'Relu', inputs: [input], outputs: [name] });
        this.markNonNegative(output);
        return output;
      }
      case 'softmax':
        return this.emit({
          name,
          op: 'Softmax',
          inputs: [input],
          outputs: [name],
          attributes: { axis: intAttr(-1) },
        });
      default:
        throw new UnsupportedModelError(`activation "${kind}" of ${name} has no ONNX mapping here`);
    }
  }

  private emitPad(layerName: string, pending: PendingPad): string {
    const pads = addInitializer(
      this.graph,
      `${layerName}/pads`,
      [8],
      BigInt64Array.from(
        [0, 0, pending.pads[0], pending.pads[1], 0, 0, pending.pads[2], pending.pads[3]],
        BigInt,
      ),
    );
    const output = this.emit({
      name: layerName,
      op: 'Pad',
      inputs: [pending.source, pads],
      outputs: [layerName],
    });
    this.pendingPads.delete(layerName);
    this.tensorOf.set(layerName, output);
    return output;
  }
}
