/**
 * What `pnpm train` (and the demo) do when a run finishes: export `best` to ONNX beside it, so
 * `pnpm serve` and `pnpm evaluate` (`--engine auto`) run it on ONNX Runtime without another command.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { readCheckpointMetadata } from '@food/core/checkpoint/load-checkpoint';
import { defaultOnnxPath, runPaths } from '@food/core/checkpoint/run-layout';
import { readOnnxMetadata } from '@food/core/engine/onnx-metadata';
import { exportCheckpointToOnnx } from './export-onnx.ts';

/** `float32`: best.onnx; `int8`: best.onnx and best.int8.onnx (calibrated on the training split); `none`. */
export type BestExport = 'float32' | 'int8' | 'none';
export const BEST_EXPORTS: readonly BestExport[] = ['float32', 'int8', 'none'];

export interface ExportBestOptions {
  /** The run folder; its `best` checkpoint is exported. */
  runDir: string;
  kind: BestExport;
  /** The run's prepared data set: int8 calibrates on its training split. */
  prepared: string;
  log: (line: string) => void;
}

export async function exportBest(options: ExportBestOptions): Promise<string[]> {
  const { best } = runPaths(options.runDir);
  if (options.kind === 'none') return [];
  const written: string[] = [];
  const float32 = await exportCheckpointToOnnx({ checkpoint: best, out: defaultOnnxPath(best) });
  written.push(float32.out);
  const int8Path = defaultOnnxPath(best, 'int8');
  if (options.kind === 'int8') {
    const int8 = await exportCheckpointToOnnx({
      checkpoint: best,
      out: int8Path,
      quantize: 'int8',
      calibration: { prepared: options.prepared, images: 200 },
    });
    written.push(int8.out);
  } else {
    await removeStaleExport(int8Path, best, options.log);
  }
  options.log(`exported ${written.map((file) => path.basename(file)).join(' and ')} beside ${best}`);
  return written;
}

/**
 * An int8 export left from an earlier `best` would make `--engine auto` refuse to start (it never serves
 * a model that is not the checkpoint's): remove it when it is stale, keep it when it is this best's.
 */
async function removeStaleExport(file: string, checkpoint: string, log: (line: string) => void) {
  const metadata = await readOnnxMetadata(file).catch(() => undefined);
  if (!metadata) return;
  const weightsSha256 = (await readCheckpointMetadata(checkpoint)).files['weights.bin']?.sha256;
  if (metadata.source?.weightsSha256 === weightsSha256) return;
  await rm(file, { force: true });
  log(
    `removed ${file}: it was exported from an earlier best (re-export with --quantize int8 to get it back)`,
  );
}
