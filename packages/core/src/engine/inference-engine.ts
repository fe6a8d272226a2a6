/**
 * Runs a classifier on images already made by `preprocessImage` (HWC Float32Arrays of
 * cropSize²·3 values). Evaluation and serving both go through an engine, so for the same
 * checkpoint and image they report the same probabilities.
 */
export interface InferenceEngine {
  /** For logs and /api/model, e.g. "tfjs cpu, resnet50, 224x224x3 -> 50 classes, batches of <= 32". */
  readonly description: string;
  /** Softmax probabilities, one array per input, in input order. */
  predict(batch: Float32Array[]): Promise<Float32Array[]>;
  /** Frees the model's weights; the engine cannot be used afterwards. */
  dispose(): void;
}

/** The input an engine's model takes and the number of classes it scores. */
export interface EngineShape {
  height: number;
  width: number;
  channels: number;
  classes: number;
}

/**
 * What every engine does around its runtime: checks each input's length, packs up to `maxBatch` inputs
 * into one NHWC buffer, runs `runChunk` on it (which returns rows × classes probabilities) and splits the
 * result back into one array per input, in input order.
 */
export async function predictInChunks(
  batch: Float32Array[],
  shape: EngineShape,
  maxBatch: number,
  runChunk: (packed: Float32Array, rows: number) => Promise<Float32Array>,
): Promise<Float32Array[]> {
  const { height, width, channels, classes } = shape;
  const inputLength = height * width * channels;
  for (const [index, input] of batch.entries()) {
    if (!(input instanceof Float32Array) || input.length !== inputLength) {
      const got = input instanceof Float32Array ? `${input.length} values` : 'not a Float32Array';
      throw new RangeError(
        `Input ${index} is ${got}; the model needs a ${height}x${width}x${channels} HWC Float32Array ` +
          `(${inputLength} values) from preprocessImage with the checkpoint's preprocess.json.`,
      );
    }
  }
  const results: Float32Array[] = [];
  for (let start = 0; start < batch.length; start += maxBatch) {
    const chunk = batch.slice(start, start + maxBatch);
    const packed = new Float32Array(chunk.length * inputLength);
    for (const [index, input] of chunk.entries()) packed.set(input, index * inputLength);
    const values = await runChunk(packed, chunk.length);
    for (let row = 0; row < chunk.length; row++) {
      results.push(values.slice(row * classes, (row + 1) * classes));
    }
  }
  return results;
}
