/**
 * Calibration for static quantisation: runs the float graph with ONNX Runtime on sample images and
 * records each activation's min and max (ONNX Runtime's MinMax calibrator, its quantize_static default).
 */
import * as ort from 'onnxruntime-node';
import { INPUT_NAME } from './layers-to-onnx.ts';
import { encodeModel, type OnnxGraph } from './onnx-graph.ts';
import type { TensorRange } from './quantize-qdq.ts';

export interface CalibrationOptions {
  /** Images per run (default 8). */
  batchSize?: number;
  intraOpThreads?: number;
  onBatch?: (images: number) => void;
}

/** `images` are HWC Float32Arrays from preprocessImage, as the model's input expects. */
export async function calibrateRanges(
  graph: OnnxGraph,
  activations: string[],
  images: AsyncIterable<Float32Array> | Iterable<Float32Array>,
  options: CalibrationOptions = {},
): Promise<Map<string, TensorRange>> {
  const batchSize = options.batchSize ?? 8;
  const probe: OnnxGraph = {
    ...graph,
    outputs: [...graph.outputs, ...activations.map((name) => ({ name }))],
  };
  const session = await ort.InferenceSession.create(encodeModel(probe, { metadata: {} }), {
    // onnxruntime-node rejects an undefined thread count: leave the key out to get its default.
    ...(options.intraOpThreads === undefined ? {} : { intraOpNumThreads: options.intraOpThreads }),
    // Keep every probed tensor as the float graph computes it, unfused.
    graphOptimizationLevel: 'basic',
  });
  const [, height, width, channels] = graph.inputs[0]!.shape as [string, number, number, number];
  const ranges = new Map(activations.map((name) => [name, { min: Infinity, max: -Infinity }]));
  let pending: Float32Array[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const packed = new Float32Array(pending.length * height * width * channels);
    for (const [i, image] of pending.entries()) packed.set(image, i * image.length);
    const input = new ort.Tensor('float32', packed, [pending.length, height, width, channels]);
    const outputs = await session.run({ [INPUT_NAME]: input }, activations);
    for (const name of activations) {
      const values = outputs[name]!.data as Float32Array;
      const range = ranges.get(name)!;
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (v < range.min) range.min = v;
        if (v > range.max) range.max = v;
      }
    }
    options.onBatch?.(pending.length);
    pending = [];
  };
  try {
    for await (const image of images) {
      pending.push(image);
      if (pending.length === batchSize) await flush();
    }
    await flush();
  } finally {
    await session.release();
  }
  for (const [name, range] of ranges) {
    if (!Number.isFinite(range.min)) throw new Error(`calibration saw no values for ${name}: no images?`);
  }
  return ranges;
}
