/**
 * The frozen trunk on ONNX Runtime, on every core: what `--cache-features` runs once per image (and
 * per view). Its features equal the tfjs trunk's to float rounding (BatchNorm folded into the
 * convolutions): test/train/onnx-trunk.int.test.ts checks ≤ 1e-4 relative on real food10 photos.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { INPUT_NAME } from '../export/layers-to-onnx.ts';
import { encodeModel } from '../export/onnx-graph.ts';
import { FEATURES_NAME, trunkToOnnx } from '../export/trunk-to-onnx.ts';

export interface OnnxTrunk {
  /** sha256 of the encoded trunk: changes with any weight, the boundary or the converter's output. */
  sha256: string;
  /** One image's features, NHWC without the batch. */
  featureShape: number[];
  /** Features of `count` images packed HWC back to back; one Float32Array, the images' features back to back. */
  run(images: Float32Array, count: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export async function createOnnxTrunk(
  trunk: tf.LayersModel,
  options: { intraOpThreads?: number } = {},
): Promise<OnnxTrunk> {
  const { graph, featureShape } = trunkToOnnx(trunk);
  const bytes = encodeModel(graph, { metadata: {} });
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: options.intraOpThreads ?? availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const [, height, width, channels] = graph.inputs[0]!.shape as [string, number, number, number];
  return {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    featureShape,
    async run(images, count) {
      const input = new ort.Tensor('float32', images, [count, height, width, channels]);
      const outputs = await session.run({ [INPUT_NAME]: input }, [FEATURES_NAME]);
      return outputs[FEATURES_NAME]!.data as Float32Array;
    },
    dispose: () => session.release(),
  };
}
