/**
 * The frozen part of a model as an ONNX graph: input image → the boundary layer's output (NHWC, as
 * tfjs gives it). `--cache-features` runs it on ONNX Runtime, which runs ResNet-50 about 4× faster
 * than tfjs on wasm (docs/benchmarks.md), with BatchNorm folded as the frozen layers use it
 * (moving statistics: inference mode).
 */
import type * as tf from '@tensorflow/tfjs';
import { BATCH_DIM, convertLayers, UnsupportedModelError } from './layers-to-onnx.ts';
import { intsAttr, type OnnxGraph } from './onnx-graph.ts';

export const FEATURES_NAME = 'features';

export interface TrunkGraph {
  graph: OnnxGraph;
  /** Shape of one image's features, NHWC order without the batch: [14, 14, 1024] or [2048]. */
  featureShape: number[];
}

/**
 * Converts `trunk` (a model whose single output is a stage output such as conv4_block6_out, or avg_pool:
 * SplitModel.trunk) and keeps only what computes that output.
 */
export function trunkToOnnx(trunk: tf.LayersModel): TrunkGraph {
  const { graph: full, tensorOf } = convertLayers(trunk);
  const boundaryLayer = trunk.outputs[0]!.sourceLayer.name;
  const boundary = tensorOf.get(boundaryLayer);
  if (boundary === undefined) {
    throw new UnsupportedModelError(`no ONNX tensor for the output of ${boundaryLayer}`);
  }
  const featureShape = trunk.outputs[0]!.shape.slice(1) as number[];
  const nodes = [...full.nodes];
  if (featureShape.length === 3) {
    // The graph is NCHW inside; the tail (tfjs) takes NHWC.
    nodes.push({
      name: `${FEATURES_NAME}/to_nhwc`,
      op: 'Transpose',
      inputs: [boundary],
      outputs: [FEATURES_NAME],
      attributes: { perm: intsAttr([0, 2, 3, 1]) },
    });
  } else {
    nodes.push({ name: FEATURES_NAME, op: 'Identity', inputs: [boundary], outputs: [FEATURES_NAME] });
  }
  const graph = pruneTo({ ...full, nodes, name: trunk.name }, FEATURES_NAME);
  graph.outputs = [{ name: FEATURES_NAME, shape: [BATCH_DIM, ...featureShape] }];
  return { graph, featureShape };
}

/** Only the nodes and initialisers that `output` depends on, in their order. */
function pruneTo(graph: OnnxGraph, output: string): OnnxGraph {
  const needed = new Set([output]);
  const kept = [];
  for (const node of [...graph.nodes].reverse()) {
    if (!node.outputs.some((name) => needed.has(name))) continue;
    kept.push(node);
    for (const input of node.inputs) needed.add(input);
  }
  const initializers = new Map([...graph.initializers].filter(([name]) => needed.has(name)));
  return { ...graph, nodes: kept.reverse(), initializers };
}
