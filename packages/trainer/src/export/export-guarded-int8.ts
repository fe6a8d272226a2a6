/**
 * The int8 export behind its guard: quantise to a side file, compare it with the float32 export on the
 * validation split, then move it into place (kept) or delete it (refused). The decision and both
 * figures go to `OUT.guard.json` either way. Until the guard keeps it, nothing at `out` is the new
 * int8 model, so `--engine auto` never picks an unchecked one.
 */
import { rename, rm } from 'node:fs/promises';
import {
  forcedRecord,
  guardRecord,
  type Int8GuardRecord,
  writeInt8Guard,
} from '@food/core/checkpoint/int8-guard';
import { readCheckpointMetadata } from '@food/core/checkpoint/load-checkpoint';
import { int8GuardPath } from '@food/core/checkpoint/run-layout';
import { type CalibrationSource, type ExportOnnxResult, exportCheckpointToOnnx } from './export-onnx.ts';
import { countInt8Agreement } from './guard-int8.ts';

export interface GuardedInt8Options {
  checkpoint: string;
  /** The float32 export of the same checkpoint, the reference int8 is judged against. */
  float32: string;
  out: string;
  calibration: CalibrationSource;
  /** Keep int8 without checking it (`pnpm trainer export --force`). */
  force?: boolean;
  intraOpThreads?: number;
  onCalibrationProgress?: (done: number, total: number) => void;
}

export interface GuardedInt8Result {
  /** The int8 export, now at `out` when kept. */
  export: ExportOnnxResult;
  kept: boolean;
  record: Int8GuardRecord;
  /** Where the record was written. */
  recordFile: string;
}

export async function exportGuardedInt8(options: GuardedInt8Options): Promise<GuardedInt8Result> {
  const candidate = `${options.out}.unchecked`;
  try {
    const result = await exportCheckpointToOnnx({
      checkpoint: options.checkpoint,
      out: candidate,
      quantize: 'int8',
      calibration: options.calibration,
      intraOpThreads: options.intraOpThreads,
      onCalibrationProgress: options.onCalibrationProgress,
    });
    const weightsSha256 =
      (await readCheckpointMetadata(options.checkpoint)).files['weights.bin']?.sha256 ?? '';
    const record = options.force
      ? forcedRecord(weightsSha256)
      : guardRecord(
          weightsSha256,
          await countInt8Agreement({
            float32: options.float32,
            int8: candidate,
            prepared: options.calibration.prepared,
            split: options.calibration.split,
            intraOpThreads: options.intraOpThreads,
          }),
        );
    const kept = record.decision !== 'refused';
    // A refused int8 must not leave an older int8 export behind for `--engine auto` to serve.
    if (kept) await rename(candidate, options.out);
    else await rm(options.out, { force: true });
    const recordFile = int8GuardPath(options.out);
    await writeInt8Guard(recordFile, record);
    return { export: { ...result, out: options.out }, kept, record, recordFile };
  } finally {
    await rm(candidate, { force: true });
  }
}

/** One line for the logs: the decision, the figures and where they are recorded. */
export function describeGuard(result: GuardedInt8Result): string {
  const { record, recordFile } = result;
  const verdict =
    record.decision === 'kept'
      ? 'int8 guard kept'
      : record.decision === 'forced'
        ? 'int8 guard skipped (--force), kept'
        : 'int8 guard refused (removed)';
  const serving = record.decision === 'refused' ? '; --engine auto serves the float32 export' : '';
  return `${verdict} ${result.export.out}: ${record.reason}${serving} (recorded in ${recordFile})`;
}
