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
