/**
 * `--engine auto` (the default of `pnpm serve` and `pnpm evaluate`): the fastest engine the checkpoint
 * has an export for. ONNX Runtime runs ResNet-50 about 4× faster than tfjs on wasm (docs/benchmarks.md),
 * so an export beside the checkpoint wins; without one, tfjs runs the checkpoint itself.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { type CheckpointMetadata, readCheckpointMetadata } from '../checkpoint/load-checkpoint.ts';
import { defaultOnnxPath } from '../checkpoint/run-layout.ts';
import { assertExportOf, type EngineName } from './create-engine.ts';
import { readOnnxMetadata } from './onnx-metadata.ts';

export type EngineChoice = EngineName | 'auto';
export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'tfjs', 'onnx'];

/** What runs a checkpoint once `auto` is decided. */
export interface ResolvedEngine {
  engine: EngineName;
  /** The .onnx file for `onnx`. */
  onnxModel?: string;
  /** `float32` or `int8` for `onnx` (from the file's metadata); absent for `tfjs`. */
  precision?: 'float32' | 'int8';
  /** One line for the logs: which engine and why. */
  reason: string;
}

/**
 * Decides the engine for `choice`. `auto` takes `onnxModel` when given, else `CHECKPOINT.int8.onnx`,
 * else `CHECKPOINT.onnx`, else tfjs. An export that is there but does not belong to the checkpoint
 * (other weights by its recorded sha256, other labels or preprocessing, or no recorded checksum) is
 * refused with OnnxModelError rather than skipped: serving a stale model silently, or silently falling
 * back to the slow engine, are both worse than being told to re-export.
 */
export async function resolveEngine(
  choice: EngineChoice,
  checkpoint: string,
  onnxModel?: string,
  /** The checkpoint's metadata when the caller has read it already. */
  metadata?: CheckpointMetadata,
): Promise<ResolvedEngine> {
  if (choice === 'tfjs') return { engine: 'tfjs', reason: 'tfjs (--engine tfjs)' };
  if (choice === 'onnx') {
    const file = onnxModel ?? defaultOnnxPath(checkpoint);
    return { engine: 'onnx', onnxModel: file, reason: `onnx ${path.basename(file)} (--engine onnx)` };
  }
  const candidates = onnxModel
    ? [onnxModel]
    : [defaultOnnxPath(checkpoint, 'int8'), defaultOnnxPath(checkpoint)];
  for (const file of candidates) {
    // A file named by --onnx-model must be there; the default names only when present.
    if (!onnxModel && !(await exists(file))) continue;
    const onnxMetadata = await readOnnxMetadata(file);
    assertExportOf(onnxMetadata, file, metadata ?? (await readCheckpointMetadata(checkpoint)), true);
    const precision = onnxMetadata.quantization ? 'int8' : 'float32';
    return {
      engine: 'onnx',
      onnxModel: file,
      precision,
      reason: `onnx ${path.basename(file)} (${precision}; auto: the export beside the checkpoint)`,
    };
  }
  return {
    engine: 'tfjs',
    reason: `tfjs (auto: no ${path.basename(defaultOnnxPath(checkpoint))} beside the checkpoint; \`pnpm trainer export --checkpoint ${checkpoint}\` makes one, about 4× faster)`,
  };
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
