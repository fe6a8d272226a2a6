/**
 * Flip test-time augmentation (`pnpm evaluate --tta flip`): each image is scored as its centre crop and
 * that crop's horizontal mirror, and the two softmax outputs are averaged — the usual "flip TTA" of
 * timm's validate.py and fastai's `tta`. It wraps any InferenceEngine, so tfjs and ONNX Runtime get it
 * alike, and costs two model passes per image.
 */
import type { InferenceEngine } from '@food/core/engine/inference-engine';
import type { TtaMode } from '@food/core/report/evaluation-metrics';

// The modes are part of the report's metrics.json, so core's report contract lists them.
export { TTA_MODES, type TtaMode } from '@food/core/report/evaluation-metrics';

/**
 * The engine for `mode`: itself for `none`; for `flip`, an engine whose probabilities are the mean of the
 * engine's on each input and on its mirror. Inputs are square HWC crops of `cropSize`² × 3 values, as
 * preprocessImage makes them. Disposing the wrapper disposes the engine.
 */
export function withTestTimeAugmentation(
  engine: InferenceEngine,
  mode: TtaMode,
  cropSize: number,
): InferenceEngine {
  if (mode === 'none') return engine;
  return {
    description: `${engine.description}, flip TTA (2 passes per image)`,
    async predict(batch: Float32Array[]): Promise<Float32Array[]> {
      // One call with both views: the engine batches them up to its maxBatch.
      const views = [...batch, ...batch.map((image) => mirrorImage(image, cropSize, 3))];
      const probabilities = await engine.predict(views);
      return batch.map((_, i) => {
        const [image, mirror] = [probabilities[i]!, probabilities[batch.length + i]!];
        return image.map((p, c) => (p + mirror[c]!) / 2);
      });
    },
    dispose: () => engine.dispose(),
  };
}

/** The horizontal mirror of an HWC image `width` pixels wide: column x becomes column width − 1 − x. */
export function mirrorImage(image: Float32Array, width: number, channels: number): Float32Array {
  const mirrored = new Float32Array(image.length);
  const rowLength = width * channels;
  for (let row = 0; row < image.length; row += rowLength) {
    for (let x = 0; x < width; x++) {
      const from = row + x * channels;
      const to = row + (width - 1 - x) * channels;
      for (let c = 0; c < channels; c++) mirrored[to + c] = image[from + c]!;
    }
  }
  return mirrored;
}
