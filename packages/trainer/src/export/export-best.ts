/**
 * What `pnpm train` (and the demo) do when a run finishes: export `best` to ONNX beside it, so
 * `pnpm serve` and `pnpm evaluate` (`--engine auto`) run it on ONNX Runtime without another command.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { readCheckpointMetadata } from '@food/core/checkpoint/load-checkpoint';
import { defaultOnnxPath, int8GuardPath, runPaths } from '@food/core/checkpoint/run-layout';
import { readOnnxMetadata } from '@food/core/engine/onnx-metadata';
import { describeGuard, exportGuardedInt8 } from './export-guarded-int8.ts';
import { exportCheckpointToOnnx } from './export-onnx.ts';

/**
 * `int8` (the default): best.onnx, and best.int8.onnx calibrated on the training split, kept only when
 * the int8 guard passes it on the validation split; `float32`: best.onnx; `none`.
 */
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
    options.log(
      `exporting ${path.basename(int8Path)} (calibrated on the training split), then checking it against ${path.basename(float32.out)} on the validation split`,
    );
    const int8 = await exportGuardedInt8({
      checkpoint: best,
      float32: float32.out,
      out: int8Path,
      // The run's own split: calibration sees none of its validation photos, the guard scores them.
      calibration: {
        prepared: options.prepared,
        images: 200,
        split: (await readCheckpointMetadata(best)).runConfig,
      },
    });
    if (int8.kept) written.push(int8.export.out);
    options.log(describeGuard(int8));
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
  await rm(int8GuardPath(file), { force: true });
  log(
    `removed ${file}: it was exported from an earlier best (re-export with --quantize int8 to get it back)`,
  );
}
