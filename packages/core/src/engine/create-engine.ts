/**
 * Engine selection (`--engine tfjs|onnx`) for evaluation and serving: both open a checkpoint folder
 * (preprocess.json and labels.json come from it either way) and get an InferenceEngine, without
 * knowing which runtime is behind it.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  type CheckpointMetadata,
  type LoadedCheckpoint,
  loadCheckpoint,
  readCheckpointMetadata,
} from '../checkpoint/load-checkpoint.ts';
import { defaultOnnxPath } from '../checkpoint/run-layout.ts';
import type { Labels } from '../labels.ts';
import type { PreprocessConfig } from '../preprocess/config.ts';
import type { InferenceEngine } from './inference-engine.ts';
import { createOnnxEngine } from './onnx-engine.ts';
import { OnnxModelError, type OnnxModelMetadata, readOnnxMetadata } from './onnx-metadata.ts';
import { createTfjsEngine } from './tfjs-engine.ts';

export type EngineName = 'tfjs' | 'onnx';

export interface LoadEngineOptions {
  engine: EngineName;
  /** Checkpoint folder: preprocess.json and labels.json, and the weights for `tfjs`. */
  checkpoint: string;
  /** The .onnx file for `onnx` (default `defaultOnnxPath(checkpoint)`); it must come from this checkpoint. */
  onnxModel?: string;
  /** Largest batch run at once (both engines; default 32). */
  maxBatch?: number;
  /** ONNX Runtime intra-op threads (default: the machine's cores); tfjs ignores it. */
  intraOpThreads?: number;
  /** This process already verified every file of the checkpoint (verifyCheckpoint): do not hash it again. */
  checkpointVerified?: boolean;
}

export interface EngineWithConfig {
  engine: InferenceEngine;
  preprocess: PreprocessConfig;
  labels: Labels;
}

/**
 * Throws OnnxModelError unless `onnxModel` was exported from this checkpoint: the same weights (the
 * sha256 recorded at export), preprocessing and labels. An export without a recorded checksum is
 * refused when `requireSource` (auto selection must never pick a file it cannot tie to the weights).
 */
export function assertExportOf(
  metadata: OnnxModelMetadata,
  onnxModel: string,
  checkpoint: CheckpointMetadata,
  requireSource = false,
): void {
  const reexport = `Export it again: pnpm trainer export --checkpoint ${checkpoint.dir} --out ${onnxModel}`;
  const weightsSha256 = checkpoint.files['weights.bin']?.sha256;
  if (requireSource && !metadata.source?.weightsSha256) {
    throw new OnnxModelError(
      `${onnxModel} records no checksum of the checkpoint it was exported from, so it may not belong to ${checkpoint.dir}. ${reexport}`,
    );
  }
  if (metadata.source && weightsSha256 && metadata.source.weightsSha256 !== weightsSha256) {
    throw new OnnxModelError(
      `${onnxModel} was exported from other weights (${metadata.source.checkpoint}) than ${checkpoint.dir} holds. ${reexport}`,
    );
  }
  if (!isDeepStrictEqual(metadata.preprocess, checkpoint.preprocess)) {
    throw new OnnxModelError(
      `${onnxModel} was exported with other preprocessing than ${checkpoint.dir}/preprocess.json. ${reexport}`,
    );
  }
  if (!isDeepStrictEqual(metadata.labels, checkpoint.labels)) {
    throw new OnnxModelError(`${onnxModel} has other labels than ${checkpoint.dir}/labels.json. ${reexport}`);
  }
}

/**
 * Opens the checkpoint with the chosen engine. For `tfjs`, call `initBackend` first (the engine runs
 * on the current tfjs backend). For `onnx`, the .onnx file's metadata must match the checkpoint's
 * preprocessing, labels and weights (sha256), else OnnxModelError says to export it again.
 */
export async function loadEngine(options: LoadEngineOptions): Promise<EngineWithConfig> {
  if (options.engine === 'tfjs') {
    const checkpoint: LoadedCheckpoint = await loadCheckpoint(options.checkpoint, {
      verified: options.checkpointVerified,
    });
    const engine = createTfjsEngine(checkpoint.model, { maxBatch: options.maxBatch });
    return { engine, preprocess: checkpoint.preprocess, labels: checkpoint.labels };
  }
  const checkpoint = await readCheckpointMetadata(options.checkpoint, {
    verified: options.checkpointVerified,
  });
  const onnxModel = options.onnxModel ?? defaultOnnxPath(options.checkpoint);
  assertExportOf(await readOnnxMetadata(onnxModel), onnxModel, checkpoint);
  const engine = await createOnnxEngine(onnxModel, {
    maxBatch: options.maxBatch,
    intraOpThreads: options.intraOpThreads,
  });
  return { engine, preprocess: checkpoint.preprocess, labels: checkpoint.labels };
}
