/**
 * The checkpoint on the training backend (tfjs, on the GPU when there is one) against its ONNX export on
 * ONNX Runtime's CPU build, on the same test images: what a user serves must be what they trained. On a
 * GPU, TF32 is turned off for this (NVIDIA_TF32_OVERRIDE=0, set before TensorFlow starts), so both sides
 * compute in float32 and the bound below is about the export, not about TF32's 10-bit mantissa.
 */
import { defaultOnnxPath } from '@food/core/checkpoint/run-layout';
import { loadEngine } from '@food/core/engine/create-engine';
import { readManifest } from '../data/prepared-set.ts';
import { spreadSubset } from '../data/spread-subset.ts';
import { type ImagePrediction, predictSplit } from '../evaluate/predict-split.ts';
import { exportCheckpointToOnnx } from '../export/export-onnx.ts';

export const MAX_PROBABILITY_DIFFERENCE = 1e-3;

export interface EngineComparison {
  images: number;
  /** Top-1 accuracy of each engine on those images (labels of the synthetic set). */
  tfjsTop1: number;
  onnxTop1: number;
  /** Images whose top-1 class differs between the engines. */
  disagreements: number;
  maxProbabilityDifference: number;
  tfjsSeconds: number;
  onnxSeconds: number;
  ok: boolean;
}

export async function compareEngines(options: {
  checkpoint: string;
  prepared: string;
  images: number;
}): Promise<EngineComparison> {
  const manifest = await readManifest(options.prepared);
  const samples = spreadSubset(manifest.splits.test, options.images);
  await exportCheckpointToOnnx({ checkpoint: options.checkpoint, out: defaultOnnxPath(options.checkpoint) });
  const predict = async (engineName: 'tfjs' | 'onnx') => {
    const started = performance.now();
    const { engine, preprocess } = await loadEngine({ engine: engineName, checkpoint: options.checkpoint });
    try {
      const predictions = await predictSplit({
        engine,
        samples,
        dataRoot: manifest.dataRoot,
        preprocess,
        numClasses: manifest.classes.length,
        batchSize: 32,
      });
      return { predictions, seconds: (performance.now() - started) / 1000 };
    } finally {
      engine.dispose();
    }
  };
  const tfjs = await predict('tfjs');
  const onnx = await predict('onnx');
  return summarize(tfjs, onnx);
}

type Run = { predictions: ImagePrediction[]; seconds: number };

function summarize(tfjs: Run, onnx: Run): EngineComparison {
  let disagreements = 0;
  let maxDifference = 0;
  const correct = { tfjs: 0, onnx: 0 };
  tfjs.predictions.forEach((ours, index) => {
    const theirs = onnx.predictions[index]!;
    const top = { tfjs: argmax(ours.probabilities), onnx: argmax(theirs.probabilities) };
    if (top.tfjs !== top.onnx) disagreements++;
    if (top.tfjs === ours.label) correct.tfjs++;
    if (top.onnx === ours.label) correct.onnx++;
    ours.probabilities.forEach((p, c) => {
      maxDifference = Math.max(maxDifference, Math.abs(p - theirs.probabilities[c]!));
    });
  });
  const images = tfjs.predictions.length;
  return {
    images,
    tfjsTop1: correct.tfjs / images,
    onnxTop1: correct.onnx / images,
    disagreements,
    maxProbabilityDifference: maxDifference,
    tfjsSeconds: tfjs.seconds,
    onnxSeconds: onnx.seconds,
    ok: disagreements === 0 && maxDifference <= MAX_PROBABILITY_DIFFERENCE,
  };
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
