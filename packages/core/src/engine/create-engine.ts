/**
 * Engine selection (`--engine tfjs|onnx`) for evaluation and serving: both open a checkpoint folder
 * (preprocess.json and labels.json come from it either way) and get an InferenceEngine, without
 * knowing which runtime is behind it.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  type LoadedCheckpoint,
  loadCheckpoint,
  readCheckpointMetadata,
} from '../checkpoint/load-checkpoint.ts';
import { UserError } from '../errors.ts';
import type { Labels } from '../labels.ts';
import type { PreprocessConfig } from '../preprocess/config.ts';
import type { InferenceEngine } from './inference-engine.ts';
import { createOnnxEngine } from './onnx-engine.ts';
import { OnnxModelError, readOnnxMetadata } from './onnx-metadata.ts';
import { createTfjsEngine } from './tfjs-engine.ts';

export type EngineName = 'tfjs' | 'onnx';
export const ENGINE_NAMES: readonly EngineName[] = ['tfjs', 'onnx'];

/**
 * Parses an `--engine` value. The thrown error carries commander's `invalidArgument` code, so commander
 * prints "option '--engine <name>' argument 'x' is invalid. <message>" and exits 1.
 */
export function parseEngineName(value: string): EngineName {
  if ((ENGINE_NAMES as readonly string[]).includes(value)) return value as EngineName;
  const error = new UserError(
    `Unknown engine "${value}". Choose one of: ${ENGINE_NAMES.join(', ')}.`,
    'commander.invalidArgument',
  );
  throw Object.assign(error, { exitCode: 1 });
}

/** Where `pnpm trainer export` writes by default: beside the folder, `checkpoints/RUN/best` → `best.onnx`. */
export function defaultOnnxPath(checkpoint: string, quantize?: 'int8'): string {
  return `${checkpoint.replace(/[\\/]+$/, '')}${quantize ? `.${quantize}` : ''}.onnx`;
}

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
}

export interface EngineWithConfig {
  engine: InferenceEngine;
  preprocess: PreprocessConfig;
  labels: Labels;
}

/**
 * Opens the checkpoint with the chosen engine. For `tfjs`, call `initBackend` first (the engine runs
 * on the current tfjs backend). For `onnx`, the .onnx file's metadata must match the checkpoint's
 * preprocessing, labels and weights (sha256), else OnnxModelError says to export it again.
 */
export async function loadEngine(options: LoadEngineOptions): Promise<EngineWithConfig> {
  if (options.engine === 'tfjs') {
    const checkpoint: LoadedCheckpoint = await loadCheckpoint(options.checkpoint);
    const engine = createTfjsEngine(checkpoint.model, { maxBatch: options.maxBatch });
    return { engine, preprocess: checkpoint.preprocess, labels: checkpoint.labels };
  }
  const checkpoint = await readCheckpointMetadata(options.checkpoint);
  const onnxModel = options.onnxModel ?? defaultOnnxPath(options.checkpoint);
  const metadata = await readOnnxMetadata(onnxModel);
  const reexport = `Export it again: pnpm trainer export --checkpoint ${options.checkpoint} --format onnx --out ${onnxModel}`;
  const weightsSha256 = checkpoint.files['weights.bin']?.sha256;
  if (metadata.source && weightsSha256 && metadata.source.weightsSha256 !== weightsSha256) {
    throw new OnnxModelError(
      `${onnxModel} was exported from other weights (${metadata.source.checkpoint}) than ${options.checkpoint} holds. ${reexport}`,
    );
  }
  if (!isDeepStrictEqual(metadata.preprocess, checkpoint.preprocess)) {
    throw new OnnxModelError(
      `${onnxModel} was exported with other preprocessing than ${options.checkpoint}/preprocess.json. ${reexport}`,
    );
  }
  if (!isDeepStrictEqual(metadata.labels, checkpoint.labels)) {
    throw new OnnxModelError(
      `${onnxModel} has other labels than ${options.checkpoint}/labels.json. ${reexport}`,
    );
  }
  const engine = await createOnnxEngine(onnxModel, {
    maxBatch: options.maxBatch,
    intraOpThreads: options.intraOpThreads,
  });
  return { engine, preprocess: checkpoint.preprocess, labels: checkpoint.labels };
}
