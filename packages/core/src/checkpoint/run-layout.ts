import path from 'node:path';

/**
 * The run folder `pnpm train --out checkpoints/RUN` writes, and the names every reader uses for it
 * (docs/architecture.md, "Run folder"):
 *
 *   RUN/epoch-NNN/   a checkpoint per completed epoch (resumable: it has training-state.json)
 *   RUN/latest/      a copy of the newest epoch, or the epoch in progress after a stop
 *   RUN/best/        a copy of the epoch with the best validation top-1
 *   RUN/history.json, RUN/history.csv   one EpochRecord per completed epoch
 *   RUN/curves.svg   the training curves, redrawn after each epoch
 *   RUN/best.onnx, RUN/best.int8.onnx   `pnpm trainer export` of `best` (defaultOnnxPath)
 *   RUN/best.int8.guard.json   the int8 guard's figures and decision (int8-guard.ts, int8GuardPath)
 *   RUN/test-reads.json   every `pnpm evaluate --split test` of the run's checkpoints (test-reads.ts)
 */
export const RUN_FILES = {
  historyJson: 'history.json',
  historyCsv: 'history.csv',
  curves: 'curves.svg',
  testReads: 'test-reads.json',
} as const;

/** The two copies a run keeps besides its epoch folders (update-link.ts says why copies). */
export type RunCopyName = 'latest' | 'best';
export const LATEST: RunCopyName = 'latest';
export const BEST: RunCopyName = 'best';

/** `epoch-003`: three digits sort in order for runs up to 999 epochs, more digits beyond. */
export function epochDirName(epoch: number): string {
  return `epoch-${String(epoch).padStart(3, '0')}`;
}

/** A checkpoint folder of a run: `latest`, `best` or `epoch-NNN`. */
export const CHECKPOINT_FOLDER = /^(latest|best|epoch-\d{3,})$/;

/** Every path of the run folder `runDir`. */
export function runPaths(runDir: string) {
  return {
    latest: path.join(runDir, LATEST),
    best: path.join(runDir, BEST),
    epoch: (epoch: number) => path.join(runDir, epochDirName(epoch)),
    historyJson: path.join(runDir, RUN_FILES.historyJson),
    historyCsv: path.join(runDir, RUN_FILES.historyCsv),
    curves: path.join(runDir, RUN_FILES.curves),
    testReads: path.join(runDir, RUN_FILES.testReads),
  };
}

/** The run folder of a checkpoint folder: `checkpoints/RUN/best` → `checkpoints/RUN`. */
export function runDirOf(checkpointDir: string): string {
  return path.dirname(path.resolve(checkpointDir));
}

/** Where `pnpm trainer export` writes by default: beside the folder, `checkpoints/RUN/best` → `best.onnx`. */
export function defaultOnnxPath(checkpoint: string, quantize?: 'int8'): string {
  return `${checkpoint.replace(/[\\/]+$/, '')}${quantize ? `.${quantize}` : ''}.onnx`;
}

/**
 * The int8 guard's record of an int8 export: `RUN/best.int8.onnx` → `RUN/best.int8.guard.json`. It is
 * written whether the guard kept the file or refused it, so a refusal is on record with its reason.
 */
export function int8GuardPath(int8Onnx: string): string {
  return `${int8Onnx.replace(/\.onnx$/, '')}.guard.json`;
}
